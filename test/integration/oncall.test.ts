/**
 * The on-call core in-process against real databases: the read-only session, the catalog
 * queries, the minimal migration and backup readers behind HealthSources, and checkHealth's
 * handling of a failing source.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { type ResolvedConfig, resolveConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { checkHealth } from '../../src/health/check-health.js'
import { resolveThresholds } from '../../src/health/health-thresholds.js'
import { usingOnCallSession } from '../../src/health/on-call-session.js'
import { inspectRows } from '../../src/inspect/inspect-rows.js'
import { readMigrationSummary } from '../../src/health/health-sources.js'
import { checksumOf } from '../../src/migrate/discover-migrations.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'

const { fresh: freshDatabase } = perTestCleanup()

async function fresh(dialect: ReturnType<typeof testDialects>[number]): Promise<{ db: TestDatabase; config: ResolvedConfig }> {
  const db = await freshDatabase(dialect)
  const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
  return { db, config }
}

/** Runs statements in a normal (writable) session: test set-up. */
async function setUp(config: ResolvedConfig, statements: string[]): Promise<void> {
  await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
    for (const statement of statements) await sql.raw(statement).execute(conn.db)
  })
}

const connect = { mode: 'read' as const, command: 'test' }

for (const dialect of testDialects()) {
  describe(`${dialect.name}: on-call core`, () => {
    test('the on-call session is read-only: a write fails and changes nothing', async () => {
      const { config } = await fresh(dialect)
      await setUp(config, ['CREATE TABLE t (id integer PRIMARY KEY, v text)', "INSERT INTO t (id, v) VALUES (1, 'a')"])
      const error = await usingOnCallSession(config, connect, async (conn) => {
        try {
          await sql`UPDATE t SET v = 'changed'`.execute(conn.db)
          return undefined
        } catch (err) {
          return err as Error & { code?: string }
        }
      })
      expect(error?.code).toBe(dialect.name === 'sqlite' ? 'SQLITE_READONLY' : '25006')
      const rows = await usingOnCallSession(
        config,
        connect,
        async (conn) => (await sql<{ v: string }>`SELECT v FROM t`.execute(conn.db)).rows,
      )
      expect(rows).toEqual([{ v: 'a' }])
      if (dialect.name === 'postgres') {
        const settings = await usingOnCallSession(
          config,
          connect,
          async (conn) =>
            (
              await sql<{
                s: string
                l: string
              }>`SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l`.execute(conn.db)
            ).rows[0],
        )
        expect(settings).toEqual({ s: '5s', l: '1s' })
      }
    })

    test('catalog: tables with exact counts of small tables, columns with primary-key positions', async () => {
      const { config } = await fresh(dialect)
      await setUp(config, [
        'CREATE TABLE pairs (b integer NOT NULL, a integer NOT NULL, note text, PRIMARY KEY (a, b))',
        'CREATE TABLE empty_one (id integer PRIMARY KEY)',
        "INSERT INTO pairs (a, b, note) VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, NULL)",
      ])
      await usingOnCallSession(config, connect, async (conn) => {
        const catalog = conn.dialect.createCatalog(conn)
        expect(await catalog.tableNames({ schema: config.schema })).toEqual(['empty_one', 'pairs'])
        const tables = await catalog.listTables({ schema: config.schema })
        expect(tables).toEqual([
          { name: 'empty_one', rows: 0, rowsExact: true, sizeBytes: expect.any(Number) },
          { name: 'pairs', rows: 3, rowsExact: true, sizeBytes: expect.any(Number) },
        ])
        const columns = await catalog.listColumns({ schema: config.schema, table: 'pairs' })
        expect(columns.map((c) => [c.name, c.primaryKeyPosition])).toEqual([
          ['b', 2],
          ['a', 1],
          ['note', 0],
        ])
        expect(await catalog.listColumns({ schema: config.schema, table: 'nope' })).toEqual([])
      })
    })

    test('migration summary: pending, changed, missing and dirty against dbops_migrations', async () => {
      const { db, config } = await fresh(dialect)
      const dir = path.join(db.dir, 'migrations')
      fs.mkdirSync(dir)
      const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text)
      write('001_one.sql', '-- migrate:up\r\nCREATE TABLE one (id int);\r\n') // CRLF: same checksum as LF
      write('002_two.sql', '-- migrate:up\nCREATE TABLE two (id int);\n')
      write('003_three.sql', '-- migrate:up\nSELECT 3;\n')
      write('004_four.ts', 'export async function up() {}\n')
      write('README.md', 'not a migration')
      const sum = (text: string) => checksumOf(text)
      await setUp(config, [
        'CREATE TABLE dbops_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text, status text NOT NULL)',
        `INSERT INTO dbops_migrations VALUES ('001', 'one', '${sum('-- migrate:up\nCREATE TABLE one (id int);\n')}', 'applied')`,
        `INSERT INTO dbops_migrations VALUES ('002', 'two', '${sum('an older text')}', 'applied')`,
        `INSERT INTO dbops_migrations VALUES ('003', 'three', '${sum('-- migrate:up\nSELECT 3;\n')}', 'started')`,
        `INSERT INTO dbops_migrations VALUES ('000', 'gone', 'x', 'applied')`,
      ])
      const summary = await usingOnCallSession(config, connect, (conn) => readMigrationSummary(config, { conn }))
      expect(summary).toEqual({
        applied: 3,
        pending: 1,
        changed: 1,
        missing: 1,
        dirty: 1,
        running: 0,
        head: '002_two.sql',
        invalidIndexes: [],
      })
    })

    test('migration summary without a table or a directory: nothing to report', async () => {
      const { config } = await fresh(dialect)
      await setUp(config, []) // SQLite: create the (empty) file
      const summary = await usingOnCallSession(config, connect, (conn) => readMigrationSummary(config, { conn }))
      expect(summary).toEqual({ applied: 0, pending: 0, changed: 0, missing: 0, dirty: 0, running: 0, head: undefined, invalidIndexes: [] })
    })

    test('inspect rows: pages in primary-key order; every value is data; every name is checked', async () => {
      const { config } = await fresh(dialect)
      await setUp(config, [
        'CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL)',
        "INSERT INTO users VALUES (3, 'eve@example.com'), (1, 'ann@example.com'), (2, 'bob@example.com')",
      ])
      const read = (request: Parameters<typeof inspectRows>[1]) => inspectRows(config, request, { connect })
      expect(await read({ table: 'users', limit: 2, offset: 2 })).toMatchObject({
        rows: [{ id: 3 }],
        has_more: false,
        next_offset: null,
        order: [{ column: 'id', direction: 'asc' }],
      })
      expect((await read({ table: 'users', where: [{ column: 'email', value: 'bob@example.com' }] })).rows).toEqual([
        { id: 2, email: 'bob@example.com' },
      ])
      for (const value of ["x' OR '1'='1", "x'; DROP TABLE users; --", "bob@example.com' --", '%', '\\', '$1', '?']) {
        expect((await read({ table: 'users', where: [{ column: 'email', value }] })).rows, value).toEqual([])
      }
      const refusals: Array<[Parameters<typeof inspectRows>[1], string]> = [
        [{ table: 'users; DROP TABLE users' }, 'UNKNOWN_TABLE'],
        [{ table: '"users' }, 'UNKNOWN_TABLE'],
        [{ table: 'users', where: [{ column: 'email = email OR 1', value: '1' }] }, 'UNKNOWN_COLUMN'],
        [{ table: 'users', order: { column: 'id; DROP TABLE users', direction: 'desc' } }, 'UNKNOWN_COLUMN'],
        [{ table: 'users', order: { column: '1', direction: 'asc' } }, 'UNKNOWN_COLUMN'],
      ]
      for (const [request, code] of refusals) {
        await expect(read(request), JSON.stringify(request)).rejects.toThrow(expect.objectContaining({ code, exitCode: 2 }))
      }
      // the database's own rules for names: a quoted name, and an upper-case one (folded, or matched regardless of case)
      expect((await read({ table: '"users"' })).table).toBe('users')
      expect((await read({ table: 'USERS', where: [{ column: 'EMAIL', value: 'bob@example.com' }] })).rows).toEqual([
        { id: 2, email: 'bob@example.com' },
      ])
      await expect(read({ table: 'users', limit: 0 })).rejects.toThrow(UsageError)
      const all = await read({ table: 'users', limit: 10 })
      expect(all.rows.map((r) => r.id)).toEqual([1, 2, 3])
    })

    test('a failing source fails its own component only; the report keeps its shape', async () => {
      const { config } = await fresh(dialect)
      await setUp(config, [])
      const result = await checkHealth(
        config,
        { thresholds: resolveThresholds(), connect },
        {
          migrations: () => Promise.reject(new Error('migrations module exploded')),
          backups: async () => ({ newestAt: new Date(), level: 'restore', file: '/b/x', count: 1 }),
        },
      )
      expect(result.exitCode).toBe(1)
      expect(result.report.status).toBe('fail')
      const byName = Object.fromEntries(result.report.components.map((c) => [c.name, c]))
      expect(result.report.components[0]?.name).toBe('connection')
      expect(byName.connection?.status).toBe('ok')
      expect(byName.migrations).toMatchObject({ status: 'fail', details: { error: 'migrations module exploded' } })
      expect(byName.backups).toMatchObject({ status: 'ok', details: { verification: 'restore', count: 1 } })
    })
  })
}
