/**
 * Models in several PostgreSQL schemas against the real server: the SQL dbops writes from
 * nothing makes the schemas and their objects, introspection of those schemas gives the
 * models back, and Kysely queries `auth.users` as `InferDatabase` types it.
 */
import { Kysely, PostgresDialect } from 'kysely'
import { describe, expect, test } from 'vitest'
import { col, defineModels, table } from '../../src/index.js'
import type { InferDatabase } from '../../src/schema/define-models.js'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import { resolveConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { diffSchemas } from '../../src/schema/diff-schemas.js'
import { modelsToSchema } from '../../src/schema/models-to-schema.js'
import { emptySchema } from '../../src/schema/normalised-schema.js'
import { formatSqlStatements, renderSchemaSql } from '../../src/schema/render-schema-sql.js'
import { summariseChange } from '../../src/schema/schema-change.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'

const users = table('users', { id: col.bigint().primaryKey().identity(), email: col.text().unique() }, { schema: 'auth' })
const profiles = table(
  'profiles',
  {
    id: col.bigint().primaryKey().identity(),
    user_id: col.bigint().references('auth.users', 'id', { onDelete: 'cascade' }),
    mood: col.enum(['happy', 'sad'], { name: 'mood' }).default('happy'),
  },
  { schema: 'app', indexes: [{ columns: ['user_id'], where: "mood = 'sad'" }] },
)
const settings = table('settings', { key: col.text().primaryKey(), mood: col.enum(['happy', 'sad'], { name: 'app.mood' }).nullable() })
const models = defineModels({ users, profiles, settings })

const postgres = testDialects().find((d) => d.name === 'postgres')!
const { fresh } = perTestCleanup()

describe('postgres: models in three schemas', () => {
  test('from nothing: the SQL makes the schemas, introspection gives the models back, Kysely queries auth.users', async () => {
    const db = await fresh(postgres)
    const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
    const target = modelsToSchema(models, 'postgres')
    const rendered = renderSchemaSql(diffSchemas(emptySchema('postgres'), target), { from: emptySchema('postgres'), to: target })
    await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
      await (conn as PostgresConnection).pool.query(formatSqlStatements(rendered))
      const live = await conn.dialect.introspect(conn, { schemas: ['public', 'app', 'auth'], defaultSchema: 'public' })
      expect(diffSchemas(live, target).map(summariseChange)).toEqual([])
      // public alone: the app enum its table uses is read with its values
      const publicOnly = await conn.dialect.introspect(conn, { schemas: ['public'], defaultSchema: 'public' })
      expect(publicOnly.tables.map((t) => t.name)).toEqual(['settings'])
      expect(publicOnly.enums).toEqual([{ name: 'mood', schema: 'app', values: ['happy', 'sad'] }])

      const kysely = new Kysely<InferDatabase<typeof models, 'postgres'>>({
        dialect: new PostgresDialect({ pool: (conn as PostgresConnection).pool }),
      })
      const { id } = await kysely.insertInto('auth.users').values({ email: 'ann@example.com' }).returning('id').executeTakeFirstOrThrow()
      await kysely.insertInto('app.profiles').values({ user_id: id }).execute()
      const rows = await kysely
        .selectFrom('app.profiles')
        .innerJoin('auth.users', 'auth.users.id', 'app.profiles.user_id')
        .select(['auth.users.email', 'app.profiles.mood'])
        .execute()
      expect(rows).toEqual([{ email: 'ann@example.com', mood: 'happy' }])
    })
  })
})
