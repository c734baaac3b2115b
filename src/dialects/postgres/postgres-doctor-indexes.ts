/**
 * The doctor's PostgreSQL reads about the shape of the schema: invalid, duplicate and
 * redundant, and unused indexes; foreign keys without an index on their columns; tables
 * without a primary key; estimated table and index bloat. Catalog reads only (the bloat
 * estimate reads `pg_stats`), one query each, so hundreds of tables cost milliseconds.
 */
import { type Kysely, sql } from '../../kysely-runtime.js'
import type { DoctorReading } from '../doctor-port.js'
import { USER_SCHEMA_SQL } from './postgres-catalog.js'

const MB = 1024 * 1024

/**
 * A relation's size from the catalog (`relpages`, as of its last VACUUM or ANALYZE): reading
 * it opens no relation, where `pg_relation_size` opens each one, which costs a fresh
 * connection milliseconds per relation on a database of hundreds.
 */
const PAGES_BYTES = (alias: string) => sql.raw(`${alias}.relpages::bigint * current_setting('block_size')::int`)

/** A bigint or numeric from pg (a string) as a number. */
export function num(value: unknown): number | null {
  if (value === null || value === undefined) return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** Rounded to one decimal. */
export function round1(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10
}

/** Invalid indexes: what a failed `CREATE INDEX CONCURRENTLY` leaves; every write still maintains them. */
export async function readInvalidIndexes(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ index: string; table: string; bytes: string }>`
    SELECT format('%I.%I', n.nspname, c.relname) AS index, format('%I.%I', n.nspname, t.relname) AS table,
           ${PAGES_BYTES('c')} AS bytes
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid AND ${sql.raw(USER_SCHEMA_SQL)}
    ORDER BY 1`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: r.index,
      values: { table: r.table, bytes: num(r.bytes) },
      fix: `DROP INDEX CONCURRENTLY ${r.index};  -- then CREATE INDEX CONCURRENTLY again`,
    })),
    facts: {},
  }
}

/**
 * Duplicate indexes (same method, columns, operator classes, expressions and predicate) and
 * redundant ones (a B-tree whose columns are a leading prefix of another's). An index that
 * enforces something (primary key, unique, a constraint) is never the one to drop, unless its
 * twin enforces the same.
 */
export async function readDuplicateIndexes(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ index: string; kept: string; table: string; bytes: string; same: boolean }>`
    WITH idx AS (
      SELECT i.indexrelid, i.indrelid, i.indkey::text AS keys, i.indclass::text AS classes, am.amname,
             coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs, coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
             i.indisunique, i.indisprimary,
             EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS enforces,
             format('%I.%I', n.nspname, c.relname) AS name, format('%I.%I', n.nspname, t.relname) AS table,
             ${PAGES_BYTES('c')} AS bytes
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisvalid AND ${sql.raw(USER_SCHEMA_SQL)})
    SELECT a.name AS index, b.name AS kept, a.table, a.bytes, a.keys = b.keys AS same
    FROM idx a JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
      AND b.amname = a.amname AND b.exprs = a.exprs AND b.pred = a.pred
    WHERE NOT a.indisprimary AND NOT a.enforces
      AND ((a.keys = b.keys AND a.classes = b.classes
            AND (b.indisunique OR NOT a.indisunique)
            AND (b.enforces OR b.indisunique > a.indisunique OR b.indexrelid < a.indexrelid))
        OR (a.amname = 'btree' AND NOT a.indisunique
            AND b.keys LIKE a.keys || ' %' AND b.classes LIKE a.classes || ' %'))
    ORDER BY a.table, a.name, b.name`.execute(db)
  const seen = new Set<string>()
  const items = rows
    .filter((r) => !seen.has(r.index) && seen.add(r.index))
    .map((r) => ({
      subject: r.index,
      values: { table: r.table, kind: r.same ? 'duplicate' : 'redundant', covered_by: r.kept, bytes: num(r.bytes) },
      fix: `DROP INDEX CONCURRENTLY ${r.index};`,
    }))
  return { items, facts: {} }
}

/**
 * Indexes never scanned since statistics were last reset, primary keys, unique indexes and
 * constraint indexes left out (they enforce something even when never read), with the age of
 * the statistics: an index unused for a day may serve the monthly report.
 */
export async function readUnusedIndexes(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ index: string; table: string; bytes: string; table_scans: string | null }>`
    SELECT format('%I.%I', s.schemaname, s.indexrelname) AS index, format('%I.%I', s.schemaname, s.relname) AS table,
           ${PAGES_BYTES('c')} AS bytes, pg_stat_get_numscans(s.relid) AS table_scans
    FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid JOIN pg_class c ON c.oid = s.indexrelid
    WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = s.indexrelid)
    ORDER BY c.relpages DESC, 1
    LIMIT 100`.execute(db)
  const { rows: reset } = await sql<{ stats_reset: Date | null; days: string | null; in_recovery: boolean }>`
    SELECT stats_reset, extract(epoch FROM now() - stats_reset) / 86400 AS days, pg_is_in_recovery() AS in_recovery
    FROM pg_stat_database WHERE datname = current_database()`.execute(db)
  const r = reset[0]
  return {
    items: rows.map((row) => ({
      subject: row.index,
      values: { table: row.table, bytes: num(row.bytes), table_seq_scans: num(row.table_scans) },
      fix: `DROP INDEX CONCURRENTLY ${row.index};`,
    })),
    facts: {
      stats_reset_at: r?.stats_reset ? new Date(r.stats_reset).toISOString() : null,
      stats_age_days: round1(num(r?.days)),
      // scans on a replica are counted there, not here: check the replicas before dropping
      in_recovery: r?.in_recovery ?? false,
    },
  }
}

/**
 * Foreign keys whose columns do not lead any valid, non-partial index of the referencing
 * table: every DELETE or key UPDATE on the referenced table scans the referencing one (under
 * a lock), and joins along the key cannot use an index.
 */
export async function readForeignKeysWithoutIndex(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ constraint: string; table: string; references: string; columns: string; bytes: string }>`
    SELECT k.conname AS constraint, format('%I.%I', n.nspname, t.relname) AS table,
           (SELECT format('%I.%I', rn.nspname, r.relname) FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = k.confrelid) AS references,
           (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord)
              FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS columns,
           ${PAGES_BYTES('t')} AS bytes
    FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE k.contype = 'f' AND ${sql.raw(USER_SCHEMA_SQL)}
      AND NOT EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = k.conrelid AND i.indisvalid AND i.indpred IS NULL
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)] @> k.conkey
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)] <@ k.conkey)
    ORDER BY 2, 1`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: `${r.table} (${r.columns})`,
      values: { constraint: r.constraint, references: r.references, table_bytes: num(r.bytes) },
      fix: `CREATE INDEX CONCURRENTLY ON ${r.table} (${r.columns});`,
    })),
    facts: {},
  }
}

/**
 * Tables without a primary key (partitions left out: their parent's counts): rows cannot be
 * told apart, logical replication cannot replicate their UPDATEs and DELETEs. The fix promotes
 * a unique index on NOT NULL columns when there is one, else adds an identity column.
 */
export async function readTablesWithoutPrimaryKey(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ table: string; rows: string; candidate: string | null }>`
    SELECT format('%I.%I', n.nspname, t.relname) AS table, greatest(t.reltuples, 0)::bigint AS rows,
           (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = t.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey) u(attnum)
                               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum WHERE NOT a.attnotnull)
             ORDER BY i.indnatts LIMIT 1) AS candidate
    FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND ${sql.raw(USER_SCHEMA_SQL)}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')
    ORDER BY 1`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: r.table,
      values: { rows_estimate: num(r.rows), unique_not_null_index: r.candidate },
      fix: r.candidate
        ? `ALTER TABLE ${r.table} ADD PRIMARY KEY USING INDEX ${r.candidate};`
        : `ALTER TABLE ${r.table} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;  -- or ADD PRIMARY KEY (the columns that identify a row)`,
    })),
    facts: {},
  }
}

/**
 * Estimated bloat of tables and B-tree indexes: pages on disk against the pages their rows
 * would fill, from `reltuples`, the columns' average widths in `pg_stats` and the fill
 * factor (the estimate pghero and check_postgres use in spirit; it is an estimate, good to a
 * few pages, and blind where ANALYZE never ran or `pg_stats` hides a table from this role).
 */
export async function readBloat(db: Kysely<any>, limits: Readonly<Record<string, number>>): Promise<DoctorReading> {
  const minBytes = Number.isFinite(limits.bloat_min_mb) ? limits.bloat_min_mb! * MB : Number.MAX_SAFE_INTEGER
  const minPct = limits.bloat_warn_pct ?? 50
  const { rows } = await sql<{
    kind: 'table' | 'index'
    name: string
    bytes: string
    bloat_bytes: string
    bloat_pct: string
  }>`
    WITH widths AS (
      SELECT schemaname, tablename, attname, (1 - null_frac) * avg_width AS width FROM pg_stats WHERE NOT inherited),
    tab AS (
      SELECT 'table'::text AS kind, format('%I.%I', n.nspname, c.relname) AS name, c.relpages::float8 AS pages, c.reltuples::float8 AS tuples,
             (SELECT sum(w.width) FROM widths w WHERE w.schemaname = n.nspname AND w.tablename = c.relname) AS width,
             coalesce((regexp_match(array_to_string(c.reloptions, ','), 'fillfactor=([0-9]+)'))[1]::int, 100) AS ff,
             24 AS page_overhead, 28 AS tuple_overhead
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND c.relpages > 8 AND ${sql.raw(USER_SCHEMA_SQL)}),
    ind AS (
      SELECT 'index'::text AS kind, format('%I.%I', n.nspname, ic.relname) AS name, ic.relpages::float8 AS pages, ic.reltuples::float8 AS tuples,
             (SELECT CASE WHEN bool_and(w.width IS NOT NULL) THEN sum(w.width) END
                FROM unnest(i.indkey) u(attnum)
                LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum
                LEFT JOIN widths w ON w.schemaname = n.nspname AND w.tablename = t.relname AND w.attname = a.attname) AS width,
             coalesce((regexp_match(array_to_string(ic.reloptions, ','), 'fillfactor=([0-9]+)'))[1]::int, 90) AS ff,
             40 AS page_overhead, 12 AS tuple_overhead
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_am am ON am.oid = ic.relam JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE am.amname = 'btree' AND ic.relpages > 8 AND ${sql.raw(USER_SCHEMA_SQL)}),
    est AS (
      SELECT kind, name, pages, width,
             ceil(tuples * (tuple_overhead + ceil(width / 8) * 8)
                  / ((current_setting('block_size')::int - page_overhead) * ff / 100.0)) + 1 AS expected
      FROM (SELECT * FROM tab UNION ALL SELECT * FROM ind) x)
    SELECT kind, name, pages * current_setting('block_size')::int AS bytes,
           CASE WHEN width IS NULL THEN NULL ELSE greatest(pages - expected, 0) * current_setting('block_size')::int END AS bloat_bytes,
           CASE WHEN width IS NULL THEN NULL ELSE round((100 * greatest(pages - expected, 0) / pages)::numeric, 1) END AS bloat_pct
    FROM est ORDER BY bloat_bytes DESC NULLS LAST`.execute(db)
  const estimated = rows.filter((r) => r.bloat_bytes !== null)
  const unknown = rows.length - estimated.length
  const items = estimated
    .filter((r) => num(r.bloat_bytes)! >= minBytes && num(r.bloat_pct)! >= minPct)
    .map((r) => ({
      subject: r.name,
      values: { kind: r.kind, bytes: num(r.bytes), bloat_bytes: num(r.bloat_bytes), bloat_pct: num(r.bloat_pct) },
      fix:
        r.kind === 'index'
          ? `REINDEX INDEX CONCURRENTLY ${r.name};`
          : `VACUUM (FULL, ANALYZE) ${r.name};  -- ACCESS EXCLUSIVE lock for the whole rewrite; pg_repack does it online`,
    }))
  return {
    items,
    facts: {
      estimated: estimated.length,
      estimated_bloat_bytes: estimated.reduce((sum, r) => sum + num(r.bloat_bytes)!, 0),
    },
    ...(unknown > 0
      ? {
          partial: `${unknown} relation${unknown === 1 ? '' : 's'} not estimated: no pg_stats (never analyzed, or no SELECT privilege for this role)`,
        }
      : {}),
  }
}
