/**
 * `dbops copy` end to end: the built CLI copies an application-like SQLite database (see
 * test/fixtures/copy/app-database.ts) into the test PostgreSQL and back, verified; `schema diff`
 * of the copy against models pulled from the source is empty and `migrate status` on it is
 * meaningful; and every bad input: a non-empty target, an unreachable one (4), a wrong
 * password (7), a value that does not convert, SIGINT mid-copy (PostgreSQL untouched, no
 * partial SQLite file), and a source written to during the copy (a consistent snapshot).
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { type CliResult, makeTempDir, runCli, waitFor } from '../support/cli.js'
import { type TestDatabase, createTestDatabase, withUrl } from '../support/postgres.js'
import { freePort } from '../support/tcp.js'
import { APP_SCHEMA, fillAppDatabase } from '../fixtures/copy/app-database.js'

const ROWS = 500 // accounts: 500 + 1,000 orders + 3,000 lines

function expectOneLineError(result: CliResult, message: RegExp) {
  const lines = result.stderr.trim().split('\n')
  const at = lines.findIndex((l) => l.startsWith('error: '))
  expect(lines[at]).toMatch(message)
  expect(lines[at + 1]).toMatch(/^hint: /)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

async function query(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

async function tablesOf(url: string): Promise<string[]> {
  return (
    await query(
      url,
      "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace WHERE nspname = 'public' AND relkind = 'r' ORDER BY 1",
    )
  ).map((r) => r.relname)
}

describe('copy an application database SQLite → PostgreSQL → SQLite', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let db: TestDatabase
  const dbs: TestDatabase[] = []
  const newDatabase = async () => {
    const made = await createTestDatabase(inject('pgAdminUrl'), 'dbops_copy')
    dbs.push(made)
    return made
  }
  beforeAll(async () => {
    tmp = makeTempDir()
    fs.mkdirSync(path.join(tmp.dir, 'migrations'))
    fs.writeFileSync(path.join(tmp.dir, 'migrations', '20250101000000_app.sql'), `-- migrate:up\n${APP_SCHEMA}`)
    const up = await runCli(['migrate', 'up', '--url', 'sqlite:app.db'], { cwd: tmp.dir })
    expect(up.code, up.stderr).toBe(0)
    const handle = new Database(path.join(tmp.dir, 'app.db'))
    fillAppDatabase(handle, ROWS)
    handle.close()
    db = await newDatabase()
  }, 60_000)
  afterAll(async () => {
    for (const d of dbs) await d.drop()
    tmp?.cleanup()
  })

  test('copies with equal counts and checksums both ways; the view and the generated column are listed as not copied', async () => {
    const to = await runCli(['copy', '--from', 'sqlite:app.db', '--to', db.url, '--json'], { cwd: tmp.dir })
    expect(to.code, to.stderr).toBe(0)
    const doc = to.json()
    expect(doc.tables.map((t: any) => [t.name, t.rows, t.target_rows, t.match])).toEqual([
      ['Account', ROWS, ROWS, true],
      ['order', ROWS * 2, ROWS * 2, true],
      ['OrderLine', ROWS * 6, ROWS * 6, true],
    ])
    expect(doc.not_copied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'view', name: 'ActiveAccounts' }),
        expect.objectContaining({ kind: 'generated_column', name: 'Account.Upper' }),
      ]),
    )
    expect(doc.history).toEqual({ head: '20250101000000', rows: 1 })
    expect(to.stderr).toMatch(/^copied OrderLine: 3,000 rows in /m)
    expect(to.stderr).not.toContain(new URL(db.url).password)

    // the PostgreSQL side: types, keys, and an identity that goes on past the data
    const columns = await query(
      db.url,
      `SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '"Account"'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    )
    expect(Object.fromEntries(columns.map((c) => [c.attname, c.t]))).toEqual({
      Id: 'integer',
      Email: 'character varying(120)',
      DisplayName: 'character varying(60)',
      IsActive: 'boolean',
      CreatedAt: 'timestamp without time zone',
      Balance: 'numeric(12,2)',
      Rating: 'double precision',
      Avatar: 'bytea',
    })
    const [inserted] = await query(
      db.url,
      `INSERT INTO "Account" ("Email") VALUES ('new@example.com') RETURNING "Id", "IsActive", "Balance"`,
    )
    expect(inserted).toEqual({ Id: ROWS + 1, IsActive: true, Balance: '0.00' })
    await query(db.url, `DELETE FROM "Account" WHERE "Id" = ${ROWS + 1}`)
    await expect(query(db.url, `INSERT INTO "order" VALUES (1, 99, -1, NULL)`)).rejects.toThrow(/check constraint/)
    await expect(query(db.url, `INSERT INTO "OrderLine" ("AccountId", "Number", sku) VALUES (1, 99, 'x')`)).rejects.toThrow(/foreign key/)

    // migrate status on the copy: the source's migration, applied
    const status = await runCli(['migrate', 'status', '--url', db.url, '--exit-code', '--json'], { cwd: tmp.dir })
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.stringify(status.json())).toContain('20250101000000')

    // schema diff of the copy against models pulled from the source: empty
    const pulled = await runCli(['schema', 'pull', '--url', 'sqlite:app.db', '--out', 'models.ts'], { cwd: tmp.dir })
    expect(pulled.code, pulled.stderr).toBe(0)
    const diff = await runCli(['schema', 'diff', '--url', db.url, '--models', 'models.ts', '--exit-code'], { cwd: tmp.dir })
    expect(diff.stdout + diff.stderr).toMatch(/No differences/)
    expect(diff.code).toBe(0)

    // and back into SQLite: the same counts and checksums
    const back = await runCli(['copy', '--from', db.url, '--to', 'sqlite:back.db', '--json'], { cwd: tmp.dir })
    expect(back.code, back.stderr).toBe(0)
    const sums = (d: any) => d.tables.map((t: any) => [t.name, t.rows, t.source_checksum]).sort()
    expect(sums(back.json())).toEqual(sums(doc))
    const handle = new Database(path.join(tmp.dir, 'back.db'), { readonly: true })
    expect(handle.prepare('SELECT count(*) FROM "OrderLine"').pluck().get()).toBe(ROWS * 6)
    handle.close()

    // text output: the verification table
    const again = await runCli(['copy', '--from', 'sqlite:app.db', '--to', 'sqlite:again.db', '--tables', 'Account'], { cwd: tmp.dir })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/^Account\s+500\s+500\s+[0-9a-f]{16}\s+ok$/m)
  }, 60_000)

  test('a target that is not empty: exit 2 naming its tables; --truncate loads into them, refused in production without --yes', async () => {
    const target = await newDatabase()
    await query(
      target.url,
      'CREATE TABLE "Account" ("Id" integer PRIMARY KEY, "Email" text, "DisplayName" text, "IsActive" boolean, "CreatedAt" timestamp, "Balance" numeric, "Rating" float8, "Avatar" bytea); INSERT INTO "Account" ("Id") VALUES (99999)',
    )
    const refused = await runCli(['copy', '--from', 'sqlite:app.db', '--to', target.url, '--tables', 'Account'], { cwd: tmp.dir })
    expect(refused.code).toBe(2)
    expectOneLineError(refused, /is not empty: Account/)
    const json = await runCli(['copy', '--from', 'sqlite:app.db', '--to', target.url, '--json'], { cwd: tmp.dir })
    expect(json.code).toBe(2)
    expect(json.json().error.code).toBe('COPY_TARGET_NOT_EMPTY')

    const guarded = await runCli(['copy', '--from', 'sqlite:app.db', '--to', target.url, '--tables', 'Account', '--truncate'], {
      cwd: tmp.dir,
      env: { NODE_ENV: 'production' },
    })
    expect(guarded.code).toBe(2)
    expectOneLineError(guarded, /Refusing to truncate/)
    const truncated = await runCli(['copy', '--from', 'sqlite:app.db', '--to', target.url, '--tables', 'Account', '--truncate', '--json'], {
      cwd: tmp.dir,
    })
    expect(truncated.code, truncated.stderr).toBe(0)
    expect(truncated.json().tables[0]).toMatchObject({ name: 'Account', rows: ROWS, match: true, existing: true })
    expect(await query(target.url, 'SELECT count(*)::int AS n, max("Id") AS m FROM "Account"')).toEqual([{ n: ROWS, m: ROWS }])
  }, 30_000)

  test('unreachable target: exit 4; wrong password: exit 7, the password never shown', async () => {
    const port = await freePort()
    const unreachable = await runCli(['copy', '--from', 'sqlite:app.db', '--to', `postgres://u:secret-pw@127.0.0.1:${port}/x`], {
      cwd: tmp.dir,
      env: { DATABASE_CONNECT_TIMEOUT: '1', DATABASE_MAX_RETRIES: '0' },
    })
    expect(unreachable.code).toBe(4)
    expect(unreachable.stderr).not.toContain('secret-pw')
    const wrong = withUrl(db.url, { password: 'not-the-password-xyz' })
    const denied = await runCli(['copy', '--from', 'sqlite:app.db', '--to', wrong, '--json'], { cwd: tmp.dir })
    expect(denied.code).toBe(7)
    expect(denied.stdout + denied.stderr).not.toContain('not-the-password-xyz')
    expect(fs.existsSync(path.join(tmp.dir, 'missing.db'))).toBe(false)
    const missing = await runCli(['copy', '--from', 'sqlite:missing.db', '--to', 'sqlite:out.db'], { cwd: tmp.dir })
    expect(missing.code).toBe(7)
  }, 30_000)

  test('a value that does not convert: one error naming table, column, key and value; the target is left empty', async () => {
    const bad = path.join(tmp.dir, 'bad.db')
    const handle = new Database(bad)
    handle.exec(
      `CREATE TABLE "user" (id INTEGER PRIMARY KEY, "Age" INTEGER, nick); INSERT INTO "user" VALUES (1, 30, 'a'), (2, 'abc', 'b'), (3, 5, 7)`,
    )
    handle.close()
    const target = await newDatabase()
    const result = await runCli(['copy', '--from', 'sqlite:bad.db', '--to', target.url], { cwd: tmp.dir })
    expect(result.code).toBe(1)
    expectOneLineError(result, /^error: user\.Age \(id=2\): "abc" is not an integer \(target type integer\)$/)
    expect(await tablesOf(target.url)).toEqual([])
    const sqliteTarget = await runCli(['copy', '--from', 'sqlite:bad.db', '--to', 'sqlite:bad-copy.db', '--json'], { cwd: tmp.dir })
    expect(sqliteTarget.code).toBe(1)
    expect(sqliteTarget.json().error.code).toBe('COPY_VALUE_NOT_CONVERTIBLE')
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes('bad-copy'))).toEqual([])
  }, 30_000)

  test('SIGINT mid-copy: exit 130, PostgreSQL target unchanged, no partial SQLite file', async () => {
    const big = path.join(tmp.dir, 'big.db')
    const handle = new Database(big)
    handle.exec('CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE z (id INTEGER PRIMARY KEY, v TEXT)')
    handle.exec("INSERT INTO a (v) VALUES ('first')")
    handle.exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) INSERT INTO z (v) SELECT printf('row %d', i) FROM n",
    )
    handle.close()
    const interrupt = async (to: string) => {
      let stderr = ''
      let sent = false
      const result = await runCli(['copy', '--from', 'sqlite:big.db', '--to', to], {
        cwd: tmp.dir,
        onSpawn: (child) => {
          child.stderr?.on('data', (chunk: Buffer) => {
            stderr += chunk.toString()
            if (!sent && stderr.includes('copied a:')) sent = child.kill('SIGINT')
          })
        },
      })
      return result
    }
    const target = await newDatabase()
    const pgResult = await interrupt(target.url)
    expect(pgResult.code).toBe(130)
    expect(await tablesOf(target.url)).toEqual([])
    // a temporary file of a copy killed with SIGKILL (its process is gone) is cleaned up too
    fs.writeFileSync(path.join(tmp.dir, '.partial.db.copy-999999.tmp'), 'left by a killed copy')
    const sqliteResult = await interrupt('sqlite:partial.db')
    expect(sqliteResult.code).toBe(130)
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes('partial'))).toEqual([])
  }, 60_000)

  test('the source written to during the copy: the copy is one consistent snapshot', async () => {
    const live = path.join(tmp.dir, 'live.db')
    const handle = new Database(live)
    handle.pragma('journal_mode = WAL')
    handle.exec('CREATE TABLE a (n INTEGER); CREATE TABLE b (n INTEGER); CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)')
    handle.close()
    const { spawn } = await import('node:child_process')
    const writer = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'support', 'constant-writer.mjs'), live], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      let out = ''
      writer.stdout.on('data', (c: Buffer) => (out += c.toString()))
      await waitFor('the writer', () => out.includes('ready'))
      const result = await runCli(['copy', '--from', 'sqlite:live.db', '--to', 'sqlite:snapshot.db', '--json'], { cwd: tmp.dir })
      expect(result.code, result.stderr).toBe(0)
      const rows = Object.fromEntries(result.json().tables.map((t: any) => [t.name, t.rows]))
      expect(rows.a).toBeGreaterThan(0)
      expect(rows.b).toBe(rows.a)
      const copy = new Database(path.join(tmp.dir, 'snapshot.db'), { readonly: true })
      expect(copy.prepare('SELECT n FROM counter').pluck().get()).toBe(rows.a)
      copy.close()
    } finally {
      writer.kill()
    }
  }, 30_000)
})

describe('copy with a models file and --schema', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let db: TestDatabase
  beforeAll(async () => {
    tmp = makeTempDir()
    db = await createTestDatabase(inject('pgAdminUrl'), 'dbops_copy_models')
  })
  afterAll(async () => {
    await db?.drop()
    tmp?.cleanup()
  })

  test("the models' logical types win over SQLite's declared ones; --schema places the copy and reads it back", async () => {
    const handle = new Database(path.join(tmp.dir, 'app.db'))
    handle.exec(
      "CREATE TABLE flags (id INTEGER PRIMARY KEY, enabled INTEGER NOT NULL, seen_at TEXT); INSERT INTO flags VALUES (1, 1, '2024-05-06T07:08:09+02:00'), (2, 0, NULL)",
    )
    handle.close()
    fs.writeFileSync(
      path.join(tmp.dir, 'models.ts'),
      "import { col, defineModels, table } from 'dbops'\nexport const flags = table('flags', { id: col.integer().primaryKey().identity(), enabled: col.boolean(), seen_at: col.timestamptz().nullable() })\nexport default defineModels({ flags })\n",
    )
    fs.writeFileSync(path.join(tmp.dir, 'dbops.config.json'), JSON.stringify({ models: 'models.ts' }))
    const result = await runCli(['copy', '--url', 'sqlite:app.db', '--to', db.url, '--schema', 'app', '--json'], { cwd: tmp.dir })
    expect(result.code, result.stderr).toBe(0)
    const types = await query(
      db.url,
      "SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'app.flags'::regclass AND attnum > 0 ORDER BY attnum",
    )
    expect(types.map((r) => r.t)).toEqual(['integer', 'boolean', 'timestamp with time zone'])
    const rows = await query(db.url, 'SELECT enabled, extract(epoch FROM seen_at)::int AS epoch FROM app.flags ORDER BY id')
    expect(rows).toEqual([
      { enabled: true, epoch: Date.UTC(2024, 4, 6, 5, 8, 9) / 1000 },
      { enabled: false, epoch: null },
    ])
    const back = await runCli(['copy', '--from', db.url, '--schema', 'app', '--to', 'sqlite:back.db', '--json'], { cwd: tmp.dir })
    expect(back.code, back.stderr).toBe(0)
    expect(back.json().tables[0]).toMatchObject({ name: 'flags', rows: 2, match: true })
  }, 30_000)
})
