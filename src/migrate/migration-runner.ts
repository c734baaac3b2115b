/**
 * The machinery every migrate operation shares: reading the directory, opening a connection
 * and the dialect's migration session, turning files into steps, and running steps through
 * umzug.
 *
 * Why umzug records nothing: umzug writes its storage *after* a migration's `up` returns, in
 * a separate step, so a crash between the two would leave a migration applied but not
 * recorded. dbops' steps write their own row inside the migration's transaction (the
 * session does it), and the storage handed to umzug only answers `executed()` from the rows
 * read under the lock; its `logMigration` / `unlogMigration` do nothing. umzug drives the
 * run: order, selection, the up/down protocol and its error wrapping.
 */
import { dbopsVersion } from '../package-root.js'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connect, dialectTraits } from '../dialects/index.js'
import type { ConnectOptions, DbConnection, LockHolder } from '../dialects/dialect.js'
import { DbopsError, ExitCode, InterruptedError, LockTimeoutError, UsageError, errorCodeOf, messageOf } from '../errors.js'
import { type ClassifiedMigration, type Classification } from './classify-migrations.js'
import { type DiscoveredMigrations, type MigrationFile, compareVersions, discoverMigrations } from './discover-migrations.js'
import { loadMigrationModule } from './load-migration-module.js'
import { guardModuleSteps } from './guard-module-steps.js'
import { loadUmzug } from './load-umzug.js'
import { MigrationFailedError, describeLocation, invalidSqlMigrationError, locationInStack } from './migration-failed-error.js'
import { MigrationStepError, type MigrationRow, type MigrationSession, type MigrationStep } from './migration-session.js'
import { MIGRATION_TABLE, readDbmateVersions, selectMigrationRows, tableExists, withMigrationRunner } from './migration-table.js'
import { type ParsedSqlMigration, SqlMigrationFormatError, parseSqlMigration } from './parse-sql-migration.js'

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
  /** SIGINT/SIGTERM: cancels the running statement and stops the run. */
  signal?: AbortSignal
  /** Connection options (application name, SQL echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  /** Called once when another run holds the lock, with a sentence saying who. */
  onWait?: (message: string) => void
  /** Progress of each migration, for the task list or plain lines. */
  onProgress?: (event: MigrationProgress) => void
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
}

/** The directory as messages name it: relative to the working directory when inside it. */
export function displayPath(config: ResolvedConfig, file: string): string {
  const relative = path.relative(config.cwd, file)
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? file : relative
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
 * Opens a connection and the migration session (the lock), runs `fn`, and releases both,
 * whatever happens. `mode: 'read'` (commands that need an existing database: down, repair…)
 * never creates a SQLite file; the connection can still write.
 */
export async function usingMigrationSession<T>(
  config: ResolvedConfig,
  options: MigrationOptions,
  command: string,
  fn: (session: MigrationSession, conn: DbConnection) => Promise<T>,
  mode: 'read' | 'write' = 'write',
): Promise<T> {
  const conn = await connectForMigrations(config, options, mode, command, lockTimeoutMsFor(config, options))
  try {
    let session: MigrationSession
    try {
      session = await conn.dialect.acquireMigrationLock(conn, {
        timeoutMs: lockTimeoutMsFor(config, options),
        signal: options.signal,
        schema: config.schema,
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
      return await fn(session, conn)
    } finally {
      await session.release()
    }
  } finally {
    await conn.close()
  }
}

/**
 * Reads the recorded rows without taking the lock or creating anything (status, dry runs).
 * A SQLite file that does not exist yet reads as an empty database. `runner`: the run holding
 * the migration lock when a row is `started` (see `withMigrationRunner`), for `classifyMigrations`.
 */
export async function readRowsReadOnly(
  config: ResolvedConfig,
  options: MigrationOptions,
  command: string,
): Promise<{
  rows: MigrationRow[]
  runner: LockHolder | undefined
  dbmateVersions: string[] | undefined
  tableExists: boolean
  databaseExists: boolean
  flavour: 'postgres' | 'sqlite'
}> {
  let conn: DbConnection
  try {
    // a read that takes no lock waits as long as the user asked, else as any read does
    conn = await connectForMigrations(config, options, 'read', command, options.lockTimeoutMs)
  } catch (err) {
    if (err instanceof DbopsError && err.code === 'DB_FILE_MISSING') {
      return {
        rows: [],
        runner: undefined,
        dbmateVersions: undefined,
        tableExists: false,
        databaseExists: false,
        flavour: 'sqlite',
      }
    }
    throw err
  }
  try {
    const exists = await tableExists(conn.db, conn.dialect, config.schema, MIGRATION_TABLE)
    const { rows, runner } = await withMigrationRunner(
      conn,
      config.schema,
      exists ? await selectMigrationRows(conn.db, conn.dialect, config.schema) : [],
    )
    const dbmateVersions = exists ? undefined : await readDbmateVersions(conn.db, conn.dialect, config.schema)
    return {
      rows,
      runner,
      dbmateVersions,
      tableExists: exists,
      databaseExists: true,
      flavour: conn.dialect.name,
    }
  } finally {
    await conn.close()
  }
}

/** The refusal when dbmate manages the database and dbops does not yet (exit 6). */
export function dbmateManagedError(versions: string[]): DbopsError {
  return new DbopsError(
    'DBMATE_MANAGED',
    ExitCode.integrity,
    `This database is managed by dbmate (schema_migrations holds ${versions.length} version${versions.length === 1 ? '' : 's'}) and has no dbops_migrations table`,
    {
      hint: 'Run `dbops migrate import-dbmate` to adopt dbmate’s history; `up` will not re-run what dbmate applied.',
    },
  )
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

/** A migration ready to run: its step, and the file for messages. */
export interface PreparedMigration {
  file: MigrationFile
  label: string
  step: MigrationStep
  /** Statements for a dry run. */
  preview: { statements: string[]; transaction: boolean }
}

/**
 * Parses (`.sql`) or loads (`.ts`/`.js`) each migration of a plan, before anything runs, so
 * a broken file stops the run with nothing applied. A missing down section, for `down`, is
 * an error naming the file (exit 1).
 */
export async function prepareMigrations(
  config: ResolvedConfig,
  plan: ClassifiedMigration[],
  direction: 'up' | 'down',
  flavour: 'postgres' | 'sqlite',
): Promise<PreparedMigration[]> {
  const prepared: PreparedMigration[] = []
  for (const entry of plan) {
    const file = entry.file!
    const label = displayPath(config, file.path)
    const row = {
      version: file.version,
      name: file.name,
      checksum: file.checksum,
      dbopsVersion: dbopsVersion(),
    }
    if (file.kind === 'sql') {
      let parsed: ParsedSqlMigration
      try {
        parsed = parseSqlMigration(file.content, dialectTraits(flavour).sqlSyntax)
      } catch (err) {
        if (err instanceof SqlMigrationFormatError) throw invalidSqlMigrationError(err, label, file.path)
        throw err
      }
      const section = direction === 'up' ? parsed.up : parsed.down
      if (!section || (direction === 'down' && section.statements.length === 0)) {
        throw noDownError(label, file.path, 'its `-- migrate:down` section is missing or empty')
      }
      prepared.push({
        file,
        label,
        step: {
          direction,
          row,
          transaction: section.transaction,
          foreignKeysOff: section.foreignKeysOff,
          body: { kind: 'sql', section },
        },
        preview: {
          statements: section.statements.map((s) => s.text),
          transaction: section.transaction,
        },
      })
    } else {
      // loaded even for a dry run: a module that does not compile fails before anything runs
      const mod = await loadMigrationModule(file, label)
      const run = direction === 'up' ? mod.up : mod.down
      if (!run) throw noDownError(label, file.path, 'it exports no down(db) function')
      prepared.push({
        file,
        label,
        step: {
          direction,
          row,
          transaction: mod.transaction,
          foreignKeysOff: mod.foreignKeysOff,
          body: { kind: 'function', run },
        },
        preview: {
          statements: [`(${path.extname(file.name)} module: runs ${direction}(db))`],
          transaction: mod.transaction,
        },
      })
    }
  }
  return prepared
}

function noDownError(label: string, file: string, why: string): MigrationFailedError {
  return new MigrationFailedError(
    'MIGRATION_NO_DOWN',
    ExitCode.failed,
    `Migration ${label} cannot be rolled back: ${why}`,
    { file },
    {
      hint: 'Nothing was rolled back. Add a down section (or function), or roll back to a later migration with --to.',
    },
  )
}

/**
 * Runs prepared migrations in order through umzug. Returns every migration's result and the
 * error that stopped the run; those before it stay applied (or rolled back).
 */
export async function runMigrations(
  config: ResolvedConfig,
  session: MigrationSession,
  classification: Classification,
  prepared: PreparedMigration[],
  direction: 'up' | 'down',
  options: MigrationOptions,
): Promise<{ results: MigrationResult[]; error: DbopsError | undefined }> {
  const results: MigrationResult[] = prepared.map((p) => ({
    version: p.file.version,
    name: p.file.name,
    status: 'not_run',
    duration_ms: null,
  }))
  const byName = new Map(prepared.map((p, index) => [p.file.name, index]))
  const signal = options.signal
  const onAbort = () => void session.cancel()
  signal?.addEventListener('abort', onAbort, { once: true })
  options.onProgress?.({
    type: 'plan',
    direction,
    migrations: prepared.map((p) => ({ version: p.file.version, name: p.file.name })),
  })

  const guard = guardModuleSteps()
  const run = async (name: string) => {
    const index = byName.get(name)!
    const item = prepared[index]!
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
    guard.throwStray()
    options.onProgress?.({ type: 'start', version: item.file.version, name })
    results[index]!.status = 'failed'
    const outcome = await session.run(guard.supervise(item.step, name))
    const status: MigrationResultStatus = outcome.status === 'skipped' ? 'skipped' : direction === 'up' ? 'applied' : 'reverted'
    // to 0.1 ms: most small migrations take under 1 ms, and the run's total sums these
    results[index] = { ...results[index]!, status, duration_ms: Math.round(outcome.durationMs * 10) / 10 }
    options.onProgress?.({
      type: 'done',
      version: item.file.version,
      name,
      status,
      durationMs: outcome.durationMs,
    })
  }
  const Umzug = loadUmzug()
  const applied = new Set(classification.migrations.filter((m) => m.row).map((m) => m.name))
  const umzug = new Umzug({
    migrations: classification.migrations
      .filter((m) => m.file)
      .map((m) => ({
        name: m.name,
        path: m.file!.path,
        up: () => run(m.name),
        down: () => run(m.name),
      })),
    storage: {
      executed: async () => [...applied],
      logMigration: async () => undefined, // recorded inside the migration's own transaction
      unlogMigration: async () => undefined,
    },
    logger: undefined,
  })
  let error: DbopsError | undefined
  try {
    const names = prepared.map((p) => p.file.name)
    if (direction === 'up') await umzug.up({ migrations: names })
    else await umzug.down({ migrations: names })
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err
    const index = results.findIndex((r) => r.status === 'failed')
    error = describeRunError(cause, index >= 0 ? prepared[index] : undefined, direction, results, signal)
    if (index >= 0)
      options.onProgress?.({
        type: 'failed',
        version: results[index]!.version,
        name: results[index]!.name,
        error,
      })
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  try {
    if (!error) await guard.finish()
  } catch (err) {
    error = err as DbopsError
  } finally {
    guard.dispose()
  }
  return { results, error }
}

/** Turns whatever stopped a run into the error the user sees: what failed, where, and what stays. */
function describeRunError(
  err: unknown,
  item: PreparedMigration | undefined,
  direction: 'up' | 'down',
  results: MigrationResult[],
  signal: AbortSignal | undefined,
): DbopsError {
  const verb = direction === 'up' ? 'applied' : 'rolled back'
  const done = results.filter((r) => r.status === 'applied' || r.status === 'reverted').map((r) => r.name)
  const notDone = results.filter((r) => r.status === 'failed' || r.status === 'not_run').map((r) => r.name)
  const doneText = `${capitalise(verb)} in this run: ${done.length > 0 ? done.join(', ') : 'none'}. Not ${verb}: ${notDone.length > 0 ? notDone.join(', ') : 'none'}.`
  const stepError = err instanceof MigrationStepError ? err : undefined
  const interrupted = err instanceof InterruptedError || stepError?.details.cancelled || (signal?.aborted && errorCodeOf(err) === '57014')
  if (interrupted) {
    const reason = signal?.reason
    const which = reason instanceof InterruptedError ? reason.signal : err instanceof InterruptedError ? err.signal : 'SIGINT'
    const what = !item
      ? ''
      : stepError?.details.dirty
        ? ` while running ${item.label}, which ran outside a transaction and is now dirty (run \`dbops migrate repair ${item.file.name}\` once it is sorted out)`
        : ` while running ${item.label}; it was rolled back, nothing of it remains`
    return new InterruptedError(which, `Interrupted by ${which}${what}. ${doneText}`)
  }
  if (!item) return err instanceof DbopsError ? err : new DbopsError('INTERNAL', ExitCode.failed, messageOf(err), { cause: err })
  if (err instanceof DbopsError) return err
  // SQL: the statement the session located; a module: the line in its stack (jiti keeps lines)
  const located =
    stepError?.details.line !== undefined
      ? { line: stepError.details.line, column: stepError.details.column }
      : (locationInStack(stepError?.details.cause ?? err, item.file.path) ?? {})
  const where = describeLocation(located)
  const location = { file: item.file.path, ...located }
  const earlier = done.length > 0 ? ` The ${done.length} migration${done.length === 1 ? '' : 's'} before it in this run stay ${verb}.` : ''
  if (stepError?.details.dirty) {
    return new MigrationFailedError(
      'MIGRATION_FAILED',
      ExitCode.failed,
      `Migration ${item.label} (${direction}) failed${where}: ${messageOf(err)}; it ran outside a transaction and is now dirty`,
      location,
      {
        hint: `Statements before the failing one took effect.${earlier} Finish or undo them by hand, then run \`dbops migrate repair ${item.file.name}\`.`,
        cause: err,
      },
    )
  }
  if (stepError?.details.lockTimeout) {
    return new MigrationFailedError(
      'STATEMENT_LOCK_TIMEOUT',
      ExitCode.lockTimeout,
      `Migration ${item.label} (${direction}) waited longer than lock_timeout for a table lock${where}: ${messageOf(err)}`,
      location,
      {
        hint: `Another session holds a lock on a table it changes; nothing of it was ${verb}.${earlier} Retry when the database is quieter, or raise --statement-lock-timeout (DBOPS_STATEMENT_LOCK_TIMEOUT; 0 waits forever).`,
        cause: err,
      },
    )
  }
  return new MigrationFailedError(
    'MIGRATION_FAILED',
    ExitCode.failed,
    `Migration ${item.label} (${direction}) failed${where}: ${messageOf(err)}`,
    location,
    {
      hint: `Nothing of it was ${verb}: it ran in one transaction.${earlier} Fix it and run \`dbops migrate ${direction}\` again.`,
      cause: err,
    },
  )
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
