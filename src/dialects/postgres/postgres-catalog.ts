/**
 * PostgreSQL's catalog queries for the on-call commands: `pg_class` for tables, row
 * estimates (`reltuples`) and sizes (`pg_total_relation_size`), `pg_attribute` for columns.
 * Every name and value is a bound parameter.
 */
import { type Kysely, sql } from 'kysely'
import { isInternalTable } from '../../sql/internal-tables.js'
import { quoteQualified } from '../../sql/sql-text.js'
import type { Catalog, ColumnBrief, InvalidIndex, SchemaBrief, TableStats } from '../catalog-port.js'
import type { DbConnection } from '../dialect.js'

/**
 * The condition on `n` (a `pg_namespace` row) that keeps the schemas users make: not
 * `pg_catalog`, `information_schema`, `pg_toast*` or `pg_temp_*`.
 */
export const USER_SCHEMA_CONDITION = sql.raw(
  "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
)

/** Never-analysed tables below this size get an exact `count(*)` instead of "unknown". */
const EXACT_COUNT_MAX_BYTES = 16 * 1024 * 1024

/** PostgreSQL's {@link Catalog} over `conn`. */
export function createPostgresCatalog(conn: DbConnection): Catalog {
  return {
    async enterReadOnly() {
      // default_transaction_read_only is set on every pooled connection by the on-call session
      // settings (src/health/on-call-session.ts); a SET here would reach one connection only.
    },
    listTables: (options) => listTables(conn, options),
    tableNames: (options) => tableNames(conn, options),
    listSchemas: () => listSchemas(conn),
    listColumns: (options) => listColumns(conn, options),
    invalidIndexes: () => invalidIndexes(conn),
  }
}

async function invalidIndexes(conn: DbConnection): Promise<InvalidIndex[]> {
  const { rows } = await sql<{ schema: string; name: string; table: string }>`
      SELECT n.nspname AS schema, c.relname AS name, t.relname AS table
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND ${USER_SCHEMA_CONDITION}
      ORDER BY n.nspname, c.relname`.execute(conn.db)
  return rows.map((row) => ({ ...row, fix: `DROP INDEX CONCURRENTLY ${quoteQualified(row.schema, row.name)};` }))
}

async function listTables(conn: DbConnection, { schema }: { schema: string }): Promise<TableStats[]> {
  const { rows } = await sql<{ name: string; reltuples: string; size: string }>`
      SELECT c.relname AS name, c.reltuples::bigint AS reltuples, pg_total_relation_size(c.oid) AS size
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`.execute(conn.db)
  const tables: TableStats[] = []
  for (const row of rows) {
    const estimate = Number(row.reltuples)
    const sizeBytes = Number(row.size)
    // reltuples is -1 until the first ANALYZE / VACUUM (PostgreSQL 14+; 0 before)
    if (estimate <= 0 && sizeBytes <= EXACT_COUNT_MAX_BYTES) {
      const exact = await countRows(conn.db, schema, row.name)
      if (exact !== undefined) {
        tables.push({ name: row.name, rows: exact, rowsExact: true, sizeBytes })
        continue
      }
    }
    tables.push({ name: row.name, rows: estimate < 0 ? undefined : estimate, rowsExact: false, sizeBytes })
  }
  return tables
}

async function tableNames(conn: DbConnection, { schema }: { schema: string }): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') ORDER BY c.relname`.execute(conn.db)
  return rows.map((row) => row.name)
}

async function listSchemas(conn: DbConnection): Promise<SchemaBrief[]> {
  const { rows } = await sql<{ name: string; tables: string[] }>`
      SELECT n.nspname AS name,
             coalesce(array_agg(c.relname::text) FILTER (WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition), '{}') AS tables
      FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
      WHERE ${USER_SCHEMA_CONDITION}
      GROUP BY n.nspname ORDER BY n.nspname`.execute(conn.db)
  return rows.map((row) => ({ name: row.name, tables: row.tables.filter((name) => !isInternalTable(name)).length }))
}

async function listColumns(conn: DbConnection, { schema, table }: { schema: string; table: string }): Promise<ColumnBrief[]> {
  const { rows } = await sql<{ name: string; type: string; primaryKeyPosition: number }>`
      SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
             -- int2vector subscripts start at 0
             coalesce((SELECT array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1 FROM pg_index i
                       WHERE i.indrelid = c.oid AND i.indisprimary), 0)::int AS "primaryKeyPosition"
      FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`.execute(conn.db)
  return rows
}

/** Exact row count, or undefined when the role may not read the table. */
async function countRows(db: Kysely<any>, schema: string, table: string): Promise<number | undefined> {
  try {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(schema, table)}`.execute(db)
    return Number(rows[0]?.n ?? 0)
  } catch {
    return undefined // no SELECT privilege, or the statement timeout: keep the estimate
  }
}
