/**
 * `migrate up` lints the pending migrations first: an error-level finding on a large table that
 * exists stops the run before anything is applied (exit 3), unless an ignore comment or
 * `--allow-unsafe` lets it through; findings on tables that do not exist yet, are created in
 * the same run, or are small become warnings. Through the built CLI, on real databases.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const postgres = testDialects().find((d) => d.name === 'postgres')!
const sqlite = testDialects().find((d) => d.name === 'sqlite')!

/** Config with a low threshold: a table of more than 10 rows is large. */
function writeConfig(
  p: MigrationProject,
  smallTable: { rows?: number; bytes?: number } = { rows: 10 },
  rules?: Record<string, string>,
): void {
  fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ lint: { smallTable, rules } }))
}

describe('postgres: migrate up runs the lint first', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(postgres)
    writeConfig(p)
  })
  afterEach(async () => {
    await p.cleanup()
  })
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['migrate', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url, ...extra }, timeoutMs: 60_000 })

  test('a long history of plain CREATE TABLE + CREATE INDEX into an empty database is never blocked', async () => {
    for (let i = 1; i <= 60; i++) {
      const version = `2025010100${String(i).padStart(4, '0')}`
      p.write(
        `${version}_t${i}.sql`,
        sqlMigration(
          `CREATE TABLE t${i} (id serial PRIMARY KEY, ref integer, note text);\nCREATE INDEX t${i}_ref ON t${i} (ref);\nCREATE INDEX t1_note_${i} ON t1 (note);`,
        ),
      )
    }
    const up = await cli(['up', '--json'])
    expect(up.code, up.stderr).toBe(0)
    expect((await p.rows()).length).toBe(60)
    expect(up.stderr).not.toMatch(/^error/m)
    expect(up.json().lint).toMatchObject({ blocked: false, notes: [expect.stringContaining('holds no tables yet')] })
  })

  /** `orders` with 50 rows, applied; then a plain CREATE INDEX on it is pending. */
  async function largeOrders(index = 'CREATE INDEX orders_total ON orders (total);') {
    p.write(
      '20250101000001_orders.sql',
      sqlMigration(
        'CREATE TABLE orders (id integer PRIMARY KEY, total integer);\nINSERT INTO orders SELECT g, g FROM generate_series(1, 50) g;',
      ),
    )
    expect((await cli(['up'])).code).toBe(0)
    return p.write('20250101000002_orders_total.sql', sqlMigration(index))
  }

  test('a plain CREATE INDEX on a table above the threshold stops up before anything is applied: exit 3, text, JSON, annotation', async () => {
    await largeOrders()
    p.write('20250101000003_later.sql', sqlMigration('CREATE TABLE later (id integer);'))
    const up = await cli(['up'], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: p.dir })
    expect(up.code, up.stderr).toBe(3)
    expect(up.stderr).toMatch(/migrations\/20250101000002_orders_total\.sql:2:\d+ .*create-index-non-concurrently/)
    expect(up.stderr).toMatch(
      /^::error file=migrations\/20250101000002_orders_total\.sql,line=2,col=\d+,title=dbops lint%3A create-index-non-concurrently::/m,
    )
    expect(up.stderr).toMatch(/^error: .*unsafe/m)
    expect(up.stderr).toMatch(/^hint: .*-- dbops:lint-ignore create-index-non-concurrently <reason>.*--allow-unsafe/m)
    expect(up.stderr).not.toContain('applied 2025')
    expect((await p.rows()).length).toBe(1)
    expect(await p.tables()).toEqual(['orders'])

    const json = await cli(['up', '--json'])
    expect(json.code).toBe(3)
    const doc = json.json()
    expect(doc.error).toMatchObject({ code: 'UNSAFE_MIGRATION' })
    expect(doc.lint.blocked).toBe(true)
    expect(doc.lint.findings).toEqual([
      expect.objectContaining({
        rule: 'create-index-non-concurrently',
        severity: 'error',
        file: 'migrations/20250101000002_orders_total.sql',
        line: 2,
        tables: [expect.objectContaining({ name: 'orders' })],
      }),
    ])
    expect(doc.results.every((r: { status: string }) => r.status === 'not_run')).toBe(true)

    const dry = await cli(['up', '--dry-run'])
    expect(dry.code).toBe(3)
    expect(dry.stderr).toContain('create-index-non-concurrently')
    expect((await p.rows()).length).toBe(1)
  })

  test('with an ignore comment the same index is applied', async () => {
    await largeOrders(
      '-- dbops:lint-ignore create-index-non-concurrently built during the maintenance window\nCREATE INDEX orders_total ON orders (total);',
    )
    const up = await cli(['up'])
    expect(up.code, up.stderr).toBe(0)
    expect((await p.rows()).length).toBe(2)
  })

  test('--allow-unsafe applies it, says so on stderr and in JSON, and records it in the history row', async () => {
    await largeOrders()
    const up = await cli(['up', '--allow-unsafe', '--json'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.stderr).toMatch(/--allow-unsafe/)
    const doc = up.json()
    expect(doc.lint).toMatchObject({ allow_unsafe: true, blocked: false })
    expect(doc.lint.findings[0]).toMatchObject({ rule: 'create-index-non-concurrently', severity: 'error' })
    const rows = await p.query<{ version: string; allowed_unsafe: string | null }>(
      'SELECT version, allowed_unsafe FROM dbops_migrations ORDER BY version',
    )
    expect(rows[0]!.allowed_unsafe).toBeNull()
    expect(rows[1]!.allowed_unsafe).toMatch(/create-index-non-concurrently at line 2/)
  })

  test('SQL the parser refuses in a pending migration: exit 2 naming file and line, nothing of the run applied', async () => {
    await largeOrders('CREATE INDEX orders_total ON orders (total);')
    p.write('20250101000003_broken.sql', sqlMigration('CREATE TABLE broken (id integer,);'))
    const up = await cli(['up'])
    expect(up.code, up.stderr).toBe(2)
    expect(up.stderr).toMatch(/^error: migrations\/20250101000003_broken\.sql:2:\d+: SQL does not parse/m)
    expect((await p.rows()).length).toBe(1)
  })

  test('a table under the threshold, or created in the same run: a warning that says why, and the run goes on', async () => {
    writeConfig(p, { rows: 100 })
    await largeOrders()
    p.write('20250101000003_fresh.sql', sqlMigration('CREATE TABLE fresh (id integer);\nINSERT INTO fresh VALUES (1);'))
    p.write('20250101000004_fresh_idx.sql', sqlMigration('CREATE INDEX fresh_id ON fresh (id);'))
    const up = await cli(['up', '--json'])
    expect(up.code, up.stderr).toBe(0)
    const findings = up.json().lint.findings
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: 'create-index-non-concurrently',
        severity: 'warning',
        downgraded: expect.stringMatching(/orders.*small/),
      }),
    )
    expect(up.stderr).toMatch(/warning/)
    expect((await p.rows()).length).toBe(4)
  })

  test('a dropped column breaks the running application whatever the size: a small table does not make it a warning', async () => {
    writeConfig(p, { rows: 100 })
    await largeOrders('ALTER TABLE orders DROP COLUMN total;')
    const up = await cli(['up', '--json'])
    expect(up.code, up.stderr).toBe(3)
    expect(up.json().lint.findings).toContainEqual(expect.objectContaining({ rule: 'drop-column', severity: 'error' }))
    expect((await p.rows()).length).toBe(1)
  })
})

describe('sqlite: migrate up runs the lint first', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(sqlite)
    // a warning by default: the gate stops on errors only
    writeConfig(p, { rows: 10 }, { 'sqlite-table-rebuild': 'error' })
  })
  afterEach(async () => {
    await p.cleanup()
  })
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['migrate', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url, ...extra }, timeoutMs: 60_000 })

  test('a table rebuild of a large table stops up (exit 3); the same on an empty database applies', async () => {
    const seed = sqlMigration(
      'CREATE TABLE items (id integer PRIMARY KEY, name text);\nWITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50) INSERT INTO items SELECT n, n FROM g;',
    )
    const rebuild = sqlMigration(SQLITE_REBUILD, undefined, 'foreign_keys:off')
    p.write('20250101000001_items.sql', seed)
    expect((await cli(['up'])).code).toBe(0)
    p.write('20250101000002_rebuild.sql', rebuild)
    const up = await cli(['up'])
    expect(up.code, up.stderr).toBe(3)
    expect(up.stderr).toContain('sqlite-table-rebuild')
    expect((await p.rows()).length).toBe(1)

    const allowed = await cli(['up', '--allow-unsafe'])
    expect(allowed.code, allowed.stderr).toBe(0)
    const rows = await p.query<{ allowed_unsafe: string | null }>('SELECT allowed_unsafe FROM dbops_migrations ORDER BY version')
    expect(rows[1]!.allowed_unsafe).toContain('sqlite-table-rebuild')
  })

  test('an empty database: the same two files apply at once', async () => {
    p.write('20250101000001_items.sql', sqlMigration('CREATE TABLE items (id integer PRIMARY KEY, name text);'))
    p.write('20250101000002_rebuild.sql', sqlMigration(SQLITE_REBUILD, undefined, 'foreign_keys:off'))
    const up = await cli(['up'])
    expect(up.code, up.stderr).toBe(0)
    expect((await p.rows()).length).toBe(2)
  })
})

/** The table rebuild recipe: what SQLite needs for a change ALTER TABLE cannot make. */
const SQLITE_REBUILD = [
  'CREATE TABLE items_new (id integer PRIMARY KEY, name text NOT NULL);',
  "INSERT INTO items_new SELECT id, coalesce(name, '') FROM items;",
  'DROP TABLE items;',
  'ALTER TABLE items_new RENAME TO items;',
].join('\n')
