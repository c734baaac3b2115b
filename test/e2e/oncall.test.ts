/**
 * The on-call commands end to end (`health`, `pool`, `inspect`), the built CLI against real
 * SQLite files and the test PostgreSQL: exit codes with and without --json, the documented
 * JSON shapes, failure steps, lock and idle-in-transaction reports with the right pids, the
 * connection cap, and that nothing an on-call command does changes the database.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { checksumOf } from '../../src/migrate/discover-migrations.js'
import { type CliResult, makeTempDir, runCli } from '../support/cli.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'
import { freePort, silentListener } from '../support/tcp.js'

const { defer, fresh } = perTestCleanup()

// ---------------------------------------------------------------------------------------
// Documented JSON shapes (docs/on-call.md)

const SNAKE = /^[a-z][a-z0-9_]*$/

/** Every key of every object is snake_case (row data, keyed by column names, excepted). */
function expectSnakeKeys(value: unknown, where = '$'): void {
  if (Array.isArray(value)) return value.forEach((v, i) => expectSnakeKeys(v, `${where}[${i}]`))
  if (typeof value !== 'object' || value === null) return
  for (const [key, inner] of Object.entries(value)) {
    expect(key, `key at ${where}`).toMatch(SNAKE)
    expectSnakeKeys(inner, `${where}.${key}`)
  }
}

function expectKeys(value: unknown, keys: string[]): void {
  expect(value).toBeTypeOf('object')
  expect(Object.keys(value as object).sort()).toEqual([...keys].sort())
}

const STATUS = ['ok', 'warn', 'fail']

function expectHealthShape(doc: any): void {
  expectKeys(doc, ['status', 'checked_at', 'components'])
  expect(STATUS).toContain(doc.status)
  expect(new Date(doc.checked_at).toISOString()).toBe(doc.checked_at)
  expect(doc.components.length).toBeGreaterThan(0)
  for (const component of doc.components) {
    expectKeys(component, ['name', 'status', 'latency_ms', 'details'])
    expect(component.name).toMatch(SNAKE)
    expect(STATUS).toContain(component.status)
    if (component.latency_ms !== null) expect(component.latency_ms).toBeGreaterThanOrEqual(0)
    expect(component.details).toBeTypeOf('object')
  }
  const worst = doc.components.some((c: any) => c.status === 'fail')
    ? 'fail'
    : doc.components.some((c: any) => c.status === 'warn')
      ? 'warn'
      : 'ok'
  expect(doc.status).toBe(worst)
  expectSnakeKeys(doc)
}

function expectPoolShape(doc: any): void {
  expectKeys(doc, ['dialect', 'checked_at', 'client', 'server', 'attention'])
  expect(['sqlite', 'postgres']).toContain(doc.dialect)
  expectKeys(doc.server, [
    'max_connections',
    'used',
    'free',
    'free_limited_by',
    'by_state',
    'by_application',
    'idle_in_transaction',
    'blocked',
    'visibility',
    'details',
  ])
  for (const s of doc.server.idle_in_transaction) {
    expectKeys(s, ['pid', 'user', 'application_name', 'idle_seconds', 'transaction_seconds', 'last_query', 'terminate'])
  }
  for (const b of doc.server.blocked) {
    expectKeys(b, ['pid', 'user', 'application_name', 'waiting_seconds', 'query', 'blocked_by', 'terminate_blockers'])
  }
  if (doc.client !== null) {
    expectKeys(doc.client, [
      'pool_max',
      'pool_size',
      'max_overflow',
      'pool_timeout_seconds',
      'requested',
      'connections',
      'capped',
      'cap_reason',
      'acquired',
      'failures',
      'errors',
      'acquire_ms',
      'fits',
    ])
    if (doc.client.acquire_ms !== null) expectKeys(doc.client.acquire_ms, ['p50', 'p95', 'max'])
  }
  expect(Array.isArray(doc.attention)).toBe(true)
  expectSnakeKeys(doc)
}

function expectRowsShape(doc: any): void {
  expectKeys(doc, ['table', 'columns', 'rows', 'limit', 'offset', 'where', 'order', 'has_more', 'next_offset'])
  for (const row of doc.rows) expect(Object.keys(row)).toEqual(doc.columns)
}

function expectError(result: CliResult, code: number, errorCode: string | RegExp): void {
  expect(result.code, result.stderr).toBe(code)
  const doc = result.json()
  expectKeys(doc, ['error'])
  expectKeys(doc.error, ['code', 'message', 'hint'])
  expect(doc.error.code).toMatch(errorCode)
}

function component(doc: any, name: string): any {
  const found = doc.components.find((c: any) => c.name === name)
  expect(found, `component ${name} in ${JSON.stringify(doc.components.map((c: any) => c.name))}`).toBeDefined()
  return found
}

// ---------------------------------------------------------------------------------------
// Fixtures

/** Runs statements on the test database with a plain driver connection (set-up, checks). */
async function execSql(dialect: string, url: string, statements: string[]): Promise<any[][]> {
  if (dialect === 'sqlite') {
    const handle = new Database(url.slice('sqlite:///'.length))
    try {
      handle.pragma('journal_mode = WAL')
      return statements.map((s) => (handle.prepare(s).reader ? handle.prepare(s).all() : (handle.prepare(s).run(), [])))
    } finally {
      handle.close()
    }
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const results: any[][] = []
    for (const s of statements) results.push((await client.query(s)).rows)
    return results
  } finally {
    await client.end()
  }
}

const MIGRATION = '-- migrate:up\nCREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);\n'

/**
 * A database in good health: one applied migration recorded with its checksum, a users /
 * orders pair of tables, and a fresh verified backup manifest.
 */
async function healthyFixture(dialect: string, db: TestDatabase): Promise<void> {
  fs.mkdirSync(path.join(db.dir, 'migrations'))
  fs.writeFileSync(path.join(db.dir, 'migrations', '20250101000000_users.sql'), MIGRATION)
  await execSql(dialect, db.url, [
    'CREATE TABLE dbops_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text, status text NOT NULL)',
    `INSERT INTO dbops_migrations VALUES ('20250101000000', 'users', '${checksumOf(MIGRATION)}', 'applied')`,
    'CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL)',
    'CREATE TABLE orders (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id), total numeric(10,2))',
    "INSERT INTO users VALUES (1, 'ann@example.com'), (2, 'bob@example.com'), (3, 'eve@example.com')",
    'INSERT INTO orders VALUES (10, 1, 9.5), (11, 1, 20)',
  ])
  await makeBackup(db)
}

/**
 * A real backup made by `dbops backup create`; with `ageHours` / `level`, its manifest is
 * then back-dated and marked, as a backup job that stopped days ago would have left it.
 */
async function makeBackup(db: TestDatabase, options: { ageHours?: number; level?: string } = {}): Promise<void> {
  const made = await runCli(['backup', 'create', '--json'], { cwd: db.dir, env: { DATABASE_URL: db.url } })
  expect(made.code, made.stderr).toBe(0)
  if (options.ageHours === undefined && options.level === undefined) return
  const dir = path.join(db.dir, 'backups')
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))
    if (options.ageHours !== undefined) manifest.created_at = new Date(Date.now() - options.ageHours * 3_600_000).toISOString()
    if (options.level !== undefined) manifest.verification = { ...manifest.verification, level: options.level, verified_at: null }
    fs.writeFileSync(path.join(dir, name), JSON.stringify(manifest))
  }
}

function cli(db: TestDatabase, args: string[], env: Record<string, string> = {}, timeoutMs?: number): Promise<CliResult> {
  return runCli(args, { cwd: db.dir, env: { DATABASE_URL: db.url, NO_COLOR: '1', ...env }, timeoutMs })
}

/** Everything in the user tables, to prove an on-call command changed nothing. */
async function snapshot(dialect: string, db: TestDatabase): Promise<unknown> {
  const [tables, users, orders] = await execSql(dialect, db.url, [
    dialect === 'sqlite'
      ? "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
      : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    'SELECT * FROM users ORDER BY id',
    'SELECT * FROM orders ORDER BY id',
  ])
  return { tables, users, orders }
}

// Shared-cluster note: other suites use the same PostgreSQL at the same time, so the
// server-wide connection percentage is not ours to assert on; healthy runs turn it off.
const QUIET_SERVER = ['--threshold', 'connections_pct=off']

for (const dialect of testDialects()) {
  describe(`${dialect.name}: health`, () => {
    test('healthy: exit 0; table and JSON agree; the documented shape', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      const json = await cli(db, ['health', '--json', ...QUIET_SERVER])
      expect(json.code, json.stderr).toBe(0)
      const doc = json.json()
      expectHealthShape(doc)
      expect(doc.status).toBe('ok')
      expect(doc.components.map((c: any) => c.name).slice(0, 3)).toEqual(['connection', 'migrations', 'backups'])
      expect(component(doc, 'connection').details).toMatchObject({
        [dialect.name === 'sqlite' ? 'sqlite_version' : 'server_version']: expect.stringMatching(/^\d+\.\d+/),
        size_bytes: expect.any(Number),
      })
      expect(component(doc, 'migrations').details).toMatchObject({ applied: 1, pending: 0, head: '20250101000000_users.sql' })
      expect(component(doc, 'backups').details).toMatchObject({ count: 1, verification: 'read', age_hours: expect.any(Number) })
      const expected =
        dialect.name === 'sqlite'
          ? ['sqlite_file', 'sqlite_pragmas', 'sqlite_wal', 'disk_space']
          : ['connections', 'transactions', 'lock_waits', 'replication', 'wraparound']
      for (const name of expected) expect(component(doc, name).status).toBe('ok')
      expect(doc.components.find((c: any) => c.name === 'quick_check')).toBeUndefined() // only with --deep

      const text = await cli(db, ['health', ...QUIET_SERVER])
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(/^health: ok at /)
      expect(text.stdout).toMatch(/^migrations +ok .*head 20250101000000_users\.sql/m)
      expect(text.stderr).toBe('')
    })

    test('warn: a pending migration and a stale, unverified backup; exit 3 with and without --json', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      fs.writeFileSync(path.join(db.dir, 'migrations', '20250202000000_more.sql'), '-- migrate:up\nSELECT 1;\n')
      fs.rmSync(path.join(db.dir, 'backups'), { recursive: true })
      await makeBackup(db, { ageHours: 50, level: 'none' })
      const json = await cli(db, ['health', '--json', ...QUIET_SERVER])
      expect(json.code).toBe(3)
      const doc = json.json()
      expectHealthShape(doc)
      expect(component(doc, 'migrations')).toMatchObject({ status: 'warn', details: { pending: 1 } })
      expect(component(doc, 'backups')).toMatchObject({
        status: 'warn',
        details: { verification: 'none', problem: expect.stringMatching(/50(\.\d)? h old \(threshold 26 h\).*never verified/) },
      })

      if (dialect.name === 'sqlite') {
        // the same exit code without --json (rendering is shared by both dialects)
        const text = await cli(db, ['health', ...QUIET_SERVER, '--threshold', 'backup_age_hours=72'], {
          DBOPS_HEALTH_BACKUP_AGE_HOURS: '1',
        })
        expect(text.code).toBe(3)
        expect(text.stdout).toMatch(/^backups +warn .*never verified/m)
        expect(text.stdout).not.toMatch(/h old/) // the flag (72 h) won over the environment (1 h)
      }
    })

    test('fail: an applied migration whose file changed; exit 1', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      fs.appendFileSync(path.join(db.dir, 'migrations', '20250101000000_users.sql'), '-- edited after it was applied\n')
      const json = await cli(db, ['health', '--json', ...QUIET_SERVER, '--threshold', 'backup_age_hours=off'])
      expect(json.code).toBe(1)
      const doc = json.json()
      expectHealthShape(doc)
      expect(component(doc, 'migrations')).toMatchObject({ status: 'fail', details: { changed: 1 } })
      expect(doc.components.find((c: any) => c.name === 'backups')).toBeUndefined() // threshold off: check off
      if (dialect.name === 'sqlite') expect((await cli(db, ['health', ...QUIET_SERVER])).code).toBe(1)
    })

    test('an unknown threshold is exit 2', async () => {
      const db = await fresh(dialect)
      expectError(await cli(db, ['health', '--json', '--threshold', 'lock_wait=5']), 2, 'THRESHOLD_UNKNOWN')
    })
  })

  describe(`${dialect.name}: inspect`, () => {
    test('tables: row counts and sizes in the documented shape', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      const result = await cli(db, ['inspect', 'tables', '--json'])
      expect(result.code, result.stderr).toBe(0)
      const doc = result.json()
      expectKeys(doc, ['schema', 'tables'])
      expect(doc.schema).toBe(dialect.name === 'postgres' ? 'public' : null)
      expect(doc.tables.map((t: any) => [t.name, t.rows, t.rows_exact])).toEqual([
        ['dbops_migrations', 1, true],
        ['orders', 2, true],
        ['users', 3, true],
      ])
      for (const t of doc.tables) {
        expectKeys(t, ['name', 'rows', 'rows_exact', 'size_bytes'])
        expect(t.size_bytes).toBeGreaterThan(0)
      }
      if (dialect.name === 'sqlite') expect((await cli(db, ['inspect', 'tables'])).stdout).toMatch(/^users +3 +\d/m)
    })

    test('rows: filter, order, pagination; values are data, names are checked; the database is unchanged', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      const before = await snapshot(dialect.name, db)

      const page = await cli(db, ['inspect', 'rows', 'users', '--json', '--order', '-id', '--limit', '2'])
      expect(page.code, page.stderr).toBe(0)
      const doc = page.json()
      expectRowsShape(doc)
      expect(doc).toMatchObject({
        table: 'users',
        columns: ['id', 'email'],
        limit: 2,
        offset: 0,
        has_more: true,
        next_offset: 2,
        order: [{ column: 'id', direction: 'desc' }],
      })
      expect(doc.rows.map((r: any) => r.id)).toEqual([3, 2])
      // SQL in a value is compared as data (more variants in test/integration/oncall.test.ts)
      const injected = await cli(db, ['inspect', 'rows', 'users', '--json', '--where', "email=x' OR '1'='1"])
      expect(injected.code, injected.stderr).toBe(0)
      expect(injected.json().rows).toEqual([])
      // …or refused when it is not valid for the column's type (PostgreSQL is strict, SQLite compares)
      const typed = await cli(db, ['inspect', 'rows', 'users', '--json', '--where', 'id=1 OR 1=1'])
      if (dialect.name === 'postgres') expectError(typed, 2, 'WHERE_VALUE_INVALID')
      else expect(typed.json().rows).toEqual([])

      // unknown names: exit 2, with and without --json, nearest name suggested
      expectError(await cli(db, ['inspect', 'rows', 'users; DROP TABLE users', '--json']), 2, 'UNKNOWN_TABLE')
      expectError(await cli(db, ['inspect', 'rows', 'users', '--json', '--where', 'emial=x']), 2, 'UNKNOWN_COLUMN')
      const text = await cli(db, ['inspect', 'rows', 'usres'])
      expect(text.code).toBe(2)
      expect(text.stderr).toMatch(/^error: Unknown table "usres".*\nhint: Did you mean "users"\?/)
      expect(text.stdout).toBe('')

      expect(await snapshot(dialect.name, db)).toEqual(before)
    })

    test('table: an unknown name is exit 2', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      expectError(await cli(db, ['inspect', 'table', 'nope', '--json']), 2, 'UNKNOWN_TABLE')
    })

    test('table: columns, indexes and foreign keys (needs the introspector)', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      await execSql(dialect.name, db.url, ['CREATE INDEX orders_user ON orders (user_id)'])
      const result = await cli(db, ['inspect', 'table', 'orders', '--json'])
      expect(result.code, result.stderr).toBe(0)
      const doc = result.json()
      expectKeys(doc, ['name', 'schema', 'columns', 'primary_key', 'indexes', 'uniques', 'checks', 'foreign_keys', 'referenced_by'])
      expectSnakeKeys(doc)
      expect(doc.columns.map((c: any) => [c.name, c.nullable])).toEqual([
        ['id', false],
        ['user_id', false],
        ['total', true],
      ])
      expect(doc.primary_key).toEqual(['id'])
      expect(doc.indexes).toContainEqual(expect.objectContaining({ name: 'orders_user', columns: ['user_id'], unique: false }))
      expect(doc.foreign_keys).toEqual([expect.objectContaining({ columns: ['user_id'], references: { table: 'users', columns: ['id'] } })])
      const users = (await cli(db, ['inspect', 'table', 'users', '--json'])).json()
      expect(users.referenced_by).toEqual([expect.objectContaining({ table: 'orders', columns: ['user_id'] })])
    })
  })

  describe(`${dialect.name}: pool`, () => {
    test('the documented shape; nothing to report is exit 0', async () => {
      const db = await fresh(dialect)
      await healthyFixture(dialect.name, db)
      const result = await cli(db, ['pool', '--json', '--connections', '3'])
      expect(result.code, result.stderr).toBe(0)
      const doc = result.json()
      expectPoolShape(doc)
      expect(doc.dialect).toBe(dialect.name)
      if (dialect.name === 'postgres') {
        expect(doc.client).toMatchObject({ pool_max: 15, requested: 3, connections: 3, acquired: 3, failures: 0, capped: false })
        expect(doc.server.by_application).toContainEqual(expect.objectContaining({ application_name: 'dbops/pool' }))
      } else {
        expect(doc.client).toBeNull()
        expect(doc.server.details).toMatchObject({ journal_mode: 'wal', write_lock: { acquired: true }, checkpoint: { busy: 0 } })
      }
      const text = await cli(db, ['pool'])
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(dialect.name === 'postgres' ? /^blocked queries \(0\)$/m : /^write lock: acquired in /m)
    })
  })
}

describe('postgres: locks, idle transactions, privileges, the cap', () => {
  const postgres = testDialects().find((d) => d.name === 'postgres')!

  test('an idle-in-transaction session and the query it blocks show with their pids; health warns; nothing is terminated', async () => {
    const db = await fresh(postgres)
    await healthyFixture('postgres', db)
    const holder = new pg.Client({ connectionString: db.url, application_name: 'test-holder' })
    const waiter = new pg.Client({ connectionString: db.url, application_name: 'test-waiter' })
    await holder.connect()
    await waiter.connect()
    defer(async () => {
      await holder.end().catch(() => undefined)
      await waiter.end().catch(() => undefined)
    })
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    const waiterPid = (await waiter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await holder.query('BEGIN')
    await holder.query("UPDATE users SET email = 'held@example.com' WHERE id = 1")
    const blocked = waiter.query("UPDATE users SET email = 'waiting@example.com' WHERE id = 1")
    await new Promise((resolve) => setTimeout(resolve, 700))

    const pool = await cli(db, ['pool', '--json', '--connections', '2'])
    expect(pool.code, pool.stderr).toBe(3) // a blocked query needs attention
    const doc = pool.json()
    expectPoolShape(doc)
    expect(doc.server.idle_in_transaction).toContainEqual(
      expect.objectContaining({
        pid: holderPid,
        application_name: 'test-holder',
        last_query: expect.stringContaining('UPDATE users'),
        terminate: `SELECT pg_terminate_backend(${holderPid});`,
      }),
    )
    expect(doc.server.blocked).toEqual([
      expect.objectContaining({
        pid: waiterPid,
        application_name: 'test-waiter',
        blocked_by: [holderPid],
        terminate_blockers: [`SELECT pg_terminate_backend(${holderPid});`],
      }),
    ])
    expect(doc.attention).toEqual(['1 query waiting on a lock'])

    const text = await cli(db, ['pool'])
    expect(text.stdout).toMatch(new RegExp(`^${waiterPid} +[\\d.]+ s +${holderPid} `, 'm'))
    expect(text.stdout).toContain(`  SELECT pg_terminate_backend(${holderPid});`)

    const health = await cli(db, [
      'health',
      '--json',
      ...QUIET_SERVER,
      '--threshold',
      'lock_wait_seconds=0.2',
      '--threshold',
      'idle_in_transaction_seconds=0.2',
    ])
    expect(health.code).toBe(3)
    const report = health.json()
    expectHealthShape(report)
    expect(component(report, 'lock_waits')).toMatchObject({
      status: 'warn',
      details: { waiting: 1, longest_waiting_pid: waiterPid, blocking_pids: [holderPid] },
    })
    expect(component(report, 'transactions')).toMatchObject({
      status: 'warn',
      details: { idle_in_transaction: 1, longest_idle_in_transaction_pid: holderPid },
    })

    // a role without pg_monitor: lock waits are complete, other roles' sessions are not
    const role = `oncall_plain_${randomBytes(4).toString('hex')}`
    await execSql('postgres', db.url, [`CREATE ROLE ${role} LOGIN PASSWORD 'plain-pw'`])
    defer(async () => {
      await execSql('postgres', db.url, [`DROP ROLE IF EXISTS ${role}`])
    })
    const asPlain = { DATABASE_URL: withUrl(db.url, { user: role, password: 'plain-pw' }) }
    const plain = await cli(db, ['health', '--json', ...QUIET_SERVER, '--threshold', 'lock_wait_seconds=0.2'], asPlain)
    const plainDoc = plain.json()
    expectHealthShape(plainDoc)
    expect(component(plainDoc, 'connection').details.user).toBe(role)
    expect(component(plainDoc, 'lock_waits')).toMatchObject({
      status: 'warn',
      details: { longest_waiting_pid: waiterPid, blocking_pids: [holderPid] },
    })
    expect(component(plainDoc, 'transactions').details).toMatchObject({
      idle_in_transaction: 0,
      visibility: expect.stringMatching(/^insufficient privilege/),
    })
    const plainPool = (await cli(db, ['pool', '--json', '--connections', '1'], asPlain)).json()
    expect(plainPool.server.visibility).toMatch(/^insufficient privilege/)
    expect(plainPool.server.blocked).toEqual([expect.objectContaining({ pid: waiterPid, blocked_by: [holderPid] })])

    // printed, never run: the holder is alive and still holds its lock
    expect((await holder.query('SELECT 1 AS alive')).rows).toEqual([{ alive: 1 }])
    await holder.query('ROLLBACK')
    await blocked
  })

  test('--connections beyond the free connections is capped, and says so; --force is not', async () => {
    const db = await fresh(postgres)
    await healthyFixture('postgres', db)
    // a database limit keeps this test from crowding the shared server
    await execSql('postgres', db.url, [`ALTER DATABASE ${new URL(db.url).pathname.slice(1)} CONNECTION LIMIT 8`])
    const json = await cli(db, ['pool', '--json', '--connections', '50'])
    const doc = json.json()
    expectPoolShape(doc)
    expect(doc.server).toMatchObject({ free_limited_by: 'database', free: 7 }) // 8 minus dbops' own
    expect(doc.client).toMatchObject({ requested: 50, connections: 5, capped: true, acquired: 5, failures: 0, fits: false })
    expect(doc.client.cap_reason).toMatch(/^capped at 5 of 50: 7 connections free for this role and database, 3 kept in reserve \(--force/)
    expect(json.code).toBe(3) // the configured pool (15) does not fit in 7
    const text = await cli(db, ['pool', '--connections', '50'])
    expect(text.stderr).toMatch(/warning: capped at 5 of 50/)
    expect(text.stdout).toMatch(/acquired 5 of 5 concurrently/)
    const forced = (await cli(db, ['pool', '--json', '--connections', '6', '--force'])).json()
    expect(forced.client).toMatchObject({ connections: 6, capped: false, acquired: 6 })
  })

  test('unreachable: nothing listening, a listener that never answers, a name that does not resolve: exit 4 naming the step', async () => {
    const tmp = makeTempDir()
    defer(tmp.cleanup)
    const port = await freePort()
    const refused = `postgres://app:pw@127.0.0.1:${port}/app`
    const started = Date.now()
    const json = await runCli(['health', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: refused } })
    expect(json.code).toBe(4)
    expect(Date.now() - started).toBeLessThan(20_000)
    const doc = json.json()
    expectHealthShape(doc)
    expect(doc.components).toEqual([
      expect.objectContaining({
        name: 'connection',
        status: 'fail',
        details: expect.objectContaining({ step: 'TCP connect', error_code: 'DB_UNREACHABLE' }),
      }),
    ])
    const text = await runCli(['health'], { cwd: tmp.dir, env: { DATABASE_URL: refused } })
    expect(text.code).toBe(4)
    expect(text.stderr).toMatch(/^error: Connection refused at 127\.0\.0\.1:\d+ \(TCP connect\)\nhint: /)
    expectError(await runCli(['pool', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: refused } }), 4, 'DB_UNREACHABLE')
    // .invalid never resolves (RFC 2606)
    const lookup = await runCli(['health', '--json'], {
      cwd: tmp.dir,
      env: { DATABASE_URL: 'postgres://app:pw@no-such-host.invalid:5432/app', DATABASE_CONNECT_TIMEOUT: '5' },
    })
    expect(lookup.code).toBe(4)
    expect(component(lookup.json(), 'connection').details).toMatchObject({ step: 'name lookup' })

    const listener = await silentListener()
    try {
      const silentStarted = Date.now()
      const silent = await runCli(['health', '--json'], {
        cwd: tmp.dir,
        env: { DATABASE_URL: `postgres://app:pw@127.0.0.1:${listener.port}/app`, DATABASE_CONNECT_TIMEOUT: '2' },
      })
      expect(silent.code).toBe(4)
      expect(Date.now() - silentStarted).toBeLessThan(25_000)
      expect(component(silent.json(), 'connection').details).toMatchObject({
        step: 'login (TCP connected, the server never answered)',
        error_code: 'DB_TIMEOUT',
      })
    } finally {
      await listener.close()
    }
  })

  test('access: a wrong password, TLS refused and a missing database are exit 7 naming the step', async () => {
    const db = await fresh(postgres)
    const wrong = await cli(db, ['health'], { DATABASE_URL: withUrl(db.url, { password: 'not-the-password' }) })
    expect(wrong.code).toBe(7)
    expect(wrong.stderr).toMatch(/^error: Authentication failed for user "postgres"/)
    expect(wrong.stdout).toMatch(/^connection +fail .*step authentication/m)
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password')
    const wrongJson = await cli(db, ['health', '--json'], { DATABASE_URL: withUrl(db.url, { password: 'not-the-password' }) })
    expect(wrongJson.code).toBe(7)
    expect(component(wrongJson.json(), 'connection').details).toMatchObject({ step: 'authentication', error_code: 'AUTH_FAILED' })
    const tls = await cli(db, ['health', '--json'], { DATABASE_URL: `${db.url}?sslmode=require` }) // the test server has no TLS
    expect(tls.code).toBe(7)
    expect(component(tls.json(), 'connection').details).toMatchObject({ step: 'TLS', error_code: 'TLS_UNAVAILABLE' })
    const missing = await cli(db, ['health', '--json'], { DATABASE_URL: withUrl(db.url, { database: 'dbops_no_such_db' }) })
    expect(missing.code).toBe(7)
    expect(component(missing.json(), 'connection').details).toMatchObject({ step: 'missing database', error_code: 'DB_NOT_FOUND' })
  })
})

describe('sqlite: files, corruption, the write lock, --watch', () => {
  const sqlite = testDialects().find((d) => d.name === 'sqlite')!

  test('a missing file is exit 7 for every on-call command, and nothing is created', async () => {
    const tmp = makeTempDir()
    defer(tmp.cleanup)
    const file = path.join(tmp.dir, 'data', 'app.db')
    const env = { DATABASE_URL: `sqlite:///${file}` }
    const json = await runCli(['health', '--json'], { cwd: tmp.dir, env })
    expect(json.code).toBe(7)
    expect(component(json.json(), 'connection').details).toMatchObject({ step: 'missing database file', error_code: 'DB_FILE_MISSING' })
    const text = await runCli(['health'], { cwd: tmp.dir, env })
    expect(text.code).toBe(7)
    expect(text.stderr).toContain(`error: SQLite file ${file} does not exist`)
    for (const args of [
      ['pool', '--json'],
      ['inspect', 'rows', 'users', '--json'],
    ]) {
      expectError(await runCli(args, { cwd: tmp.dir, env }), 7, 'DB_FILE_MISSING')
    }
    expect(fs.readdirSync(tmp.dir)).toEqual([])
  })

  test('a file this user cannot write is a warning naming it (run as an unprivileged user)', async () => {
    const db = await fresh(sqlite)
    const file = db.url.slice('sqlite:///'.length)
    const handle = new Database(file) // rollback journal: readable without write access to the directory
    handle.exec('CREATE TABLE t (x integer)')
    handle.close()
    fs.chmodSync(db.dir, 0o755)
    fs.chmodSync(file, 0o644)
    const result = await runCli(['health', '--json', '--threshold', 'backup_age_hours=off'], {
      cwd: db.dir,
      env: { DATABASE_URL: db.url },
      uid: 65534,
      gid: 65534,
    })
    expect(result.code, result.stderr).toBe(3)
    expect(component(result.json(), 'sqlite_file')).toMatchObject({
      status: 'warn',
      details: {
        readable: true,
        writable: false,
        directory_writable: false,
        problem: expect.stringMatching(/^for uid 65534: not writable/),
      },
    })
  })

  test('a corrupted file with --deep is exit 1 naming quick_check', async () => {
    const db = await fresh(sqlite)
    const file = db.url.slice('sqlite:///'.length)
    const handle = new Database(file)
    handle.exec('CREATE TABLE items (id integer PRIMARY KEY, name text); CREATE INDEX items_name ON items (name)')
    const insert = handle.prepare('INSERT INTO items (name) VALUES (?)')
    handle.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run(`item-${i}-${'-'.repeat(20)}`)
    })()
    handle.close()
    const pages = fs.statSync(file).size / 4096
    const fd = fs.openSync(file, 'r+')
    for (const page of [Math.floor(pages / 2), Math.floor(pages / 2) + 1]) fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096)
    fs.closeSync(fd)

    const deep = await cli(db, ['health', '--deep', '--json', '--threshold', 'backup_age_hours=off'])
    expect(deep.code).toBe(1)
    const doc = deep.json()
    expectHealthShape(doc)
    expect(component(doc, 'quick_check')).toMatchObject({
      status: 'fail',
      details: { result: 'failed', error: expect.stringMatching(/^quick_check /) },
    })
    const text = await cli(db, ['health', '--deep', '--threshold', 'backup_age_hours=off'])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^quick_check +fail .*quick_check/m)
  })

  test('pool: the write lock held elsewhere is reported (exit 3), with the processes holding the file', async () => {
    const db = await fresh(sqlite)
    await healthyFixture('sqlite', db)
    const handle = new Database(db.url.slice('sqlite:///'.length))
    defer(() => {
      handle.close()
    })
    handle.exec('BEGIN IMMEDIATE')
    defer(() => {
      if (handle.inTransaction) handle.exec('ROLLBACK')
    })
    const result = await cli(db, ['pool', '--json'], { SQLITE_BUSY_TIMEOUT: '300' })
    expect(result.code, result.stderr).toBe(3)
    const doc = result.json()
    expectPoolShape(doc)
    expect(doc.server.details.write_lock).toMatchObject({
      acquired: false,
      busy_timeout_ms: 300,
      error: expect.stringMatching(/another connection holds the write lock/),
    })
    expect(doc.server.details.write_lock.waited_ms).toBeGreaterThanOrEqual(250)
    expect(doc.server.details.holders).toContainEqual(expect.objectContaining({ pid: process.pid, self: false }))
    expect(doc.server.details.holders).toContainEqual(expect.objectContaining({ self: true }))
    expect(doc.attention).toEqual([expect.stringMatching(/^write lock not acquired/)])
    handle.exec('ROLLBACK')
    expect((await snapshot('sqlite', db)) as any).toMatchObject({ users: [{ id: 1 }, { id: 2 }, { id: 3 }] })
  })

  test('--watch --json writes one document per line until Ctrl-C (exit 130)', async () => {
    const db = await fresh(sqlite)
    await healthyFixture('sqlite', db)
    let stdout = ''
    const result = await runCli(['health', '--watch', '1', '--json'], {
      cwd: db.dir,
      env: { DATABASE_URL: db.url },
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          if (stdout.split('\n').length > 2) child.kill('SIGINT') // two complete lines
        })
      },
    })
    expect(result.code).toBe(130)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const line of lines) expectHealthShape(JSON.parse(line))
    expect(result.stderr).toBe('')
  })
})
