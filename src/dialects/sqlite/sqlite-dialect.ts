/**
 * SQLite through better-sqlite3. One handle per connection; the pragmas of the config
 * (`journal_mode`, `synchronous`, `cache_size`, `busy_timeout`) and `foreign_keys = ON` are
 * applied on open. Opened for reading, a missing file is an error and is never created.
 */
import fs from 'node:fs'
import path from 'node:path'
import type Database from 'better-sqlite3'
import { Kysely, SqliteDialect as KyselySqliteDialect } from 'kysely'
import type { SqliteTarget } from '../../config/database-url.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { DatabaseMissingError, DbopsError, ExitCode, IntegrityError, errorCodeOf, messageOf } from '../../errors.js'
import type { ConnectOptions, DbConnection, Dialect } from '../dialect.js'
import { openDatabase } from './open-database.js'
import { createSqliteBackup, prepareSqliteBackup, verifySqliteBackup } from './sqlite-backup.js'
import { restoreSqliteBackup } from './sqlite-restore.js'
import { sqliteFileIdentity, sqliteIdentityOfRecordedSource } from './sqlite-identity.js'

/** The subset of better-sqlite3's handle dbops uses directly (pragmas, backup). */
export type SqliteHandle = Database.Database

/** A SQLite connection: the Kysely instance plus the raw handle for pragmas and backups. */
export interface SqliteConnection extends DbConnection {
  readonly handle: SqliteHandle
}

/**
 * Opens `target` with better-sqlite3 and applies the configured pragmas. Maps a missing
 * file (read mode), a directory that cannot be written, and a file that is not a database
 * to typed errors naming the path.
 */
export function openSqlite(target: SqliteTarget, config: ResolvedConfig, mode: 'read' | 'write'): SqliteHandle {
  const file = target.path
  const inMemory = file === ':memory:'
  if (!inMemory && mode === 'read' && !fs.existsSync(file)) {
    throw new DatabaseMissingError(`SQLite file ${file} does not exist`, {
      code: 'DB_FILE_MISSING',
      hint: 'Check DATABASE_URL / DATABASE_PATH, or run `dbops migrate up` to create the database.',
    })
  }
  if (!inMemory && mode === 'write') ensureDirectory(path.dirname(file))
  let handle: SqliteHandle
  try {
    handle = openDatabase(file, { fileMustExist: mode === 'read', timeout: config.sqlite.busyTimeoutMs })
  } catch (err) {
    throw mapOpenError(err, file)
  }
  try {
    // Reading sqlite_schema proves the file is a database (better-sqlite3 opens lazily).
    handle.prepare('SELECT count(*) FROM sqlite_schema').get()
    if (mode === 'write' && !inMemory) handle.pragma(`journal_mode = ${config.sqlite.journalMode}`)
    handle.pragma(`synchronous = ${config.sqlite.synchronous}`)
    if (config.sqlite.cacheSize !== undefined) handle.pragma(`cache_size = ${config.sqlite.cacheSize}`)
    handle.pragma('foreign_keys = ON')
  } catch (err) {
    handle.close()
    throw mapOpenError(err, file)
  }
  return handle
}

function ensureDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new DbopsError('DB_FILE_ACCESS', ExitCode.access, `Cannot create directory ${dir} for the SQLite database: ${messageOf(err)}`, {
      hint: 'Check the path in DATABASE_URL / DATABASE_PATH and the permissions of its parent directory.',
      cause: err,
    })
  }
}

function mapOpenError(err: unknown, file: string): DbopsError {
  const code = errorCodeOf(err) ?? ''
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new IntegrityError('DB_CORRUPT', `SQLite file ${file} is not a database or is corrupt (${messageOf(err)})`, {
      hint: 'Check the path; restore the latest backup with `dbops backup restore` if the file was damaged.',
      cause: err,
    })
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    const dir = path.dirname(file)
    const why = fs.existsSync(dir) ? 'the file or its directory is not writable' : 'its directory does not exist'
    return new DbopsError('DB_FILE_ACCESS', ExitCode.access, `Cannot open SQLite file ${file}: ${why}`, {
      hint: `Check the permissions of ${dir}, or point DATABASE_URL / DATABASE_PATH elsewhere.`,
      cause: err,
    })
  }
  return new DbopsError('DB_OPEN_FAILED', ExitCode.failed, `Cannot open SQLite file ${file}: ${messageOf(err)}`, { cause: err })
}

/** SQLite: transactional DDL, no advisory locks (the write lock serialises), no schemas. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  supportsTransactionalDdl: true,
  supportsAdvisoryLocks: false,
  supportsSchemas: false,

  async connect(config: ResolvedConfig, options: ConnectOptions): Promise<SqliteConnection> {
    if (config.target.dialect !== 'sqlite') throw new TypeError('sqliteDialect.connect needs a SQLite target')
    const target = config.target
    const started = performance.now()
    const handle = openSqlite(target, config, options.mode)
    const serverVersion = (handle.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
    const onQuery = options.onQuery
    const db = new Kysely<any>({
      dialect: new KyselySqliteDialect({ database: handle }),
      log: onQuery
        ? (event) => {
            if (event.level === 'query') onQuery(event.query.sql, event.queryDurationMillis)
          }
        : undefined,
    })
    let closed = false
    return {
      dialect: sqliteDialect,
      target,
      db,
      handle,
      serverVersion,
      connectMs: performance.now() - started,
      async close() {
        if (closed) return
        closed = true
        await db.destroy() // closes the handle
      },
    }
  },

  async introspect(conn) {
    return (await import('./sqlite-introspector.js')).introspectSqlite(conn)
  },
  async acquireMigrationLock(conn, options) {
    return (await import('./sqlite-migration-session.js')).acquireSqliteMigrationLock(conn as SqliteConnection, options)
  },
  prepareBackup: (config, options) => prepareSqliteBackup(config, options),
  createBackup: (request) => createSqliteBackup(request),
  restoreBackup: (request) => restoreSqliteBackup(request),
  verifyBackup: (request) => verifySqliteBackup(request),
  async readBackupIdentity(config, options) {
    const target = options.conn?.target ?? config.target
    if (target.dialect !== 'sqlite') throw new TypeError('sqliteDialect.readBackupIdentity needs a SQLite target')
    return sqliteFileIdentity(target.path)
  },
  identityOfRecordedSource: (source) => sqliteIdentityOfRecordedSource(source),
  async probeHealth(conn, options) {
    return (await import('./sqlite-health.js')).probeSqliteHealth(conn, options)
  },
  async probePool(conn) {
    return (await import('./sqlite-pool.js')).probeSqlitePool(conn)
  },
}
