/**
 * Choosing a dialect and scoping a connection. Dialect modules are imported on demand, so a
 * SQLite run never loads pg and a PostgreSQL run never loads better-sqlite3.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection, Dialect, DialectName } from './dialect.js'

/** Loads the dialect module for `name`. */
export async function loadDialect(name: DialectName): Promise<Dialect> {
  if (name === 'sqlite') return (await import('./sqlite/sqlite-dialect.js')).sqliteDialect
  return (await import('./postgres/postgres-dialect.js')).postgresDialect
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

export type * from './dialect.js'
