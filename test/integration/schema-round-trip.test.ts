/**
 * Round trips on both dialects, against real databases:
 * models → SQL → apply → introspect → diff is empty (with a view, a trigger and a function
 * that dbops does not manage); database → pull → load the models → diff is empty, for a
 * schema dbops wrote and for one written by hand. And typed Kysely queries on the result.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Kysely, SqliteDialect, PostgresDialect } from 'kysely'
import { afterEach, describe, expect, test } from 'vitest'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import type { SqliteConnection } from '../../src/dialects/sqlite/sqlite-connection.js'
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { pullModels } from '../../src/drift/compare-schemas.js'
import type { InferDatabase, Table } from '../../src/schema/define-models.js'
import { diffSchemas } from '../../src/schema/diff-schemas.js'
import { collectTables } from '../../src/schema/load-models.js'
import { modelsToSchema } from '../../src/schema/models-to-schema.js'
import { type DatabaseSchema, emptySchema } from '../../src/schema/normalised-schema.js'
import { formatSqlStatements, renderSchemaSql } from '../../src/schema/render-schema-sql.js'
import { summariseChange } from '../../src/schema/schema-change.js'
import { runSection } from '../support/apply-sql-migrations.js'
import { type TestDatabase, testDialects } from '../support/dialects.js'
import { HAND_WRITTEN_SQL, UNMANAGED_SQL, fixtureModels } from '../fixtures/schema/fixture-models.js'

type Conn = SqliteConnection | PostgresConnection

async function exec(conn: Conn, sqlText: string): Promise<void> {
  if ('handle' in conn) conn.handle.exec(sqlText)
  else await conn.pool.query(sqlText)
}

async function introspect(config: ResolvedConfig): Promise<DatabaseSchema> {
  return usingDatabase(config, { mode: 'read', command: 'test' }, (conn) =>
    conn.dialect.introspect(conn, { schemas: [config.schema], defaultSchema: config.schema }),
  )
}

/** Applies the SQL that turns `from` into `to`, as a migration would run it. */
async function applyDiff(config: ResolvedConfig, from: DatabaseSchema, to: DatabaseSchema): Promise<void> {
  const rendered = renderSchemaSql(diffSchemas(from, to), { from, to })
  await usingDatabase(config, { mode: 'write', command: 'test' }, (conn) =>
    runSection(
      conn as Conn,
      { sql: formatSqlStatements(rendered), options: new Set(rendered.foreignKeysOff ? ['foreign_keys:off'] : []) },
      'diff',
    ),
  )
}

/**
 * Loads a pulled models module through vitest's own module graph (its `'dbops'` import pointed
 * at this source tree): the same module as `loadModels` would give, without jiti transpiling
 * the whole of src/ again. `loadModels` itself is tested end to end with the built CLI.
 */
async function importPulled(source: string, dir: string): Promise<Table[]> {
  const file = path.join(dir, `pulled-${Math.random().toString(36).slice(2)}.ts`)
  fs.writeFileSync(file, source.replace("from 'dbops'", `from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))}`))
  return collectTables((await import(file)) as Record<string, unknown>)
}

function describeChanges(changes: ReturnType<typeof diffSchemas>): string[] {
  return changes.map(summariseChange)
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: schema round trips`, () => {
    let db: TestDatabase | undefined
    afterEach(async () => {
      await db?.cleanup()
      db = undefined
    })

    test('models → SQL → apply → introspect: no changes; unmanaged objects listed, never drift; pull → load → no changes', async () => {
      db = await dialect.create()
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const models = fixtureModels(dialect.name)
      const target = modelsToSchema(models, dialect.name)
      await applyDiff(config, emptySchema(dialect.name), target)
      await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
        for (const statement of UNMANAGED_SQL[dialect.name]) await exec(conn as Conn, statement)
      })

      const live = await introspect(config)
      expect(describeChanges(diffSchemas(live, target))).toEqual([])
      expect(live.tables.map((t) => t.name).sort()).toEqual(['audit_log', 'counters', 'memberships', 'teams', 'tokens', 'users'])
      const unmanaged = live.unmanaged.map((u) => `${u.kind} ${u.name}`).sort()
      expect(unmanaged).toEqual(
        dialect.name === 'sqlite'
          ? ['trigger users_touch', 'view active_users']
          : ['function touch_updated_at()', 'trigger users_touch', 'view active_users'],
      )

      // the pulled models load back to the same schema
      const pulled = await pullModels(config, { connect: { mode: 'read', command: 'test' } })
      const tables = await importPulled(pulled.source, db.dir)
      expect(describeChanges(diffSchemas(live, modelsToSchema(tables, dialect.name)))).toEqual([])
      expect(pulled.source).toContain("import { col, defineModels, raw, table } from 'dbops'")
      expect(pulled.source).toMatch(/Not managed by dbops \(left as they are\): .*view active_users/)
    })

    test('a schema written by hand: pull → load → no changes; dbops_migrations and schema_migrations left out', async () => {
      db = await dialect.create()
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      await usingDatabase(config, { mode: 'write', command: 'test' }, (conn) => exec(conn as Conn, HAND_WRITTEN_SQL[dialect.name]))
      const live = await introspect(config)
      expect(live.tables.map((t) => t.name).sort()).toEqual(['Accounts', 'lines', 'orders'])
      const accounts = live.tables.find((t) => t.name === 'Accounts')!
      expect(accounts.checks.length).toBeGreaterThan(0)
      expect(accounts.indexes.map((i) => i.columns[0]!.kind)).toContain('expression')
      const lines = live.tables.find((t) => t.name === 'lines')!
      // a foreign key without a column list references the parent's primary key
      expect(lines.foreignKeys[0]).toMatchObject({
        columns: ['account_id', 'number'],
        referencedTable: 'orders',
        referencedColumns: ['account_id', 'number'],
        onUpdate: 'cascade',
      })

      const pulled = await pullModels(config, { connect: { mode: 'read', command: 'test' } })
      const again = modelsToSchema(await importPulled(pulled.source, db.dir), dialect.name)
      expect(describeChanges(diffSchemas(live, again))).toEqual([])
      if (dialect.name === 'sqlite') {
        expect(pulled.source).toContain('.autoincrement()')
        expect(pulled.source).toContain(".collate('nocase')")
      } else {
        expect(pulled.source).toContain("col.enum(['free', 'pro', 'team'], { name: 'plan' })")
        expect(pulled.source).toContain("col.custom('text[]')")
        expect(pulled.source).toContain('.serial()')
        expect(pulled.source).toContain('.identity({ always: true })')
        expect(pulled.source).toContain("method: 'gin'")
        expect(live.unmanaged).toContainEqual({ kind: 'sequence', name: 'invoice_numbers' })
      }
    })

    test('typed Kysely queries on a database made from the models', async () => {
      db = await dialect.create()
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const models = fixtureModels(dialect.name)
      await applyDiff(config, emptySchema(dialect.name), modelsToSchema(models, dialect.name))
      await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
        type DB = InferDatabase<typeof models>
        const typed =
          'handle' in conn
            ? new Kysely<DB>({ dialect: new SqliteDialect({ database: (conn as SqliteConnection).handle }) })
            : new Kysely<DB>({ dialect: new PostgresDialect({ pool: (conn as PostgresConnection).pool }) })
        await typed.insertInto('teams').values({ name: 'core', slug: 'core' }).execute()
        await typed.insertInto('users').values({ email: 'ada@example.com', balance: 10, settings: '{}' }).execute()
        const rows = await typed.selectFrom('users').select(['id', 'email', 'status', 'display_name']).execute()
        expect(rows).toEqual([{ id: expect.anything(), email: 'ada@example.com', status: 'active', display_name: null }])
        // identity ALWAYS: the database numbers the rows
        await typed.insertInto('tokens').values({ value: 'a' }).execute()
        expect(await typed.selectFrom('tokens').select('value').execute()).toEqual([{ value: 'a' }])
      })
    })
  })
}
