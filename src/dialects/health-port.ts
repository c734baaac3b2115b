/**
 * What the health, pool and on-call probes of a dialect report (`health`, `pool`, `serve`):
 * the shapes only; each dialect's `*-health.ts` / `*-pool.ts` fills them.
 */

/**
 * One health check's result. `details` keys are snake_case: they go into the JSON document
 * as they are.
 */
export interface HealthComponent {
  /** snake_case name: `connection`, `migrations`, `lock_waits`, `sqlite_wal`… */
  name: string
  status: 'ok' | 'warn' | 'fail'
  /** Milliseconds the check's own queries took; undefined when it ran none. */
  latencyMs: number | undefined
  details: Record<string, unknown>
}

/** Options of the health probes. */
export interface HealthProbeOptions {
  /** Also run the checks that read the whole database (SQLite `quick_check`). */
  deep: boolean
  /** Warning thresholds by name; see `HEALTH_THRESHOLDS` in src/health/health-thresholds.ts. */
  thresholds: Record<string, number>
}

/** Sessions of one application, user and state. */
export interface SessionGroup {
  applicationName: string
  user: string
  state: string
  count: number
}

/** A session idle inside an open transaction: it holds its locks and snapshot. */
export interface IdleTransaction {
  pid: number
  user: string | undefined
  applicationName: string | undefined
  /** Seconds since the session went idle. */
  idleSeconds: number
  /** Seconds since its transaction began. */
  transactionSeconds: number | undefined
  /** Its last statement, truncated. */
  lastQuery: string | undefined
  /** The statement an operator would run to end the session: printed, never run. */
  terminate: string | undefined
}

/** A query waiting on a lock, and who holds it. */
export interface BlockedQuery {
  pid: number
  user: string | undefined
  applicationName: string | undefined
  waitingSeconds: number | undefined
  query: string | undefined
  /** The pids that block it (`pg_blocking_pids`). */
  blockedBy: number[]
  /** The statements an operator would run to end its blockers: printed, never run. */
  terminateBlockers: string[]
}

/**
 * The server's view of connections, for `dbops pool`. Fields a dialect has no notion of
 * are undefined or empty; dialect-specific findings (SQLite's write lock, WAL, checkpoint,
 * processes holding the file) are in `details`, with snake_case keys.
 */
export interface PoolProbe {
  /** Slots for ordinary roles: `max_connections - superuser_reserved_connections`. */
  maxConnections: number | undefined
  /** Client sessions open now, this probe's included. */
  used: number | undefined
  /**
   * Connections this role could still open on this database: the least of the server's free
   * slots, the role's CONNECTION LIMIT and the database's CONNECTION LIMIT.
   */
  free: number | undefined
  /** Which limit gave `free`: `server`, `role` or `database`. */
  freeLimitedBy: 'server' | 'role' | 'database' | undefined
  /** Client sessions on the whole server by state. */
  byState: Array<{ state: string; count: number }>
  /** This database's sessions by application, user and state. */
  byApplication: SessionGroup[]
  /** This database's sessions idle in a transaction. */
  idleInTransaction: IdleTransaction[]
  /** This database's queries waiting on a lock. */
  blocked: BlockedQuery[]
  /** Set when the role cannot see every session ("insufficient privilege: …"). */
  visibility: string | undefined
  details: Record<string, unknown>
}
