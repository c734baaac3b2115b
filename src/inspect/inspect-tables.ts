/**
 * `dbops inspect tables`: every table with its row count (exact or estimated) and size,
 * from the catalog alone (no full introspection), in the on-call read-only session.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { usingInspectSession } from './using-inspect-session.js'

/** The JSON document of `dbops inspect tables`. */
export interface TablesReport {
  /** The PostgreSQL schema listed; null on SQLite. */
  schema: string | null
  tables: Array<{ name: string; rows: number | null; rows_exact: boolean; size_bytes: number | null }>
}

/** Lists the tables of the configured schema (PostgreSQL) or file (SQLite). */
export async function inspectTables(config: ResolvedConfig, options: { connect: ConnectOptions }): Promise<TablesReport> {
  return usingInspectSession(config, options.connect, async (conn) => {
    const tables = await conn.dialect.createCatalog(conn).listTables({ schema: config.schema })
    return {
      schema: conn.dialect.supportsSchemas ? config.schema : null,
      tables: tables.map((t) => ({ name: t.name, rows: t.rows ?? null, rows_exact: t.rowsExact, size_bytes: t.sizeBytes ?? null })),
    }
  })
}
