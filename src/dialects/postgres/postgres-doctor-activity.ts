/**
 * The doctor's PostgreSQL reads about what is running: long transactions, sessions idle in a
 * transaction, the blocking tree, connections by application, replication slots and replica
 * lag. Sessions are those of the current database (as in `health`); slots and connections are
 * the server's. Without `pg_read_all_stats` other roles' session state is hidden: the reading
 * says so (`partial`).
 */
import { type Kysely, sql } from '../../kysely-runtime.js'
import type { DoctorReading } from '../doctor-port.js'
import { type ActivityScope, QUERY_PREVIEW_CHARS, readBlockedQueries, readConnectionSlots, terminateCommand } from './postgres-activity.js'
import { num, round1 } from './postgres-doctor-indexes.js'

function visibility(scope: ActivityScope): { partial?: string } {
  return scope.visibility ? { partial: scope.visibility } : {}
}

/**
 * Transactions open longer than `transaction_seconds`, oldest first: this database's as items,
 * other databases' counted in `facts.elsewhere` (named there: check_postgres looks server-wide).
 */
export async function readLongTransactions(
  db: Kysely<any>,
  scope: ActivityScope,
  limits: Readonly<Record<string, number>>,
): Promise<DoctorReading> {
  return readOldSessions(db, scope, Number.isFinite(limits.transaction_seconds) ? limits.transaction_seconds! : 1e12, false)
}

/**
 * Sessions idle inside a transaction for `idle_in_transaction_seconds` or more: this
 * database's as items, other databases' counted in `facts.elsewhere`.
 */
export async function readIdleInTransaction(
  db: Kysely<any>,
  scope: ActivityScope,
  limits: Readonly<Record<string, number>>,
): Promise<DoctorReading> {
  return readOldSessions(db, scope, Number.isFinite(limits.idle_in_transaction_seconds) ? limits.idle_in_transaction_seconds! : 1e12, true)
}

async function readOldSessions(db: Kysely<any>, scope: ActivityScope, seconds: number, idleOnly: boolean): Promise<DoctorReading> {
  const { rows } = await sql<{
    pid: number
    datname: string
    here: boolean
    usename: string | null
    app: string | null
    state: string | null
    secs: string
    idle: string | null
    query: string | null
  }>`
    SELECT pid, datname, datname = current_database() AS here, usename, application_name AS app, state,
           extract(epoch FROM now() - xact_start) AS secs, extract(epoch FROM now() - state_change) AS idle,
           left(query, ${QUERY_PREVIEW_CHARS}) AS query
    FROM pg_stat_activity
    WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()
      AND ${idleOnly ? sql`state LIKE 'idle in transaction%' AND now() - state_change` : sql`now() - xact_start`} >= make_interval(secs => ${seconds})
    ORDER BY ${idleOnly ? sql`state_change` : sql`xact_start`}`.execute(db)
  const elsewhere = rows.filter((r) => !r.here)
  return {
    items: rows
      .filter((r) => r.here)
      .map((r) => ({
        subject: `pid ${r.pid}`,
        values: {
          ...(idleOnly ? { idle_seconds: round1(num(r.idle)) } : {}),
          transaction_seconds: round1(num(r.secs)),
          user: r.usename,
          application_name: r.app,
          state: r.state,
          query: r.query,
        },
        fix: terminateCommand(r.pid),
      })),
    facts: {
      elsewhere: elsewhere.length,
      elsewhere_oldest: elsewhere[0]
        ? `database ${elsewhere[0].datname} pid ${elsewhere[0].pid} (${round1(num(idleOnly ? elsewhere[0].idle : elsewhere[0].secs))} s)`
        : null,
    },
    ...visibility(scope),
  }
}

/**
 * Queries of this database waiting on a lock for `lock_wait_seconds` or more, each with the
 * chain of blockers up to the root (a session holding locks and waiting on nobody): the one
 * to end is the root.
 */
export async function readBlocking(
  db: Kysely<any>,
  scope: ActivityScope,
  limits: Readonly<Record<string, number>>,
): Promise<DoctorReading> {
  const blocked = await readBlockedQueries(db, scope)
  const blockersOf = new Map(blocked.map((b) => [b.pid, b.blockedBy]))
  const rootsOf = (pid: number, seen = new Set<number>()): number[] => {
    const by = blockersOf.get(pid)
    if (!by || by.length === 0 || seen.has(pid)) return [pid]
    seen.add(pid)
    return [...new Set(by.flatMap((b) => rootsOf(b, seen)))]
  }
  const waiting = blocked.filter((b) => (b.waitingSeconds ?? Number.POSITIVE_INFINITY) >= (limits.lock_wait_seconds ?? 0))
  return {
    items: waiting.map((b) => {
      const roots = rootsOf(b.pid).filter((p) => p !== b.pid)
      return {
        subject: `pid ${b.pid}`,
        values: {
          waiting_seconds: b.waitingSeconds ?? null,
          blocked_by: b.blockedBy.join(', '),
          root_blockers: roots.join(', '),
          application_name: b.applicationName ?? null,
          query: b.query ?? null,
        },
        fix: roots.map(terminateCommand).join(' '),
      }
    }),
    facts: { waiting: blocked.length },
  }
}

/** Client connections against `max_connections` (less the superuser reserve), by application and database. */
export async function readConnections(db: Kysely<any>, scope: ActivityScope): Promise<DoctorReading> {
  const slots = await readConnectionSlots(db)
  const { rows } = await sql<{ app: string; datname: string | null; n: number }>`
    SELECT coalesce(nullif(application_name, ''), '(none)') AS app, datname, count(*)::int AS n
    FROM pg_stat_activity WHERE backend_type = 'client backend'
    GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 20`.execute(db)
  return {
    items: rows.map((r) => ({ subject: r.app, values: { database: r.datname, connections: r.n } })),
    facts: {
      used: slots.used,
      max_connections: slots.maxConnections,
      superuser_reserved: slots.reserved,
      pct: round1((100 * slots.used) / Math.max(1, slots.available)),
    },
    ...visibility(scope),
  }
}

/**
 * Replication slots: inactive ones (nobody consumes them, so the server keeps every WAL
 * segment since their restart point) and the WAL each retains.
 */
export async function readReplicationSlots(db: Kysely<any>): Promise<DoctorReading> {
  const { rows } = await sql<{ slot_name: string; slot_type: string; active: boolean; database: string | null; retained: string | null }>`
    SELECT slot_name, slot_type, active, database,
           pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn) AS retained
    FROM pg_replication_slots ORDER BY retained DESC NULLS LAST, slot_name`.execute(db)
  return {
    items: rows.map((r) => ({
      subject: r.slot_name,
      values: { slot_type: r.slot_type, active: r.active, database: r.database, retained_wal_bytes: num(r.retained) ?? 0 },
      fix: `SELECT pg_drop_replication_slot(${quoteLiteral(r.slot_name)});  -- once nothing will ever consume it`,
    })),
    facts: { slots: rows.length },
  }
}

/** Replica lag: on a primary, each attached replica's replay lag; on a replica, its own. */
export async function readReplicaLag(db: Kysely<any>): Promise<DoctorReading> {
  const { rows: role } = await sql<{ in_recovery: boolean; own_lag: string | null }>`
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS own_lag`.execute(db)
  const me = role[0]!
  if (me.in_recovery) {
    return { items: [{ subject: 'this replica', values: { lag_seconds: round1(num(me.own_lag)) } }], facts: { role: 'replica' } }
  }
  const { rows } = await sql<{ name: string; state: string | null; lag: string | null; bytes: string | null }>`
    SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text) AS name, state,
           extract(epoch FROM replay_lag) AS lag, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bytes
    FROM pg_stat_replication ORDER BY 1`.execute(db)
  return {
    items: rows.map((r) => ({ subject: r.name, values: { state: r.state, lag_seconds: round1(num(r.lag)), lag_bytes: num(r.bytes) } })),
    facts: { role: 'primary', replicas: rows.length },
  }
}

/** A SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}
