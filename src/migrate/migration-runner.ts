/**
 * What every migrate operation shares: its options and results, reading the directory, and
 * opening a connection with the dialect's migration session (the lock) and the migration
 * store, or reading the store without the lock. Preparing steps is `prepare-migrations.ts`,
 * running them `run-migrations.ts`.
 */
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connect } from '../dialects/index.js'
import type { ConnectOptions, DbConnection, LockHolder } from '../dialects/dialect.js'
import type { MigrationRow, MigrationSession } from '../dialects/migration-port.js'
import { DbopsError, InterruptedError, LockTimeoutError, UsageError } from '../errors.js'
import { type DiscoveredMigrations, type MigrationFile, compareVersions, discoverMigrations } from './discover-migrations.js'
import { assertHistoryHere } from './history-guard.js'
import { type MigrationInvalidIndex, readMigrationInvalidIndexes } from './invalid-indexes.js'
import type { LockRetry } from './lock-retry.js'
import { indentedMarkerWarning } from './parse-sql-migration.js'
import { type HistoryState, MigrationStore, withMigrationRunner } from './migration-store.js'

/** Options every migrate operation takes. */
export interface MigrationOptions {
  /**
   * Milliseconds to wait for another run's lock (exit 5 after). Default: the config's
   * `migrations.lockTimeout` / `DBOPS_LOCK_TIMEOUT`, else 60 s: long enough for another
   * deploy's run to finish.
   */
  lockTimeoutMs?: number
  /** PostgreSQL `lock_timeout` for migration statements, ms (0: wait forever). Default: the config's (5 s). */
  statementLockTimeoutMs?: number
  /**
   * Retries of a transactional migration that hit `lock_timeout` (see `lock-retry.ts`).
   * Default: the config's `migrations.lockRetries` (3).
   */
  lockRetries?: number
  /** SIGINT/SIGTERM: cancels the running statement and stops the run. */
  signal?: AbortSignal
  /** Connection options (application name, SQL echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  /** Called once when another run holds the lock, with a sentence saying who. */
  onWait?: (message: string) => void
  /** Progress of each migration, for the task list or plain lines. */
  onProgress?: (event: MigrationProgress) => void
  /**
   * Start or use the configured history table although another history with rows exists in
   * the database (two applications sharing one): skips the guard (`assertHistoryHere`).
   * Default false. The CLI offers it on `up` and `baseline` (`--new-history`).
   */
  newHistory?: boolean
}

/** Progress of a run. */
export type MigrationProgress =
  | { type: 'plan'; direction: 'up' | 'down'; migrations: Array<{ version: string; name: string }> }
  | { type: 'start'; version: string; name: string }
  | {
      type: 'done'
      version: string
      name: string
      status: MigrationResultStatus
      durationMs: number
    }
  | { type: 'failed'; version: string; name: string; error: DbopsError }
  /** A transactional migration hit `lock_timeout`, was rolled back, and runs again after `retry.delay_ms`. */
  | { type: 'retry'; version: string; name: string; retry: LockRetry; of: number }

/** What happened to one migration in a run. */
export type MigrationResultStatus = 'applied' | 'reverted' | 'skipped' | 'failed' | 'not_run' | 'planned'

/** One migration in a run's result (snake_case: it is the `--json` document). */
export interface MigrationResult {
  version: string
  name: string
  status: MigrationResultStatus
  duration_ms: number | null
  /** With `--dry-run`: the statements of a `.sql` section, or a note for a module. */
  statements?: string[]
  /** With `--dry-run`: false for `transaction:false`. */
  transaction?: boolean
  /** How many times it ran, when it was retried after `lock_timeout`. */
  attempts?: number
  /** Its retries after `lock_timeout`, when it had any. */
  lock_retries?: LockRetry[]
}

/**
 * The result of `migrate up` / `migrate down`: every planned migration with what became of
 * it, the head afterwards, and the error that stopped the run (undefined on success). A
 * failure after some migrations applied is data, not only an exception: those stay applied.
 */
export interface MigrationRunResult {
  /** The database, as `describeTarget` names it. */
  database: string
  direction: 'up' | 'down'
  dry_run: boolean
  results: MigrationResult[]
  /** Greatest applied version afterwards, or null. */
  head: string | null
  /** The failure that stopped the run; the command renders it and exits with its code. */
  error: DbopsError | undefined
  /** Things about the run's files to fix, one per file (indented dbmate markers). */
  warnings: string[]
}

/** The directory as messages name it: relative to the working directory when inside it. */
export function displayPath(config: ResolvedConfig, file: string): string {
  const relative = path.relative(config.cwd, file)
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? file : relative
}

/**
 * One warning per `.sql` file of `files` whose `-- migrate:up` / `-- migrate:down` markers
 * are indented: dbops splits there, dbmate would not.
 */
export function indentedMarkerWarnings(config: ResolvedConfig, files: readonly MigrationFile[]): string[] {
  return files
    .filter((file) => file.kind === 'sql')
    .map((file) => indentedMarkerWarning(file.content, displayPath(config, file.path)))
    .filter((warning): warning is string => warning !== undefined)
}

/** Reads the migrations directory of `config`. */
export function readMigrationsDir(config: ResolvedConfig): DiscoveredMigrations {
  return discoverMigrations(config.migrationsDir, displayPath(config, config.migrationsDir))
}

/** The lock wait, in ms. */
export function lockTimeoutMsFor(config: ResolvedConfig, options: MigrationOptions): number {
  if (options.lockTimeoutMs !== undefined) return options.lockTimeoutMs
  if (config.migrationLockTimeoutSeconds !== undefined) return config.migrationLockTimeoutSeconds * 1000
  return 60_000
}

/**
 * Connects for a migrate command: a database another process keeps locked is waited for up
 * to `lockWaitMs` (undefined: the dialect's default), and then it is a lock timeout (exit 5)
 * like any other.
 */
async function connectForMigrations(
  config: ResolvedConfig,
  options: MigrationOptions,
  mode: 'read' | 'write',
  command: string,
  lockWaitMs: number | undefined,
): Promise<DbConnection> {
  try {
    return await connect(config, { command, signal: options.signal, ...options.connect, mode, lockWaitMs })
  } catch (err) {
    if (err instanceof DbopsError && err.code === 'DB_LOCKED')
      throw new LockTimeoutError(err.message, {
        hint: 'It is transient: retry when that process has finished, or wait longer with --lock-timeout.',
        cause: err,
      })
    throw err
  }
}

/**
 * Opens a connection and the migration session (the lock), checks that the history is where
 * the settings say (`assertHistoryHere`, unless `options.newHistory`), runs `fn` with the
 * session, the database's migration store, the connection (its queries sent through the
 * session: catalog reads need no connection of their own) and the history as read under the
 * lock, and releases both, whatever happens. `mode: 'read'`
 * (commands that need an existing database: down, repair…) never creates a SQLite file; the
 * connection can still write.
 */
export async function usingMigrationSession<T>(
  config: ResolvedConfig,
  options: MigrationOptions,
  command: string,
  fn: (session: MigrationSession, store: MigrationStore, conn: DbConnection, history: HistoryState) => Promise<T>,
  mode: 'read' | 'write' = 'write',
): Promise<T> {
  const conn = await connectForMigrations(config, options, mode, command, lockTimeoutMsFor(config, options))
  try {
    const store = new MigrationStore(conn.dialect.migrationTable, config.migrationsTable)
    let session: MigrationSession
    try {
      session = await conn.dialect.acquireMigrationLock(conn, {
        records: store,
        timeoutMs: lockTimeoutMsFor(config, options),
        signal: options.signal,
        schema: config.schema,
        table: config.migrationsTable,
        statementLockTimeoutMs: options.statementLockTimeoutMs ?? config.statementLockTimeoutSeconds * 1000,
        onQuery: options.connect?.onQuery,
        onWait: (holder) => {
          const who = holder
            ? `pid ${holder.pid ?? '?'}${holder.applicationName ? ` (${holder.applicationName})` : ''}${holder.since ? ` since ${holder.since.toISOString()}` : ''}`
            : 'another process'
          options.onWait?.(`waiting for the migration lock held by ${who}…`)
        },
      })
    } catch (err) {
      if (err instanceof InterruptedError) {
        throw new InterruptedError(
          err.signal,
          `Interrupted by ${err.signal} while waiting for the migration lock; nothing was applied or changed.`,
        )
      }
      throw err
    }
    try {
      const history = await store.readHistory(session)
      if (!options.newHistory) await assertHistoryHere(store, session, config.historySiblings, history)
      return await fn(session, store, throughSession(conn, session), history)
    } finally {
      await session.release()
    }
  } finally {
    await conn.close()
  }
}

/** `conn` with its queries sent through `session` (the pinned connection on PostgreSQL), so catalog reads open none. */
function throughSession(conn: DbConnection, session: MigrationSession): DbConnection {
  return Object.create(conn, {
    db: { get: () => session.db },
    query: { value: (text: string, parameters: readonly unknown[]) => session.query(text, parameters) },
  }) as DbConnection
}

/**
 * Runs `fn` over a read connection to the target without the lock, or with undefined when the
 * database does not exist yet (a SQLite file not made yet).
 */
export async function usingReadConnection<T>(
  config: ResolvedConfig,
  options: MigrationOptions,
  command: string,
  fn: (conn: DbConnection | undefined) => Promise<T>,
): Promise<T> {
  let conn: DbConnection
  try {
    // a read that takes no lock waits as long as the user asked, else as any read does
    conn = await connectForMigrations(config, options, 'read', command, options.lockTimeoutMs)
  } catch (err) {
    if (err instanceof DbopsError && err.code === 'DB_FILE_MISSING') return fn(undefined)
    throw err
  }
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

/**
 * Reads the recorded rows without taking the lock or creating anything (status, dry runs),
 * after the guard (`assertHistoryHere`, unless `options.newHistory`).
 * A SQLite file that does not exist yet reads as an empty database. `runner`: the run holding
 * the migration lock when a row is `started` (see `withMigrationRunner`), for `classifyMigrations`.
 * With `files`, also the invalid indexes their `CREATE INDEX` statements left (`invalidIndexes`).
 */
export function readRowsReadOnly(
  config: ResolvedConfig,
  options: MigrationOptions,
  command: string,
  files?: readonly MigrationFile[],
): Promise<ReadOnlyRows> {
  return usingReadConnection(config, options, command, (conn) => readRowsOn(conn, config, options, files))
}

/** What {@link readRowsReadOnly} reads. */
export interface ReadOnlyRows {
  rows: MigrationRow[]
  runner: LockHolder | undefined
  dbmateVersions: string[] | undefined
  tableExists: boolean
  databaseExists: boolean
  invalidIndexes: MigrationInvalidIndex[]
}

/** {@link readRowsReadOnly} over a connection the caller holds (undefined: the database does not exist yet). */
export async function readRowsOn(
  conn: DbConnection | undefined,
  config: ResolvedConfig,
  options: MigrationOptions,
  files?: readonly MigrationFile[],
): Promise<ReadOnlyRows> {
  if (!conn)
    return { rows: [], runner: undefined, dbmateVersions: undefined, tableExists: false, databaseExists: false, invalidIndexes: [] }
  const store = new MigrationStore(conn.dialect.migrationTable, config.migrationsTable)
  const db = conn
  const history = await store.readHistory(db)
  if (!options.newHistory) await assertHistoryHere(store, db, config.historySiblings, history)
  const { rows, runner } = await withMigrationRunner(conn, store, history.rows)
  const dbmateVersions = history.exists ? undefined : await store.readDbmateVersions(db, history.dbmateExists)
  const invalidIndexes = files ? await readMigrationInvalidIndexes(conn, files) : []
  return { rows, runner, dbmateVersions, tableExists: history.exists, databaseExists: true, invalidIndexes }
}

/**
 * Finds the migration `name` refers to: a version (`20250101120000`), a file name, or a file
 * name without its extension. Unknown: a usage error (exit 2).
 */
export function findMigration(
  name: string,
  migrations: Array<{ version: string; name: string }>,
  dirLabel: string,
): { version: string; name: string } {
  const wanted = name.trim()
  const found = migrations.find(
    (m) =>
      m.version === wanted ||
      m.name === wanted ||
      m.name.replace(/\.[^.]+$/, '') === wanted ||
      (/^\d+$/.test(wanted) && compareVersions(m.version, wanted) === 0),
  )
  if (!found) {
    throw new UsageError(`No migration "${name}" in ${dirLabel} or in dbops_migrations`, {
      code: 'MIGRATION_NOT_FOUND',
      hint: 'Name it by version (20250101120000) or file name; `dbops migrate status` lists them.',
    })
  }
  return found
}
