/**
 * One suite per dialect: `for (const dialect of testDialects()) describe(dialect.name, …)`.
 * Each call of `create()` gives a fresh, empty database (a SQLite file in a temp dir, or a
 * new database in the test cluster) and a cleanup that leaves nothing behind.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, inject } from 'vitest'
import { createTestDatabase } from './postgres.js'

/** A database made for one test. */
export interface TestDatabase {
  /** Its URL, as a user would put it in DATABASE_URL. */
  url: string
  /** A directory for the test's files (migrations, backups, .env). */
  dir: string
  cleanup(): Promise<void>
}

/** One dialect under test. */
export interface TestDialect {
  name: 'sqlite' | 'postgres'
  create(): Promise<TestDatabase>
}

/** The dialects every suite runs for. */
export function testDialects(): TestDialect[] {
  return [
    {
      name: 'sqlite',
      async create() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-sqlite-'))
        return {
          url: `sqlite:///${path.join(dir, 'app.db')}`,
          dir,
          async cleanup() {
            fs.rmSync(dir, { recursive: true, force: true })
          },
        }
      },
    },
    {
      name: 'postgres',
      async create() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-pg-'))
        const db = await createTestDatabase(inject('pgAdminUrl'))
        return {
          url: db.url,
          dir,
          async cleanup() {
            await db.drop()
            fs.rmSync(dir, { recursive: true, force: true })
          },
        }
      },
    },
  ]
}

/**
 * What a test file sets up once, at its top level: `defer(fn)` runs `fn` after the current
 * test (newest first, whether the test passed or not), and `fresh(dialect)` makes a database
 * whose cleanup is deferred so.
 */
export function perTestCleanup(): {
  defer: (cleanup: () => Promise<void> | void) => void
  fresh: (dialect: TestDialect) => Promise<TestDatabase>
} {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const defer = (cleanup: () => Promise<void> | void) => {
    cleanups.push(cleanup)
  }
  return {
    defer,
    async fresh(dialect) {
      const db = await dialect.create()
      defer(() => db.cleanup())
      return db
    },
  }
}
