/**
 * The doctor's PostgreSQL reads about maintenance and settings: transaction-id wraparound
 * (per database, per table), sequences and identity columns near their type's maximum,
 * vacuum and analyze age with dead tuples, the cache hit ratio, the top statements of
 * `pg_stat_statements`, and settings that commonly hurt.
 */
import { type Kysely, sql } from '../../kysely-runtime.js'
import { errorCodeOf } from '../../errors.js'
import type { DoctorItem, DoctorReading } from '../doctor-port.js'
import { num, round1 } from './postgres-doctor-indexes.js'

/** Transaction ids before wraparound: 2^31. */
const WRAPAROUND_XIDS = 2 ** 31

/**
 * Transaction-id age of every database (`datfrozenxid`) and of this database's tables at or
 * over `wraparound_warn_pct` of 2^31; `pct` is the share of the way to the forced shutdown.
 */
export async function readWraparound(db: Kysely<any>, limits: Readonly<Record<string, number>>): Promise<DoctorReading> {
  const tableAge = Math.floor(((Number.isFinite(limits.wraparound_warn_pct) ? limits.wraparound_warn_pct! : 100) / 100) * WRAPAROUND_XIDS)
  const { rows: dbs } = await sql<{ datname: string; age: number; mxid_age: number }>`
    SELECT datname, age(datfrozenxid) AS age, mxid_age(datminmxid) AS mxid_age FROM pg_database ORDER BY 2 DESC`.execute(db)
  const { rows: tables } = await sql<{ name: string; age: number }>`
    SELECT format('%I.%I', n.nspname, c.relname) AS name, age(c.relfrozenxid) AS age
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm', 't') AND c.relfrozenxid <> '0' AND age(c.relfrozenxid) >= ${tableAge}
    ORDER BY 2 DESC LIMIT 20`.execute(db)
  const { rows: setting } = await sql<{
    freeze_max_age: string
  }>`SELECT current_setting('autovacuum_freeze_max_age') AS freeze_max_age`.execute(db)
  const pct = (age: number) => round1((100 * age) / WRAPAROUND_XIDS)
  const items: DoctorItem[] = [
    ...dbs.map((d) => ({
      subject: `database ${d.datname}`,
      values: { xid_age: d.age, pct: pct(d.age), multixact_age: d.mxid_age },
      fix: `-- connected to ${d.datname}: VACUUM (FREEZE, VERBOSE);  (or vacuumdb --freeze --jobs=4 ${d.datname}); end long transactions and drop stale slots first`,
    })),
    ...tables.map((t) => ({
      subject: `table ${t.name}`,
      values: { xid_age: t.age, pct: pct(t.age) },
      fix: `VACUUM (FREEZE, VERBOSE) ${t.name};`,
    })),
  ]
  return { items, facts: { autovacuum_freeze_max_age: num(setting[0]?.freeze_max_age) } }
}

/**
 * Steps (nextval calls) past which a sequence's range is not read: at a million a second,
 * 2^53 steps last 285 years. A bigint sequence on a bigint column is counted, not opened,
 * which keeps hundreds of `bigserial` columns from costing a relation open each.
 */
const FAR_STEPS = 2 ** 53

/**
 * Sequences (serial and identity columns' included) by how much of their range is used: the
 * least of the sequence's own maximum and its column's type (a `serial` is an int4 column
 * fed by a sequence that could go further). Only those at or over `sequence_warn_pct`; those
 * with more than 2^53 steps of range are not read (see {@link FAR_STEPS}).
 */
export async function readSequences(db: Kysely<any>, limits: Readonly<Record<string, number>>): Promise<DoctorReading> {
  const minPct = Number.isFinite(limits.sequence_warn_pct) ? limits.sequence_warn_pct! : 100
  const { rows } = await sql<{
    name: string
    last_value: string | null
    readable: boolean
    limit_value: string
    pct: string | null
    column_ref: string | null
    column_type: string | null
    table_name: string | null
    column_name: string | null
  }>`
    WITH s AS (
      SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, q.seqmax, q.seqmin, q.seqincrement,
             has_sequence_privilege(c.oid, 'SELECT') AS readable
      FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')),
    owner AS (
      SELECT DISTINCT ON (d.objid) d.objid, t.oid AS table_oid, format('%I.%I', tn.nspname, t.relname) AS table_name, quote_ident(a.attname) AS column_name, a.atttypid
      FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0),
    v AS (
      SELECT s.*, o.table_name, o.column_name, format_type(o.atttypid, NULL) AS column_type,
             CASE WHEN s.seqincrement > 0
                  THEN least(s.seqmax, CASE o.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 ELSE s.seqmax END)
                  ELSE greatest(s.seqmin, CASE o.atttypid WHEN 'int2'::regtype THEN -32768 WHEN 'int4'::regtype THEN -2147483648 ELSE s.seqmin END)
             END AS limit_value
      FROM s LEFT JOIN owner o ON o.objid = s.oid),
    r AS (
      SELECT v.*, CASE WHEN readable AND abs(limit_value::numeric / seqincrement) < ${FAR_STEPS} THEN pg_sequence_last_value(oid) END AS last_value
      FROM v)
    SELECT name, last_value, readable, limit_value, table_name, column_name, column_type,
           round(100 * last_value::numeric / nullif(limit_value, 0), 1) AS pct
    FROM r ORDER BY pct DESC NULLS LAST`.execute(db)
  const unreadable = rows.filter((r) => !r.readable).length
  const items = rows
    .filter((r) => num(r.pct) !== null && num(r.pct)! >= minPct)
    .map((r) => ({
      subject: r.table_name ? `${r.name} (${r.table_name}.${r.column_name})` : r.name,
      values: { last_value: num(r.last_value), max_value: num(r.limit_value), pct: num(r.pct), column_type: r.column_type },
      fix:
        r.table_name && (r.column_type === 'integer' || r.column_type === 'smallint')
          ? `ALTER SEQUENCE ${r.name} AS bigint; ALTER TABLE ${r.table_name} ALTER COLUMN ${r.column_name} TYPE bigint;  -- rewrites the table under an ACCESS EXCLUSIVE lock (and its foreign keys' columns need bigint too)`
          : `ALTER SEQUENCE ${r.name} AS bigint MAXVALUE 9223372036854775807;  -- or CYCLE, if reusing old ids is safe`,
    }))
  return {
    items,
    facts: { sequences: rows.length, highest_pct: num(rows[0]?.pct ?? null) },
    ...(unreadable > 0 ? { partial: `${unreadable} sequence${unreadable === 1 ? '' : 's'} not read: no SELECT privilege on them` } : {}),
  }
}

/**
 * Tables whose dead tuples passed `dead_tuple_pct` of their rows (at least 1,000), or that
 * passed autovacuum's own trigger (50 + 20 % of rows dead) yet were not vacuumed for
 * `vacuum_age_days` (or ever).
 */
export async function readVacuum(db: Kysely<any>, limits: Readonly<Record<string, number>>): Promise<DoctorReading> {
  const deadPct = Number.isFinite(limits.dead_tuple_pct) ? limits.dead_tuple_pct! : 100
  const ageDays = Number.isFinite(limits.vacuum_age_days) ? limits.vacuum_age_days! : 1e6
  const { rows } = await sql<{ name: string; live: string; dead: string; dead_pct: string | null; last: Date | null; days: string | null }>`
    SELECT format('%I.%I', schemaname, relname) AS name, n_live_tup AS live, n_dead_tup AS dead,
           round(100 * n_dead_tup::numeric / nullif(n_live_tup + n_dead_tup, 0), 1) AS dead_pct,
           greatest(last_vacuum, last_autovacuum) AS last,
           extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum)) / 86400 AS days
    FROM pg_stat_user_tables
    WHERE (n_dead_tup >= 1000 AND 100 * n_dead_tup >= ${deadPct} * (n_live_tup + n_dead_tup))
       OR (n_dead_tup > 50 + 0.2 * n_live_tup
           AND coalesce(greatest(last_vacuum, last_autovacuum) < now() - make_interval(days => ${Math.floor(ageDays)}), true))
    ORDER BY n_dead_tup DESC LIMIT 50`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: r.name,
      values: {
        live_tuples: num(r.live),
        dead_tuples: num(r.dead),
        dead_pct: num(r.dead_pct),
        last_vacuum_at: r.last ? new Date(r.last).toISOString() : null,
        days_since_vacuum: round1(num(r.days)),
      },
      fix: `VACUUM (ANALYZE, VERBOSE) ${r.name};  -- and look for what holds autovacuum back (long transactions, slots)`,
    })),
    facts: {},
  }
}

/**
 * Tables with rows changed since their last ANALYZE past autovacuum's analyze trigger (50 + 10 %
 * of rows) and not analyzed for `analyze_age_days` (or ever): the planner works from old numbers.
 */
export async function readAnalyze(db: Kysely<any>, limits: Readonly<Record<string, number>>): Promise<DoctorReading> {
  const ageDays = Number.isFinite(limits.analyze_age_days) ? limits.analyze_age_days! : 1e6
  const { rows } = await sql<{ name: string; live: string; changed: string; last: Date | null; days: string | null }>`
    SELECT format('%I.%I', schemaname, relname) AS name, n_live_tup AS live, n_mod_since_analyze AS changed,
           greatest(last_analyze, last_autoanalyze) AS last,
           extract(epoch FROM now() - greatest(last_analyze, last_autoanalyze)) / 86400 AS days
    FROM pg_stat_user_tables
    WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup
      AND coalesce(greatest(last_analyze, last_autoanalyze) < now() - make_interval(days => ${Math.floor(ageDays)}), true)
    ORDER BY n_mod_since_analyze DESC LIMIT 50`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: r.name,
      values: {
        live_tuples: num(r.live),
        changed_since_analyze: num(r.changed),
        last_analyze_at: r.last ? new Date(r.last).toISOString() : null,
        days_since_analyze: round1(num(r.days)),
      },
      fix: `ANALYZE VERBOSE ${r.name};`,
    })),
    facts: {},
  }
}

/** Share of table and index block reads served from shared buffers, this database's tables. */
export async function readCacheHit(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ heap_hit: string; heap_read: string; idx_hit: string; idx_read: string; shared_buffers: string }>`
    SELECT coalesce(sum(heap_blks_hit), 0) AS heap_hit, coalesce(sum(heap_blks_read), 0) AS heap_read,
           coalesce(sum(idx_blks_hit), 0) AS idx_hit, coalesce(sum(idx_blks_read), 0) AS idx_read,
           current_setting('shared_buffers') AS shared_buffers
    FROM pg_statio_user_tables`.execute(db)
  const r = rows[0]!
  const ratio = (hit: number, read: number) => (hit + read === 0 ? null : round1((100 * hit) / (hit + read)))
  const heap = [num(r.heap_hit)!, num(r.heap_read)!] as const
  const idx = [num(r.idx_hit)!, num(r.idx_read)!] as const
  return {
    items: [
      { subject: 'tables', values: { pct: ratio(...heap), blocks_hit: heap[0], blocks_read: heap[1] } },
      { subject: 'indexes', values: { pct: ratio(...idx), blocks_hit: idx[0], blocks_read: idx[1] } },
    ],
    facts: { shared_buffers: r.shared_buffers },
    fixes: [`-- raise shared_buffers (now ${r.shared_buffers}; ~25 % of RAM): ALTER SYSTEM SET shared_buffers = '…'; then restart`],
  }
}

/** The `top_queries` statements by total time, when `pg_stat_statements` is installed and loaded. */
export async function readTopQueries(db: Kysely<any>, versionNum: number): Promise<DoctorReading> {
  const enable = [
    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';  -- keep any libraries already listed; restart",
    'CREATE EXTENSION pg_stat_statements;',
  ]
  const { rows: ext } = await sql<{ schema: string }>`
    SELECT quote_ident(e.extnamespace::regnamespace::text) AS schema FROM pg_extension e WHERE e.extname = 'pg_stat_statements'`.execute(db)
  if (ext.length === 0) return { items: [], facts: { installed: false }, fixes: enable }
  const total = versionNum >= 130000 ? 'total_exec_time' : 'total_time'
  const mean = versionNum >= 130000 ? 'mean_exec_time' : 'mean_time'
  try {
    const { rows } = await sql<{ query: string; calls: string; total_ms: string; mean_ms: string; pct: string }>`
      SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query, calls, round(${sql.raw(total)}::numeric, 1) AS total_ms,
             round(${sql.raw(mean)}::numeric, 2) AS mean_ms,
             round((100 * ${sql.raw(total)} / nullif(sum(${sql.raw(total)}) OVER (), 0))::numeric, 1) AS pct
      FROM ${sql.raw(ext[0]!.schema)}.pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY ${sql.raw(total)} DESC LIMIT 5`.execute(db)
    return {
      items: rows.map((r) => ({
        subject: r.query,
        values: { calls: num(r.calls), total_ms: num(r.total_ms), mean_ms: num(r.mean_ms), share_pct: num(r.pct) },
      })),
      facts: { installed: true },
    }
  } catch (err) {
    // 55000: installed but not in shared_preload_libraries
    if (errorCodeOf(err) === '55000') return { items: [], facts: { installed: true, loaded: false }, fixes: enable.slice(0, 1) }
    throw err
  }
}

/**
 * Settings that commonly hurt, as new sessions get them (`reset_val`: the server's file, the
 * database's and the role's settings): durability or autovacuum turned off, statistics not
 * collected, and no `idle_in_transaction_session_timeout` while sessions sit idle in a
 * transaction.
 */
export async function readSettings(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ name: string; value: string; idle: number; db: string }>`
    SELECT name, reset_val AS value, quote_ident(current_database()) AS db,
           (SELECT count(*)::int FROM pg_stat_activity
             WHERE state LIKE 'idle in transaction%' AND datname = current_database() AND pid <> pg_backend_pid()) AS idle
    FROM pg_settings
    WHERE name IN ('fsync', 'full_page_writes', 'autovacuum', 'track_counts', 'idle_in_transaction_session_timeout')`.execute(db)
  const value = new Map(rows.map((r) => [r.name, r.value]))
  const idle = rows[0]?.idle ?? 0
  const items: DoctorItem[] = []
  const off = (name: string, why: string, severity: 'fail' | 'warn') => {
    if (value.get(name) === 'off') {
      items.push({
        subject: name,
        values: { value: 'off', severity, why },
        fix: `ALTER SYSTEM SET ${name} = on; SELECT pg_reload_conf();`,
      })
    }
  }
  off('fsync', 'a crash can corrupt the database', 'fail')
  off('full_page_writes', 'a crash can leave torn pages', 'fail')
  off('autovacuum', 'dead rows pile up and transaction-id wraparound comes closer', 'fail')
  off('track_counts', 'autovacuum cannot see which tables need it', 'fail')
  if (value.get('idle_in_transaction_session_timeout') === '0' && idle > 0) {
    items.push({
      subject: 'idle_in_transaction_session_timeout',
      values: {
        value: '0',
        severity: 'warn',
        why: `${idle} session${idle === 1 ? '' : 's'} idle in a transaction now, holding locks and the vacuum horizon`,
      },
      fix: `ALTER DATABASE ${rows[0]!.db} SET idle_in_transaction_session_timeout = '5min';  -- new sessions; or ALTER SYSTEM for the server`,
    })
  }
  return { items, facts: { ...Object.fromEntries(rows.map((r) => [r.name, r.value])), idle_in_transaction_sessions: idle } }
}
