/**
 * PostgreSQL's catalog queries for the on-call commands: `pg_class` for tables, row
 * estimates (`reltuples`) and sizes (`pg_total_relation_size`), `pg_attribute` for columns.
 * Every name and value is a bound parameter.
 */
import { type Kysely, sql } from '../../kysely-runtime.js'
import { isInternalTable } from '../../sql/internal-tables.js'
import { quoteQualified } from '../../sql/sql-text.js'
import type {
  Catalog,
  ColumnBrief,
  InvalidIndex,
  RelationFacts,
  RelationRef,
  SchemaBrief,
  TableStats,
  TargetFacts,
} from '../catalog-port.js'
import type { DbConnection } from '../dialect.js'

/**
 * The condition on `n` (a `pg_namespace` row) that keeps the schemas users make: not
 * `pg_catalog`, `information_schema`, `pg_toast*` or `pg_temp_*`.
 */
export const USER_SCHEMA_SQL =
  "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"

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
    targetFacts: (relations, options) => targetFacts(conn, relations, options),
    invalidIndexes: () => invalidIndexes(conn),
  }
}

/**
 * Existence and size of `relations` (an index stands for its table, whose lock it takes):
 * `pg_total_relation_size` for bytes (a partitioned table: the sum of its partitions), and for
 * rows the planner's own estimate, `reltuples` scaled by the heap's current size over
 * `relpages` (so a table that grew since its last ANALYZE is not taken for small). A table
 * never analysed (`reltuples` -1) is counted, the count capped at `countUpTo` + 1 rows.
 */
async function targetFacts(
  conn: DbConnection,
  relations: readonly RelationRef[],
  { defaultSchema, countUpTo }: { defaultSchema: string; countUpTo: number },
): Promise<TargetFacts> {
  const candidates = (ref: RelationRef) => (ref.schema !== undefined ? [ref.schema] : [...new Set([defaultSchema, 'public'])])
  const pairs = relations.flatMap((ref) => candidates(ref).map((schema) => [schema, ref.name] as const))
  // asked only whether the target is empty: one query
  if (pairs.length === 0) return { empty: (await listSchemas(conn)).every((s) => s.tables === 0), relations: [] }
  // through the connection's own query, as the other statements `migrate up`'s gate sends:
  // that path does not load Kysely
  const rows = (await conn.query(
    `SELECT w.schema AS asked_schema, w.name AS asked_name, tn.nspname AS schema, t.relname AS name,
             t.reltuples::float8 AS reltuples, t.relpages,
             pg_relation_size(t.oid) AS heap_bytes,
             CASE WHEN t.relkind = 'p'
                  THEN (SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i WHERE i.inhparent = t.oid)
                  ELSE pg_total_relation_size(t.oid) END AS bytes,
             current_setting('block_size')::int AS block_size
      FROM unnest($1::text[], $2::text[]) AS w(schema, name)
        JOIN pg_namespace n ON n.nspname = w.schema
        JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
        LEFT JOIN pg_index x ON x.indexrelid = c.oid
        JOIN pg_class t ON t.oid = coalesce(x.indrelid, c.oid)
        JOIN pg_namespace tn ON tn.oid = t.relnamespace`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  )) as Array<{
    asked_schema: string
    asked_name: string
    schema: string
    name: string
    reltuples: number
    relpages: number
    heap_bytes: string
    bytes: string
    block_size: number
  }>
  const found = new Map(rows.map((row) => [`${row.asked_schema}\u0000${row.asked_name}`, row]))
  const facts: RelationFacts[] = []
  for (const ref of relations) {
    const row = candidates(ref)
      .map((schema) => found.get(`${schema}\u0000${ref.name}`))
      .find((r) => r !== undefined)
    if (!row) {
      facts.push({ ...ref, exists: false, rows: 0, bytes: 0 })
      continue
    }
    const heapPages = Number(row.heap_bytes) / row.block_size
    let estimate: number | undefined
    if (row.reltuples >= 0 && row.relpages > 0) estimate = Math.round((row.reltuples / row.relpages) * heapPages)
    else if (heapPages === 0) estimate = 0
    else estimate = await countRows(conn.db, row.schema, row.name, countUpTo + 1)
    facts.push({ ...ref, exists: true, rows: estimate, bytes: Number(row.bytes) })
  }
  const schemas = await listSchemas(conn)
  return { empty: schemas.every((s) => s.tables === 0), relations: facts }
}

/** Invalid indexes: read by `migrate status` and `up`, through the connection's own query (no Kysely). */
async function invalidIndexes(conn: DbConnection): Promise<InvalidIndex[]> {
  const rows = (await conn.query(
    `SELECT n.nspname AS schema, c.relname AS name, t.relname AS table
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND ${USER_SCHEMA_SQL}
      ORDER BY n.nspname, c.relname`,
    [],
  )) as Array<{ schema: string; name: string; table: string }>
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
  const rows = (await conn.query(
    `SELECT n.nspname AS name,
             coalesce(array_agg(c.relname::text) FILTER (WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition), '{}') AS tables
      FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
      WHERE ${USER_SCHEMA_SQL}
      GROUP BY n.nspname ORDER BY n.nspname`,
    [],
  )) as Array<{ name: string; tables: string[] }>
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

/** Exact row count (at most `limit` when given), or undefined when the role may not read the table. */
async function countRows(db: Kysely<any>, schema: string, table: string, limit?: number): Promise<number | undefined> {
  try {
    const from = limit === undefined ? sql.id(schema, table) : sql`(SELECT 1 FROM ${sql.id(schema, table)} LIMIT ${limit}) AS capped`
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${from}`.execute(db)
    return Number(rows[0]?.n ?? 0)
  } catch {
    return undefined // no SELECT privilege, or the statement timeout: keep the estimate
  }
}
