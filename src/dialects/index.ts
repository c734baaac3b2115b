/**
 * Choosing a dialect and scoping a connection: the one place in src/ that tells the dialects
 * apart by name. Dialect modules are imported on demand, so a SQLite run never loads pg and a
 * PostgreSQL run never loads better-sqlite3; their traits (schema traits, schema SQL) need no
 * driver and are at hand by name, and the few parts features use without a dialect object (a
 * connection scope, the file lock) are reached from here.
 */
import { readDotenv } from '../config/env-file.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, ConnectionScope, DbConnection, Dialect, DialectName, DialectTraits } from './dialect.js'
import type { HeldLockFile, LockFileOptions } from './sqlite/sqlite-lock-file.js'
import { postgresTraits } from './postgres/postgres-traits.js'
import { sqliteTraits } from './sqlite/sqlite-traits.js'

const DIALECTS: Record<DialectName, { traits: DialectTraits; load(): Promise<Dialect> }> = {
  sqlite: { traits: sqliteTraits, load: async () => (await import('./sqlite/sqlite-dialect.js')).sqliteDialect },
  postgres: { traits: postgresTraits, load: async () => (await import('./postgres/postgres-dialect.js')).postgresDialect },
}

/** Whether `value` names a dialect dbops supports, e.g. one read from a file. */
export function isDialectName(value: unknown): value is DialectName {
  return typeof value === 'string' && Object.hasOwn(DIALECTS, value)
}

function entryOf(name: DialectName): (typeof DIALECTS)[DialectName] {
  if (!Object.hasOwn(DIALECTS, name)) throw new TypeError(`Unknown dialect ${String(name)}`)
  return DIALECTS[name]
}

/** Loads the dialect module for `name`. */
export async function loadDialect(name: DialectName): Promise<Dialect> {
  return entryOf(name).load()
}

/** The traits of the dialect `name`, without loading it (see {@link DialectTraits}). */
export function dialectTraits(name: DialectName): DialectTraits {
  return entryOf(name).traits
}

/** Opens a connection to the configured target. Close it; or use {@link usingDatabase}. */
export async function connect(config: ResolvedConfig, options: ConnectOptions): Promise<DbConnection> {
  const dialect = await loadDialect(config.target.dialect)
  return dialect.connect(config, options)
}

/**
 * Runs `fn` with an open connection and closes it afterwards, whatever happens.
 *
 * @example
 * const tables = await usingDatabase(config, { mode: 'read', command: 'inspect' }, (conn) =>
 *   conn.dialect.introspect(conn, { schema: config.schema }))
 */
export async function usingDatabase<T>(
  config: ResolvedConfig,
  options: ConnectOptions,
  fn: (conn: DbConnection) => Promise<T>,
): Promise<T> {
  const conn = await connect(config, options)
  try {
    return await fn(conn)
  } finally {
    await conn.close()
  }
}

/**
 * The {@link ConnectionScope} of `config` for a command: its connections are opened with
 * `options` (the command's application name, signal, echo and retries) and the configuration's
 * settings, to the configured database or to another `target` (a restore's, a scratch
 * database, a maintenance database of the same server).
 *
 * @example
 * const scope = connectionScope(config, { mode: 'read', command: 'backup restore', signal })
 * const conn = await scope.connect() // application_name dbops/backup restore
 */
export function connectionScope(config: ResolvedConfig, options: ConnectOptions): ConnectionScope {
  return {
    target: config.target,
    options,
    connectTimeoutSeconds: (options.deadlineMs ?? config.connectTimeoutSeconds * 1000) / 1000,
    toolEnv: () => ({ ...readDotenv(config.cwd), ...process.env }),
    connect: (target = config.target) => connect({ ...config, target }, options),
  }
}

/**
 * Takes a lock between processes that no crash can leave behind, on the file `file` (created
 * when missing): an fcntl lock the kernel drops when the holder dies, however it dies (see
 * `sqlite/sqlite-lock-file.ts`). Loaded on demand, so a run that never takes one does not load
 * better-sqlite3.
 */
export async function acquireLockFile(file: string, options: LockFileOptions): Promise<HeldLockFile> {
  return (await import('./sqlite/sqlite-lock-file.js')).acquireLockFile(file, options)
}

export type { HeldLockFile, LockFileOptions }
export type * from './dialect.js'
