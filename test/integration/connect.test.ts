/**
 * The dialect layer against real databases: connect/close, pragmas, application_name,
 * pool sizing, and the failure mapping of the connect path.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { describe, expect, inject, test } from 'vitest'
import { resolveConfig } from '../../src/config/resolve-config.js'
import { connect, usingDatabase } from '../../src/dialects/index.js'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import type { SqliteConnection } from '../../src/dialects/sqlite/sqlite-connection.js'
import { DbopsError } from '../../src/errors.js'
import { makeTempDir, repoRoot } from '../support/cli.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'
import { createTestDatabase } from '../support/postgres.js'

const { defer, fresh } = perTestCleanup()

for (const dialect of testDialects()) {
  describe(`${dialect.name}: connect`, () => {
    test('connects, answers SELECT 1, reports the server version, closes twice safely', async () => {
      const db = await fresh(dialect)
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const conn = await connect(config, { mode: 'write', command: 'test' })
      const result = await sql<{ one: number }>`SELECT 1 AS one`.execute(conn.db)
      expect(result.rows).toEqual([{ one: 1 }])
      expect(conn.serverVersion).toMatch(/^\d+\.\d+/)
      expect(conn.dialect.name).toBe(dialect.name)
      await conn.close()
      await conn.close()
    })

    test('SQL echo reports each statement', async () => {
      const db = await fresh(dialect)
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const seen: string[] = []
      await usingDatabase(config, { mode: 'write', command: 'test', onQuery: (text) => seen.push(text) }, (conn) =>
        sql`SELECT 42`.execute(conn.db),
      )
      expect(seen).toEqual(['SELECT 42'])
    })
  })
}

describe('sqlite specifics', () => {
  test('the configured pragmas are applied, foreign keys on', async () => {
    const tmp = makeTempDir()
    defer(tmp.cleanup)
    const config = await resolveConfig({
      cwd: tmp.dir,
      env: {
        DATABASE_URL: 'sqlite:///sub/dir/app.db',
        SQLITE_SYNCHRONOUS: 'FULL',
        SQLITE_CACHE_SIZE: '-4096',
        SQLITE_BUSY_TIMEOUT: '1234',
      },
    })
    const conn = (await connect(config, { mode: 'write', command: 'test' })) as SqliteConnection
    defer(() => conn.close())
    expect(fs.existsSync(path.join(tmp.dir, 'sub/dir/app.db'))).toBe(true)
    expect(conn.handle.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(conn.handle.pragma('synchronous', { simple: true })).toBe(2)
    expect(conn.handle.pragma('cache_size', { simple: true })).toBe(-4096)
    expect(conn.handle.pragma('busy_timeout', { simple: true })).toBe(1234)
    expect(conn.handle.pragma('foreign_keys', { simple: true })).toBe(1)
  })

  test('read mode never creates a missing file or its directory: exit 7', async () => {
    const tmp = makeTempDir()
    defer(tmp.cleanup)
    const config = await resolveConfig({ cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///nodir/app.db' } })
    const error = (await connect(config, { mode: 'read', command: 'test' }).catch((err: unknown) => err)) as DbopsError
    expect(error).toBeInstanceOf(DbopsError)
    expect(error).toMatchObject({ code: 'DB_FILE_MISSING', exitCode: 7 })
    expect(error.message).toBe(`SQLite file ${path.join(tmp.dir, 'nodir/app.db')} does not exist`)
    expect(fs.existsSync(path.join(tmp.dir, 'nodir'))).toBe(false)
  })

  test('write mode in a read-only directory: exit 7 naming the path (run as an unprivileged user)', async () => {
    const tmp = makeTempDir()
    defer(tmp.cleanup)
    fs.chmodSync(tmp.dir, 0o755)
    const readOnly = path.join(tmp.dir, 'ro')
    fs.mkdirSync(readOnly, { mode: 0o555 })
    fs.chmodSync(readOnly, 0o555)
    // root ignores permission bits, so the check runs as uid 65534 in a child process
    const script = `
      import { resolveConfig, connect } from ${JSON.stringify(path.join(repoRoot, 'dist/index.js'))}
      const config = await resolveConfig({ cwd: ${JSON.stringify(tmp.dir)}, env: { DATABASE_URL: 'sqlite:///ro/app.db' } })
      try { await connect(config, { mode: 'write', command: 'test' }); console.log(JSON.stringify({ ok: true })) }
      catch (err) { console.log(JSON.stringify({ code: err.code, exitCode: err.exitCode, message: err.message })) }`
    const asRoot = process.getuid?.() === 0
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      uid: asRoot ? 65534 : undefined,
      gid: asRoot ? 65534 : undefined,
      cwd: tmp.dir,
    })
    expect(child.stderr).toBe('')
    const outcome = JSON.parse(child.stdout)
    expect(outcome).toEqual({
      code: 'DB_FILE_ACCESS',
      exitCode: 7,
      message: `Cannot open SQLite file ${path.join(readOnly, 'app.db')}: the file or its directory is not writable`,
    })
    expect(fs.readdirSync(readOnly)).toEqual([])
  })
})

describe('postgres specifics', () => {
  test('application_name is dbops/<command>; pool max = POOL_SIZE + MAX_OVERFLOW; connect timeout from the deadline', async () => {
    const db = await createTestDatabase(inject('pgAdminUrl'))
    defer(() => db.drop())
    const config = await resolveConfig({
      cwd: repoRoot,
      env: { DATABASE_URL: db.url, POOL_SIZE: '2', MAX_OVERFLOW: '3', DATABASE_CONNECT_TIMEOUT: '4' },
    })
    const conn = (await connect(config, { mode: 'read', command: 'migrate up' })) as PostgresConnection
    defer(() => conn.close())
    const { rows } = await sql<{ application_name: string }>`SHOW application_name`.execute(conn.db)
    expect(rows[0]?.application_name).toBe('dbops/migrate up')
    const options = (conn.pool as unknown as { options: pg.PoolConfig }).options
    expect(options.max).toBe(5)
    expect(options.connectionTimeoutMillis).toBeGreaterThan(0)
    expect(options.connectionTimeoutMillis).toBeLessThanOrEqual(4000)
  })

  /** A role that may not connect (CONNECTION LIMIT 0): its logins fail with 53300. */
  async function limitedRole(name: string): Promise<{ url: string; admin: pg.Client }> {
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') })
    await admin.connect()
    const role = `${name}_${process.pid}`
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 0`)
    defer(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${role}`)
      await admin.end()
    })
    const url = new URL(inject('pgAdminUrl'))
    url.username = role
    url.password = 'limited-pw'
    return { url: url.toString(), admin }
  }

  test('too many connections (53300) is retried until it clears', async () => {
    const { url, admin } = await limitedRole('dbops_limited')
    const config = await resolveConfig({
      cwd: repoRoot,
      env: { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT: '20', DATABASE_MAX_RETRIES: '50' },
    })
    const retries: string[] = []
    const connecting = connect(config, { mode: 'read', command: 'test', onRetry: (_n, reason) => retries.push(reason) })
    // let it fail at least once, then lift the limit
    while (retries.length === 0) await new Promise((r) => setTimeout(r, 50))
    await admin.query(`ALTER ROLE ${new URL(url).username} CONNECTION LIMIT 5`)
    const conn = await connecting
    await conn.close()
    expect(retries[0]).toMatch(/too many connections/)
  })

  test('with retries exhausted, too many connections is exit 4 with its own code', async () => {
    const { url } = await limitedRole('dbops_full')
    const config = await resolveConfig({ cwd: repoRoot, env: { DATABASE_URL: url, DATABASE_MAX_RETRIES: '1' } })
    const error = (await connect(config, { mode: 'read', command: 'test' }).catch((err: unknown) => err)) as DbopsError
    expect(error).toMatchObject({ code: 'DB_TOO_MANY_CONNECTIONS', exitCode: 4 })
  })
})
