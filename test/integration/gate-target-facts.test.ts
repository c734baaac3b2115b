/**
 * The target facts `migrate up`'s gate reads (Catalog.targetFacts) against real databases:
 * existence, a row count capped past the threshold, an index standing for its table,
 * unqualified names resolved as the migrations' search_path does, and bytes.
 */
import { sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { type ResolvedConfig, resolveConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'

const { fresh } = perTestCleanup()

async function setUp(config: ResolvedConfig, statements: string[]): Promise<void> {
  await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
    for (const statement of statements) await sql.raw(statement).execute(conn.db)
  })
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: target facts of the migration gate`, () => {
    test('an empty database; then a table counted up to the cap, its index, a missing table', async () => {
      const db = await fresh(dialect)
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const facts = (names: Array<{ schema?: string; name: string }>) =>
        usingDatabase(config, { mode: 'write', command: 'test' }, (conn) =>
          conn.dialect.createCatalog(conn).targetFacts(names, { defaultSchema: config.schema, countUpTo: 10 }),
        )
      expect((await facts([{ name: 'items' }])).empty).toBe(true)

      const rows =
        dialect.name === 'postgres'
          ? ['INSERT INTO items SELECT g, g FROM generate_series(1, 50) g']
          : Array.from({ length: 50 }, (_, i) => `INSERT INTO items VALUES (${i + 1}, ${i + 1})`)
      await setUp(config, [
        'CREATE TABLE items (id integer PRIMARY KEY, n integer)',
        'CREATE INDEX items_n ON items (n)',
        ...rows,
        'CREATE TABLE few (id integer)',
        'INSERT INTO few VALUES (1)',
      ])

      const got = await facts([{ name: 'items' }, { name: 'items_n' }, { name: 'few' }, { name: 'missing' }])
      expect(got.empty).toBe(false)
      const [items, index, few, missing] = got.relations
      expect(items).toMatchObject({ name: 'items', exists: true })
      expect(items!.rows).toBeGreaterThan(10) // stopped past the cap (or the planner's estimate once analysed)
      expect(items!.bytes ?? 1).toBeGreaterThan(0)
      expect(index).toMatchObject({ name: 'items_n', exists: true })
      expect(index!.rows).toBeGreaterThan(10)
      expect(few).toMatchObject({ exists: true, rows: 1 })
      expect(few!.bytes).toBeGreaterThan(0)
      expect(missing).toMatchObject({ exists: false })
    })
  })
}

describe('postgres: a table analysed when small and grown since is not taken for small', () => {
  test('reltuples is scaled to the current pages', async () => {
    const db = await fresh(testDialects().find((d) => d.name === 'postgres')!)
    const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
    await setUp(config, [
      'CREATE TABLE grown (id integer, pad text)',
      "INSERT INTO grown SELECT g, repeat('x', 100) FROM generate_series(1, 100) g",
      'ANALYZE grown',
      "INSERT INTO grown SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g",
      'CREATE SCHEMA app',
      'CREATE TABLE app.elsewhere (id integer)',
    ])
    const got = await usingDatabase(config, { mode: 'read', command: 'test' }, (conn) =>
      conn.dialect.createCatalog(conn).targetFacts([{ name: 'grown' }, { schema: 'app', name: 'elsewhere' }, { name: 'elsewhere' }], {
        defaultSchema: 'public',
        countUpTo: 10_000,
      }),
    )
    expect(got.relations[0]!.rows).toBeGreaterThan(10_000)
    expect(got.relations[1]).toMatchObject({ exists: true, rows: 0 })
    expect(got.relations[2]).toMatchObject({ exists: false })
  })
})
