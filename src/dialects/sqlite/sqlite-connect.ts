/**
 * Connecting to SQLite through better-sqlite3. One handle per connection; the pragmas of the
 * config (`journal_mode`, `synchronous`, `cache_size`, `busy_timeout`) and `foreign_keys = ON`
 * are applied on open. Opened for reading, a missing file is an error and is never created.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Kysely, SqliteDialect as KyselySqliteDialect } from '../../kysely-runtime.js'
import type { SqliteTarget } from '../../config/database-url.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { DatabaseMissingError, DbopsError, ExitCode, IntegrityError, errorCodeOf, messageOf } from '../../errors.js'
import type { ConnectOptions, Dialect } from '../dialect.js'
import { echoQueries } from '../echo-queries.js'
import { sleep } from '../retry-within-deadline.js'
import { openDatabase } from './open-database.js'
import type { SqliteConnection, SqliteHandle } from './sqlite-connection.js'
import { describeFileUsers, findSqliteFileUsers, findSqliteWriters } from './sqlite-file-users.js'
import { formatSeconds } from './sqlite-lock-file.js'

/**
 * Opens the configured SQLite file as a connection of `dialect`: statements through the
 * handle, and Kysely over it once asked for (each statement echoed to `options.onQuery`). A file another process keeps locked is
 * waited for up to `options.lockWaitMs` (default: the busy timeout); see {@link openSqlite}.
 */
export async function connectSqlite(dialect: Dialect, config: ResolvedConfig, options: ConnectOptions): Promise<SqliteConnection> {
  if (config.target.dialect !== 'sqlite') throw new TypeError('sqliteDialect.connect needs a SQLite target')
  const target = config.target
  const started = performance.now()
  const handle = await openSqlite(target, config, options.mode, options.lockWaitMs ?? config.sqlite.busyTimeoutMs, options.signal)
  const serverVersion = (handle.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  let db: Kysely<any> | undefined
  let closed = false
  return {
    dialect,
    target,
    get db() {
      return (db ??= new Kysely<any>({ dialect: new KyselySqliteDialect({ database: handle }), log: echoQueries(options.onQuery) }))
    },
    handle,
    serverVersion,
    connectMs: performance.now() - started,
    async query(text, parameters) {
      const started = performance.now()
      const statement = handle.prepare(text)
      const rows = statement.reader ? (statement.all(...parameters) as Array<Record<string, unknown>>) : (statement.run(...parameters), [])
      options.onQuery?.(text, performance.now() - started)
      return rows
    },
    async close() {
      if (closed) return
      closed = true
      if (db)
        await db.destroy() // closes the handle
      else handle.close()
    },
  }
}

/**
 * Opens `target` with better-sqlite3 and applies the configured pragmas, waiting up to
 * `waitMs` for a file another process keeps locked by polling (busy timeout 0, short sleeps)
 * rather than inside SQLite's busy handler, which would block the event loop: a signal still
 * ends the wait. Maps a missing file (read mode), a directory that cannot be written, a file
 * that is not a database, and a file still locked after the wait (exit 4, naming the writer)
 * to typed errors naming the path.
 */
async function openSqlite(
  target: SqliteTarget,
  config: ResolvedConfig,
  mode: 'read' | 'write',
  waitMs: number,
  signal?: AbortSignal,
): Promise<SqliteHandle> {
  checkBeforeOpen(target.path, mode)
  const deadline = Date.now() + waitMs
  let delay = 5
  for (;;) {
    try {
      const handle = openAndProbe(target.path, config, mode, 0)
      handle.pragma(`busy_timeout = ${config.sqlite.busyTimeoutMs}`)
      return handle
    } catch (err) {
      const remaining = deadline - Date.now()
      if (!isBusy(err) || remaining <= 0) throw mapOpenError(err, target.path, waitMs)
      await sleep(Math.min(delay, remaining), signal)
      delay = Math.min(delay * 2, 50)
    }
  }
}

function checkBeforeOpen(file: string, mode: 'read' | 'write'): void {
  const inMemory = file === ':memory:'
  if (!inMemory && mode === 'read' && !fs.existsSync(file)) {
    throw new DatabaseMissingError(`SQLite file ${file} does not exist`, {
      code: 'DB_FILE_MISSING',
      hint: 'Check DATABASE_URL / DATABASE_PATH, or run `dbops migrate up` to create the database.',
    })
  }
  if (!inMemory && mode === 'write') ensureDirectory(path.dirname(file))
}

/** Opens `file` and reads from it (better-sqlite3 opens lazily); throws the driver's error. */
function openAndProbe(file: string, config: ResolvedConfig, mode: 'read' | 'write', busyTimeoutMs: number): SqliteHandle {
  const handle = openDatabase(file, { fileMustExist: mode === 'read', timeout: busyTimeoutMs })
  try {
    // Reading sqlite_schema proves the file is a database.
    handle.prepare('SELECT count(*) FROM sqlite_schema').get()
    if (mode === 'write' && file !== ':memory:') handle.pragma(`journal_mode = ${config.sqlite.journalMode}`)
    handle.pragma(`synchronous = ${config.sqlite.synchronous}`)
    if (config.sqlite.cacheSize !== undefined) handle.pragma(`cache_size = ${config.sqlite.cacheSize}`)
    handle.pragma('foreign_keys = ON')
  } catch (err) {
    handle.close()
    throw err
  }
  return handle
}

function isBusy(err: unknown): boolean {
  const code = errorCodeOf(err) ?? ''
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
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

function mapOpenError(err: unknown, file: string, waitedMs: number): DbopsError {
  const code = errorCodeOf(err) ?? ''
  if (isBusy(err)) return lockedError(err, file, waitedMs)
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

/**
 * The file stayed locked by another process: transient (exit 4). Names the writer from the
 * kernel's lock table, or else the processes with the file open (one of them holds a lock
 * that keeps this one from opening, e.g. a reader while the journal mode changes).
 */
function lockedError(err: unknown, file: string, waitedMs: number): DbopsError {
  const writers = findSqliteWriters(file)
  const who =
    writers.length > 0
      ? `a writer holds it, ${describeFileUsers(writers)}`
      : `another connection holds it (processes with it open: ${describeFileUsers(findSqliteFileUsers(file))})`
  return new DbopsError(
    'DB_LOCKED',
    ExitCode.unreachable,
    `SQLite file ${file} is locked: ${who}; still locked after ${formatSeconds(waitedMs)}`,
    {
      hint:
        'It is transient: retry when that transaction has ended, or wait longer with SQLITE_BUSY_TIMEOUT (milliseconds).' +
        (writers[0] ? ` If it is stuck, end it: kill ${writers[0].pid}` : ''),
      cause: err,
    },
  )
}
