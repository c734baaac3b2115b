/**
 * SQLite's catalog queries for the on-call commands: `sqlite_schema` for names,
 * `pragma_table_info` for columns, the `dbstat` virtual table for sizes (when SQLite was
 * built with it; better-sqlite3 is), and `sqlite_stat1` or `count(*)` for rows.
 */
import { delimitIdentifier } from '../../sql/sql-text.js'
import { isInternalTable } from '../../sql/internal-tables.js'
import type { Catalog, ColumnBrief, RelationFacts, RelationRef, TableStats, TargetFacts } from '../catalog-port.js'
import type { DbConnection } from '../dialect.js'
import type { SqliteConnection, SqliteHandle } from './sqlite-connection.js'

/** Tables larger than this many pages get an estimate instead of an exact `count(*)`. */
const EXACT_COUNT_MAX_PAGES = 25_000

/** The better-sqlite3 handle of a SQLite connection. */
export function sqliteHandleOf(conn: DbConnection): SqliteHandle {
  const handle = (conn as Partial<SqliteConnection>).handle
  if (!handle) throw new TypeError('not a SQLite connection')
  return handle
}

function tableNamesOf(handle: SqliteHandle): string[] {
  const rows = handle
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .all() as Array<{ name: string }>
  return rows.map((row) => row.name)
}

/** Bytes and pages per table (its indexes included) from `dbstat`, or undefined without it. */
function sizesOf(handle: SqliteHandle): Map<string, { bytes: number; pages: number }> | undefined {
  try {
    const rows = handle
      .prepare(
        `SELECT coalesce(s.tbl_name, d.name) AS name, sum(d.pgsize) AS bytes, sum(d.pageno) AS pages
         FROM dbstat AS d LEFT JOIN sqlite_schema AS s ON s.name = d.name
         WHERE d.aggregate = TRUE GROUP BY 1`,
      )
      .all() as Array<{ name: string; bytes: number; pages: number }>
    return new Map(rows.map((row) => [row.name, { bytes: row.bytes, pages: row.pages }]))
  } catch {
    return undefined // SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
  }
}

/** Row estimates from `ANALYZE` (the first number of a table's `sqlite_stat1` entry). */
function analyzedRowsOf(handle: SqliteHandle): Map<string, number> {
  try {
    const rows = handle.prepare('SELECT tbl, stat FROM sqlite_stat1').all() as Array<{ tbl: string; stat: string }>
    const estimates = new Map<string, number>()
    for (const row of rows) {
      const first = Number.parseInt(row.stat, 10)
      if (Number.isFinite(first)) estimates.set(row.tbl, Math.max(estimates.get(row.tbl) ?? 0, first))
    }
    return estimates
  } catch {
    return new Map() // no sqlite_stat1: ANALYZE never ran
  }
}

/** SQLite's {@link Catalog} over `conn`. */
export function createSqliteCatalog(conn: DbConnection): Catalog {
  const handle = sqliteHandleOf(conn)
  return {
    async enterReadOnly() {
      handle.pragma('query_only = 1')
    },

    async listSchemas() {
      return []
    },

    // SQLite builds an index inside its statement's transaction: a failure leaves none behind
    async invalidIndexes() {
      return []
    },

    async listTables() {
      const sizes = sizesOf(handle)
      const analyzed = analyzedRowsOf(handle)
      return tableNamesOf(handle).map((name): TableStats => {
        const size = sizes?.get(name)
        const estimate = analyzed.get(name)
        // count(*) reads the table's smallest b-tree: exact and quick for all but large tables
        if (size === undefined || size.pages <= EXACT_COUNT_MAX_PAGES || estimate === undefined) {
          const row = handle.prepare(`SELECT count(*) AS n FROM ${delimitIdentifier(name)}`).get() as { n: number }
          return { name, rows: row.n, rowsExact: true, sizeBytes: size?.bytes }
        }
        return { name, rows: estimate, rowsExact: false, sizeBytes: size.bytes }
      })
    },

    async tableNames() {
      return tableNamesOf(handle)
    },

    async targetFacts(relations, { countUpTo }) {
      return targetFacts(handle, relations, countUpTo)
    },

    async listColumns({ table }) {
      return handle
        .prepare('SELECT name, type, pk AS primaryKeyPosition FROM pragma_table_info(?) ORDER BY cid')
        .all(table) as ColumnBrief[]
    },
  }
}

/**
 * Existence and size of `relations` (an index stands for its table) for `migrate up`'s gate.
 * Rows: a count capped at `countUpTo` + 1 (`SELECT count(*) FROM (SELECT 1 … LIMIT n)`), which
 * reads at most that many rows, so it is cheap on any table and exact below the cap.
 * `sqlite_stat1` is not used: it is as old as the last ANALYZE, and a table that grew since
 * would pass for small. Bytes: `dbstat` over the table's and its indexes' b-trees, asked only
 * of a table under the cap (bounded work); undefined without `dbstat` or above the cap.
 */
function targetFacts(handle: SqliteHandle, relations: readonly RelationRef[], countUpTo: number): TargetFacts {
  const lookup = handle.prepare(
    "SELECT type, tbl_name AS tbl FROM sqlite_schema WHERE name = ? COLLATE NOCASE AND type IN ('table', 'index')",
  )
  const facts = relations.map((ref): RelationFacts => {
    const row = lookup.get(ref.name) as { type: string; tbl: string } | undefined
    if (!row) return { ...ref, exists: false, rows: 0, bytes: 0 }
    const table = row.tbl
    const counted = handle.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM ${delimitIdentifier(table)} LIMIT ?)`).get(countUpTo + 1) as {
      n: number
    }
    return { ...ref, exists: true, rows: counted.n, bytes: counted.n > countUpTo ? undefined : bytesOf(handle, table) }
  })
  return { empty: tableNamesOf(handle).every((name) => isInternalTable(name)), relations: facts }
}

/** Bytes of `table` and its indexes from `dbstat`, or undefined without it. */
function bytesOf(handle: SqliteHandle, table: string): number | undefined {
  try {
    const row = handle
      .prepare(
        `SELECT sum(d.pgsize) AS bytes FROM dbstat AS d
         WHERE d.aggregate = TRUE AND d.name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ?)`,
      )
      .get(table) as { bytes: number | null }
    return row.bytes ?? 0
  } catch {
    return undefined // SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
  }
}
