/**
 * Choosing a dialect and scoping a connection: the one place in src/ that tells the dialects
 * apart by name. Dialect modules are imported on demand, so a SQLite run never loads pg and a
 * PostgreSQL run never loads better-sqlite3; their traits (schema traits, schema SQL) need no
 * driver and are at hand by name.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection, Dialect, DialectName, DialectTraits } from './dialect.js'
import { postgresTraits } from './postgres/postgres-traits.js'
import { sqliteTraits } from './sqlite/sqlite-traits.js'

const DIALECTS: Record<DialectName, { traits: DialectTraits; load(): Promise<Dialect> }> = {
  sqlite: { traits: sqliteTraits, load: async () => (await import('./sqlite/sqlite-dialect.js')).sqliteDialect },
  postgres: { traits: postgresTraits, load: async () => (await import('./postgres/postgres-dialect.js')).postgresDialect },
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

export type * from './dialect.js'
