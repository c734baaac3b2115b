/**
 * Several PostgreSQL schemas in the pure parts: models with `{ schema }` and qualified
 * references, the diff matching tables by (schema, name), SQL naming objects outside the
 * default schema qualified, `schema pull`'s source, and the Kysely keys `InferDatabase` gives.
 */
import { describe, expect, expectTypeOf, test } from 'vitest'
import { type InferDatabase, col, defineModels, modelsToSchema, table } from 'dbops'
import { diffSchemas } from '../../src/schema/diff-schemas.js'
import { renderModelsSource } from '../../src/schema/render-models-source.js'
import { formatSqlStatements, renderSchemaSql } from '../../src/schema/render-schema-sql.js'
import { invertChange, summariseChange } from '../../src/schema/schema-change.js'
import type { DatabaseSchema } from '../../src/schema/normalised-schema.js'

const settings = table('settings', { key: col.text().primaryKey(), value: col.text().nullable() })
const publicUsers = table('users', { id: col.integer().primaryKey(), nickname: col.text() })
const authUsers = table('users', { id: col.bigint().primaryKey().identity(), email: col.text().unique() }, { schema: 'auth' })
const profiles = table(
  'profiles',
  {
    id: col.bigint().primaryKey().identity(),
    user_id: col.bigint().references('auth.users', 'id', { onDelete: 'cascade' }),
    mood: col.enum(['happy', 'sad'], { name: 'mood' }).default('happy'),
    deleted_at: col.timestamptz().nullable(),
  },
  { schema: 'app', indexes: [{ columns: ['user_id'], name: 'profiles_live_idx', where: 'deleted_at IS NULL' }] },
)
const posts = table('posts', { id: col.bigint().primaryKey(), profile_id: col.bigint().references('profiles', 'id') }, { schema: 'app' })
const models = defineModels({ settings, publicUsers, authUsers, profiles, posts })

const target = () => modelsToSchema(models, 'postgres', { source: 'models.ts' })
const empty = (): DatabaseSchema => ({ dialect: 'postgres', tables: [], enums: [], unmanaged: [] })
const sqlOf = (from: DatabaseSchema, to: DatabaseSchema) => formatSqlStatements(renderSchemaSql(diffSchemas(from, to), { from, to }))

describe('models in several schemas', () => {
  test('a table carries its schema; unqualified references mean its own schema, qualified ones another', () => {
    const schema = target()
    const byKey = new Map(schema.tables.map((t) => [`${t.schema ?? ''}.${t.name}`, t]))
    expect([...byKey.keys()]).toEqual(['.settings', '.users', 'auth.users', 'app.profiles', 'app.posts'])
    expect(byKey.get('app.profiles')!.foreignKeys[0]).toMatchObject({ referencedTable: 'users', referencedSchema: 'auth' })
    expect(byKey.get('app.posts')!.foreignKeys[0]).toMatchObject({ referencedTable: 'profiles', referencedSchema: 'app' })
    expect(byKey.get('app.profiles')!.columns.find((c) => c.name === 'mood')!.type).toBe('enum:app.mood')
    expect(schema.enums).toEqual([{ name: 'mood', schema: 'app', values: ['happy', 'sad'] }])
  })

  test('the default schema stays implicit, named or not, and follows DATABASE_SCHEMA', () => {
    const named = modelsToSchema([table('t', { id: col.integer() }, { schema: 'public' })], 'postgres')
    expect(named.tables[0]!.schema).toBeUndefined()
    const inApp = modelsToSchema([table('t', { id: col.integer() }, { schema: 'app' })], 'postgres')
    expect(diffSchemas(named, inApp).map(summariseChange)).toEqual(['create table app.t (1 column)', 'drop table t'])
    const elsewhere = modelsToSchema([table('t', { id: col.integer() })], 'postgres', { defaultSchema: 'app' })
    expect(
      diffSchemas(elsewhere, modelsToSchema([table('t', { id: col.integer() }, { schema: 'app' })], 'postgres', { defaultSchema: 'app' })),
    ).toEqual([])
  })

  test.each([
    {
      name: 'one name twice in a schema',
      tables: () => [table('users', { id: col.integer() }, { schema: 'app' }), table('users', { id: col.integer() }, { schema: 'app' })],
      message: 'two tables are named app.users',
    },
    {
      name: 'a reference to a missing table of a modelled schema',
      tables: () => [table('posts', { user_id: col.integer().references('people', 'id') }, { schema: 'app' })],
      message: 'app.posts(user_id) references table app.people, which the models do not have',
    },
  ])('error: $name', ({ tables, message }) => {
    expect(() => modelsToSchema(tables(), 'postgres', { source: 'models.ts' })).toThrow(message)
  })

  test('a reference into a schema the models leave out is taken on trust', () => {
    const schema = modelsToSchema([table('posts', { user_id: col.integer().references('auth.users', 'id') })], 'postgres')
    expect(schema.tables[0]!.foreignKeys[0]).toMatchObject({ referencedSchema: 'auth', referencedTable: 'users' })
  })

  test('SQLite has no schemas: a table in one is an error', () => {
    expect(() => modelsToSchema([table('t', { id: col.integer() }, { schema: 'app' })], 'sqlite', { source: 'models.ts' })).toThrow(
      'models.ts: table t is in schema app, but SQLite has no schemas',
    )
  })

  test('InferDatabase keys a table in a schema as Kysely does: app.profiles', () => {
    expectTypeOf<keyof InferDatabase<typeof models, 'postgres'>>().toEqualTypeOf<
      'settings' | 'users' | 'auth.users' | 'app.profiles' | 'app.posts'
    >()
    expectTypeOf<InferDatabase<typeof models, 'postgres'>['auth.users']['email']>().toEqualTypeOf<string>()
  })
})

describe('diff and SQL over several schemas', () => {
  test('users and auth.users are two tables; a change to one names its schema', () => {
    const before = target()
    const after = modelsToSchema(
      defineModels({
        settings,
        publicUsers,
        authUsers: table(
          'users',
          { id: col.bigint().primaryKey().identity(), email: col.text().unique(), bio: col.text().nullable() },
          { schema: 'auth' },
        ),
        profiles,
        posts,
      }),
      'postgres',
    )
    const changes = diffSchemas(before, after)
    expect(changes.map(summariseChange)).toEqual(['add column auth.users.bio text null'])
    expect(changes[0]).toMatchObject({ kind: 'add_column', table: 'users', schema: 'auth' })
    expect(invertChange(changes[0]!)).toMatchObject({ kind: 'drop_column', table: 'users', schema: 'auth' })
    expect(sqlOf(before, after)).toContain('ALTER TABLE auth.users ADD COLUMN bio text;')
  })

  test('creating the schemas objects: types, tables, indexes and foreign keys qualified outside the default schema', () => {
    const sql = sqlOf(empty(), target())
    // schemas the database may not have yet are made once, before their first object
    expect(sql.match(/CREATE SCHEMA IF NOT EXISTS app;/g)).toHaveLength(1)
    expect(sql.indexOf('CREATE SCHEMA IF NOT EXISTS app;')).toBeLessThan(sql.indexOf('CREATE TYPE app.mood'))
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS auth;')
    expect(sql).not.toContain('CREATE SCHEMA IF NOT EXISTS public')
    expect(sqlOf(target(), target())).toBe('')
    expect(sql).toContain("CREATE TYPE app.mood AS ENUM ('happy', 'sad');")
    expect(sql).toContain('CREATE TABLE app.profiles (')
    expect(sql).toContain("mood app.mood NOT NULL DEFAULT 'happy'")
    expect(sql).toContain('CREATE INDEX profiles_live_idx ON app.profiles (user_id) WHERE deleted_at IS NULL;')
    expect(sql).toContain(
      'ALTER TABLE app.profiles ADD CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE;',
    )
    expect(sql).toContain('CREATE TABLE settings (')
    expect(sql).toContain('CREATE TABLE users (')
    expect(sql).toContain('CREATE TABLE auth.users (')
  })

  test('drops, renames and enum changes name their schema', () => {
    const before = target()
    const renamed = modelsToSchema(
      defineModels({
        settings,
        publicUsers,
        authUsers,
        profiles: table(
          'profiles',
          { ...profiles.columns, mood: col.enum(['sad', 'happy'], { name: 'mood' }).default('happy') },
          { schema: 'app' },
        ),
        articles: table('articles', posts.columns, { schema: 'app', renamedFrom: 'posts' }),
      }),
      'postgres',
    )
    const sql = sqlOf(before, renamed)
    expect(sql).toContain('DROP INDEX app.profiles_live_idx;')
    expect(sql).toContain('ALTER TABLE app.posts RENAME TO articles;')
    expect(sql).toContain('ALTER TYPE app.mood RENAME TO mood__old;')
    expect(sql).toContain('ALTER TABLE app.profiles ALTER COLUMN mood TYPE app.mood USING mood::text::app.mood;')
    expect(sql).toContain('DROP TYPE app.mood__old;')
    // dropping a schema's tables: children first, each qualified
    expect(sqlOf(before, modelsToSchema(defineModels({ settings, publicUsers }), 'postgres'))).toContain(
      'DROP TABLE app.posts, app.profiles, auth.users;',
    )
  })
})

describe('schema pull source', () => {
  test('tables outside the default schema get { schema }, references elsewhere are qualified, one-schema files unchanged', () => {
    const source = renderModelsSource(target())
    expect(source).toContain("export const appProfiles = table(\n  'profiles',")
    expect(source).toContain("user_id: col.bigint().references('auth.users', 'id', { onDelete: 'cascade' }),")
    expect(source).toContain("profile_id: col.bigint().references('profiles', 'id'),")
    expect(source).toContain("mood: col.enum(['happy', 'sad'], { name: 'mood' }).default('happy'),")
    expect(source).toContain("    schema: 'app',")
    expect(source).toContain("export const users = table(\n  'users',")
    expect(source).toContain('export const authUsers = table(')
    const oneSchema = renderModelsSource(modelsToSchema([settings], 'postgres'))
    expect(oneSchema).not.toContain('schema:')
  })
})
