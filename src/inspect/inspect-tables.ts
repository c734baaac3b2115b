/**
 * `dbops inspect tables`: every table with its row count (exact or estimated) and size,
 * from the catalog alone (no full introspection), in the on-call read-only session.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { type InspectOptions, usingInspectSession } from './using-inspect-session.js'

/** The JSON document of `dbops inspect tables`. */
export interface TablesReport {
  /** The PostgreSQL schema listed; null on SQLite, and when several are (see `schemas`). */
  schema: string | null
  /** The PostgreSQL schemas listed when there are several (`--schema a,b`, `--all-schemas`); else absent. */
  schemas?: string[]
  /** Each table; `schema` is set when several schemas are listed. */
  tables: Array<{ name: string; schema?: string; rows: number | null; rows_exact: boolean; size_bytes: number | null }>
}

/** Lists the tables of the compared schemas (PostgreSQL; the default one unless told) or of the file (SQLite). */
export async function inspectTables(config: ResolvedConfig, options: InspectOptions): Promise<TablesReport> {
  return usingInspectSession(config, options, async (conn) => {
    const catalog = conn.dialect.createCatalog(conn)
    const schemas = !conn.dialect.supportsSchemas
      ? [config.schema]
      : config.schemas === 'all'
        ? (await catalog.listSchemas()).map((s) => s.name)
        : [...config.schemas]
    const several = schemas.length > 1
    const tables: TablesReport['tables'] = []
    for (const schema of schemas) {
      for (const t of await catalog.listTables({ schema })) {
        tables.push({
          name: t.name,
          ...(several ? { schema } : {}),
          rows: t.rows ?? null,
          rows_exact: t.rowsExact,
          size_bytes: t.sizeBytes ?? null,
        })
      }
    }
    if (several) return { schema: null, schemas, tables }
    return { schema: conn.dialect.supportsSchemas ? schemas[0]! : null, tables }
  })
}
