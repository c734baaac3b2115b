import { existsSync } from 'node:fs'
import pg from 'pg'
import { describe, expect, inject, onTestFinished, test } from 'vitest'
import { findPgBinaries, startPgCluster } from './pg-cluster.js'
import { createTestDatabase, withUrl } from './postgres.js'

/** Connects, runs one query, and always closes the connection. */
async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  try {
    await client.connect()
    return (await client.query<T>(sql, values)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

/** Resolves to the error a promise rejects with; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected the promise to reject')
}

describe('test PostgreSQL server', () => {
  const adminUrl = inject('pgAdminUrl')

  test('a test database accepts queries', async () => {
    const db = await createTestDatabase(adminUrl)
    onTestFinished(() => db.drop())

    expect(db.name).toMatch(/^dbops_test_[0-9a-f]{12}$/)
    const rows = await queryOnce<{ one: number; db: string }>(db.url, 'SELECT 1 AS one, current_database() AS db')
    expect(rows).toEqual([{ one: 1, db: db.name }])
  })

  test('a wrong password is refused with 28P01', async () => {
    const err = await rejectionOf(queryOnce(withUrl(adminUrl, { password: 'not-the-password' }), 'SELECT 1'))
    expect(err).toBeInstanceOf(pg.DatabaseError)
    expect(err).toMatchObject({ code: '28P01' })
  })

  test('a missing database is refused with 3D000', async () => {
    const err = await rejectionOf(queryOnce(withUrl(adminUrl, { database: 'dbops_test_does_not_exist' }), 'SELECT 1'))
    expect(err).toBeInstanceOf(pg.DatabaseError)
    expect(err).toMatchObject({ code: '3D000' })
  })

  test('drop() removes the database even with a session still open, and may be called twice', async () => {
    const db = await createTestDatabase(adminUrl, 'dbops_drop')
    const leftOpen = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 5_000 })
    leftOpen.on('error', () => {}) // the drop terminates it, on purpose
    await leftOpen.connect()

    await db.drop()
    await db.drop()

    const rows = await queryOnce(adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [db.name])
    expect(rows).toEqual([])
    await leftOpen.end().catch(() => {})
  })
})

describe.skipIf(!findPgBinaries())('startPgCluster', () => {
  test('starts a second server that stop() removes, idempotently', { timeout: 120_000 }, async () => {
    const cluster = await startPgCluster()
    onTestFinished(() => cluster.stop())

    expect(new URL(cluster.url)).toMatchObject({
      username: 'postgres',
      hostname: '127.0.0.1',
      port: String(cluster.port),
      pathname: '/postgres',
    })
    const rows = await queryOnce<{ ok: number }>(cluster.url, 'SELECT 1 AS ok')
    expect(rows).toEqual([{ ok: 1 }])
    expect(existsSync(cluster.dataDir)).toBe(true)

    await Promise.all([cluster.stop(), cluster.stop()])
    await cluster.stop()
    expect(existsSync(cluster.dataDir)).toBe(false)
    const err = await rejectionOf(queryOnce(cluster.url, 'SELECT 1'))
    expect(err).toMatchObject({ code: 'ECONNREFUSED' })
  })
})
