/**
 * Reading `pg_stat_activity` and `pg_locks` for `health` and `pool`: connection slots, who
 * this role can see, idle-in-transaction sessions and blocked queries.
 *
 * Slots are the server's (`max_connections` is); sessions, transactions and lock waits are
 * those of the current database, the one the on-call question is about.
 *
 * Without `pg_read_all_stats` (part of `pg_monitor`) a role sees its own sessions in full and
 * only the pid, database, user and application of the others; their state, times and query
 * are NULL. `pg_locks` and `pg_blocking_pids()` are readable by everyone, so lock waits are
 * complete whatever the role.
 */
import { type Kysely, sql } from '../../kysely-runtime.js'
import type { BlockedQuery, IdleTransaction } from '../dialect.js'

/** Characters of a query kept in reports. */
export const QUERY_PREVIEW_CHARS = 200

/** What the role may see, and the server's version. */
export interface ActivityScope {
  /** `server_version_num`, e.g. 150018. */
  versionNum: number
  /** Superuser or member of `pg_read_all_stats`: every session's state and query are visible. */
  seesAllSessions: boolean
  /** The note for reports when it does not. */
  visibility: string | undefined
}

/** The note reports carry when the role sees its own sessions only. */
export const INSUFFICIENT_PRIVILEGE = "insufficient privilege: other roles' session state, times and queries are hidden (grant pg_monitor)"

/** Reads the server version and whether this role sees every session. */
export async function readActivityScope(db: Kysely<any>): Promise<ActivityScope> {
  const { rows } = await sql<{ version_num: number; sees_all: boolean }>`
    SELECT current_setting('server_version_num')::int AS version_num,
           pg_has_role('pg_read_all_stats', 'USAGE') AS sees_all`.execute(db)
  const row = rows[0]!
  return { versionNum: row.version_num, seesAllSessions: row.sees_all, visibility: row.sees_all ? undefined : INSUFFICIENT_PRIVILEGE }
}

// A client session: its backend_type says so, or (hidden from this role) it is bound to a database.
const CLIENT_SESSION = sql`(backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL))`

/** Connection slots: the server's, this role's and this database's. */
export interface ConnectionSlots {
  maxConnections: number
  reserved: number
  /** Client sessions on the whole server. */
  used: number
  /** Slots for ordinary roles: `max_connections - superuser_reserved_connections`. */
  available: number
  byState: Array<{ state: string; count: number }>
  /** The least of the server's, the role's and the database's free slots. */
  free: number
  freeLimitedBy: 'server' | 'role' | 'database'
  roleLimit: number | undefined
  databaseLimit: number | undefined
}

/** Reads connection slots and counts by state (hidden states count as `unknown`). */
export async function readConnectionSlots(db: Kysely<any>): Promise<ConnectionSlots> {
  const { rows } = await sql<{
    max_connections: number
    reserved: number
    used: number
    role_limit: number
    role_used: number
    db_limit: number
    db_used: number
    by_state: Array<{ state: string; count: number }> | null
  }>`
    WITH sessions AS (SELECT * FROM pg_stat_activity WHERE ${CLIENT_SESSION})
    SELECT current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS reserved,
           (SELECT count(*) FROM sessions)::int AS used,
           (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit,
           (SELECT count(*) FROM sessions WHERE usename = current_user)::int AS role_used,
           (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
           (SELECT count(*) FROM sessions WHERE datname = current_database())::int AS db_used,
           (SELECT json_agg(json_build_object('state', state, 'count', n) ORDER BY n DESC, state)
              FROM (SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM sessions GROUP BY 1) s) AS by_state`.execute(db)
  const row = rows[0]!
  const available = row.max_connections - row.reserved
  const candidates: Array<{ by: ConnectionSlots['freeLimitedBy']; free: number }> = [{ by: 'server', free: available - row.used }]
  // -1 means "no limit"; superusers are exempt from both, but an on-call tool plans for the app's role
  if (row.role_limit >= 0) candidates.push({ by: 'role', free: row.role_limit - row.role_used })
  if (row.db_limit >= 0) candidates.push({ by: 'database', free: row.db_limit - row.db_used })
  const tightest = candidates.reduce((a, b) => (b.free < a.free ? b : a))
  return {
    maxConnections: row.max_connections,
    reserved: row.reserved,
    used: row.used,
    available,
    byState: row.by_state ?? [],
    free: Math.max(0, tightest.free),
    freeLimitedBy: tightest.by,
    roleLimit: row.role_limit >= 0 ? row.role_limit : undefined,
    databaseLimit: row.db_limit >= 0 ? row.db_limit : undefined,
  }
}

/** The statement that ends session `pid`: for operators to run, never run by dbops. */
export function terminateCommand(pid: number): string {
  return `SELECT pg_terminate_backend(${pid});`
}

function numberOrUndefined(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined
  const n = Number(value)
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : undefined
}

/** This database's sessions idle inside a transaction (this probe's excluded), longest idle first. */
export async function readIdleTransactions(db: Kysely<any>): Promise<IdleTransaction[]> {
  const { rows } = await sql<{
    pid: number
    usename: string | null
    application_name: string | null
    idle: string | null
    xact: string | null
    query: string | null
  }>`
    SELECT pid, usename, application_name,
           extract(epoch FROM now() - state_change) AS idle,
           extract(epoch FROM now() - xact_start) AS xact,
           left(query, ${QUERY_PREVIEW_CHARS}) AS query
    FROM pg_stat_activity
    WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid() AND datname = current_database()
    ORDER BY state_change`.execute(db)
  return rows.map((row) => ({
    pid: row.pid,
    user: row.usename ?? undefined,
    applicationName: row.application_name ?? undefined,
    idleSeconds: numberOrUndefined(row.idle) ?? 0,
    transactionSeconds: numberOrUndefined(row.xact),
    lastQuery: row.query ?? undefined,
    terminate: terminateCommand(row.pid),
  }))
}

/** The longest open transaction of this database's client sessions, this one excluded. */
export async function readLongestTransaction(
  db: Kysely<any>,
): Promise<{ pid: number; seconds: number; state: string | undefined; applicationName: string | undefined } | undefined> {
  const { rows } = await sql<{ pid: number; seconds: string; state: string | null; application_name: string | null }>`
    SELECT pid, extract(epoch FROM now() - xact_start) AS seconds, state, application_name
    FROM pg_stat_activity
    WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()
      AND datname = current_database()
    ORDER BY xact_start LIMIT 1`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  return {
    pid: row.pid,
    seconds: numberOrUndefined(row.seconds) ?? 0,
    state: row.state ?? undefined,
    applicationName: row.application_name ?? undefined,
  }
}

/**
 * This database's queries waiting on a lock, with the pids blocking them; longest wait first. The wait is
 * measured from `pg_locks.waitstart` (PostgreSQL 14+), before that from the query's last
 * state change (hidden without privilege).
 */
export async function readBlockedQueries(db: Kysely<any>, scope: ActivityScope): Promise<BlockedQuery[]> {
  const waitStart = scope.versionNum >= 140000 ? sql`w.waitstart` : sql`a.state_change`
  const waitColumn = scope.versionNum >= 140000 ? sql`waitstart` : sql`NULL::timestamptz AS waitstart`
  const { rows } = await sql<{
    pid: number
    usename: string | null
    application_name: string | null
    query: string | null
    waiting: string | null
    blocked_by: number[]
  }>`
    SELECT w.pid, a.usename, a.application_name, left(a.query, ${QUERY_PREVIEW_CHARS}) AS query,
           extract(epoch FROM now() - ${waitStart}) AS waiting,
           pg_blocking_pids(w.pid) AS blocked_by
    FROM (SELECT DISTINCT ON (pid) pid, ${waitColumn} FROM pg_locks WHERE NOT granted AND pid IS NOT NULL ORDER BY pid) w
    JOIN pg_stat_activity a ON a.pid = w.pid
    WHERE a.datname = current_database()
    ORDER BY waiting DESC NULLS LAST, w.pid`.execute(db)
  return rows.map((row) => ({
    pid: row.pid,
    user: row.usename ?? undefined,
    applicationName: row.application_name ?? undefined,
    waitingSeconds: numberOrUndefined(row.waiting),
    query: row.query ?? undefined,
    blockedBy: row.blocked_by,
    terminateBlockers: row.blocked_by.map(terminateCommand),
  }))
}
