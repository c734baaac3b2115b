/**
 * `dbops pool`: who holds the connections, and does the configured pool work?
 *
 * Client side (where the dialect has a pool): the configured pool for real
 * (`max = POOL_SIZE + MAX_OVERFLOW`, `POOL_TIMEOUT`), N connections acquired concurrently with
 * a query on each, acquire latency p50 / p95 / max, failures, and whether the configured size
 * fits in the free connections. N is capped so that a reserve of free connections (default
 * 3) stays free, unless `force`: an on-call tool must not take the last connections.
 *
 * Server side: the dialect's view (`Dialect.probePool`): sessions by state, application and
 * user, idle-in-transaction sessions, blocked queries with their blockers and the statement
 * an operator would run to end them (printed, never run); for SQLite the write lock, the WAL
 * and the processes holding the file.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection, PoolProbe } from '../dialects/dialect.js'
import { roundMs } from '../dialects/run-probe.js'
import { messageOf } from '../errors.js'
import { usingOnCallSession } from './on-call-session.js'
import type { SharedSession } from './shared-session.js'

/** Free connections `dbops pool` leaves untouched unless `--force`. */
export const DEFAULT_RESERVE = 3

/** The part of a driver's pool that acquiring needs (pg.Pool has it). */
export interface AcquirablePool {
  connect(): Promise<{ query(text: string): Promise<unknown>; release(err?: Error | boolean): void }>
}

/** Options of {@link checkPool}. */
export interface PoolOptions {
  /** Connections to acquire concurrently; default the configured pool's max. */
  connections?: number | undefined
  /** Take more than the free connections minus the reserve. */
  force?: boolean
  /** Free connections to leave alone (default {@link DEFAULT_RESERVE}). */
  reserve?: number
  connect: ConnectOptions
}

/** Acquire latencies in milliseconds. */
export interface LatencySummary {
  p50: number
  p95: number
  max: number
}

/** The client-side half of the report. */
export interface PoolClientReport {
  pool_max: number
  pool_size: number
  max_overflow: number
  pool_timeout_seconds: number
  requested: number
  /** Connections actually asked for (after the cap). */
  connections: number
  capped: boolean
  cap_reason: string | null
  acquired: number
  failures: number
  errors: string[]
  acquire_ms: LatencySummary | null
  /** Whether another pool of the configured size fits in the free connections. */
  fits: boolean | null
}

/** The server-side half of the report. */
export interface PoolServerReport {
  max_connections: number | null
  used: number | null
  free: number | null
  free_limited_by: string | null
  by_state: Array<{ state: string; count: number }>
  by_application: Array<{ application_name: string; user: string; state: string; count: number }>
  idle_in_transaction: Array<{
    pid: number
    user: string | null
    application_name: string | null
    idle_seconds: number
    transaction_seconds: number | null
    last_query: string | null
    terminate: string | null
  }>
  blocked: Array<{
    pid: number
    user: string | null
    application_name: string | null
    waiting_seconds: number | null
    query: string | null
    blocked_by: number[]
    terminate_blockers: string[]
  }>
  visibility: string | null
  details: Record<string, unknown>
}

/** The JSON document of `dbops pool`. */
export interface PoolReport {
  dialect: 'sqlite' | 'postgres'
  checked_at: string
  /** null where the dialect has no connection pool (SQLite: one handle per process). */
  client: PoolClientReport | null
  server: PoolServerReport
  /** Why attention is needed (exit 3): blocked queries, acquire failures, no write lock, a pool that does not fit. */
  attention: string[]
}

/**
 * The server's view of connections alone (sessions by state and application, idle
 * transactions, blocked queries and their blockers), without trying the pool: what a page
 * refreshed every few seconds may ask. Read through `shared` when given.
 */
export async function checkServerConnections(
  config: ResolvedConfig,
  options: { connect: ConnectOptions; shared?: SharedSession | undefined },
): Promise<PoolServerReport> {
  return usingOnCallSession(config, options.connect, async (conn) => serverReport(await conn.dialect.probePool(conn)), options.shared)
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

/**
 * How many connections to take: `requested`, capped at the connection dbops already holds
 * plus the free ones minus `reserve` (never below 1, the one already held), unless `force`.
 */
export function capConnections(
  requested: number,
  free: number | undefined,
  reserve: number,
  force: boolean,
): { connections: number; capped: boolean; reason: string | undefined } {
  if (force || free === undefined) return { connections: requested, capped: false, reason: undefined }
  const cap = Math.max(1, free + 1 - reserve)
  if (requested <= cap) return { connections: requested, capped: false, reason: undefined }
  return {
    connections: cap,
    capped: true,
    reason: `capped at ${cap} of ${requested}: ${free} connection${free === 1 ? '' : 's'} free for this role and database, ${reserve} kept in reserve (--force takes more)`,
  }
}

/** Acquires `n` connections concurrently, runs `SELECT 1` on each, and times the acquires. */
export async function measureAcquire(
  pool: AcquirablePool,
  n: number,
  holdTogether: boolean,
): Promise<{ times: number[]; errors: string[] }> {
  const times: number[] = []
  const errors: string[] = []
  let settled = 0
  let releaseAll!: () => void
  const allSettled = new Promise<void>((resolve) => (releaseAll = resolve))
  const settle = () => {
    if (++settled === n) releaseAll()
  }
  await Promise.all(
    Array.from({ length: n }, async () => {
      const started = performance.now()
      let client: Awaited<ReturnType<AcquirablePool['connect']>> | undefined
      try {
        client = await pool.connect()
        times.push(performance.now() - started)
        await client.query('SELECT 1')
      } catch (err) {
        errors.push(messageOf(err))
      }
      settle()
      // hold until every task has its connection, so N are open at once (not one reused N times)
      if (holdTogether) await allSettled
      client?.release()
    }),
  )
  return { times: times.sort((a, b) => a - b), errors }
}

function poolOf(conn: DbConnection): AcquirablePool | undefined {
  return (conn as { pool?: AcquirablePool }).pool
}

function serverReport(probe: PoolProbe): PoolServerReport {
  return {
    max_connections: probe.maxConnections ?? null,
    used: probe.used ?? null,
    free: probe.free ?? null,
    free_limited_by: probe.freeLimitedBy ?? null,
    by_state: probe.byState,
    by_application: probe.byApplication.map((g) => ({ application_name: g.applicationName, user: g.user, state: g.state, count: g.count })),
    idle_in_transaction: probe.idleInTransaction.map((s) => ({
      pid: s.pid,
      user: s.user ?? null,
      application_name: s.applicationName ?? null,
      idle_seconds: s.idleSeconds,
      transaction_seconds: s.transactionSeconds ?? null,
      last_query: s.lastQuery ?? null,
      terminate: s.terminate ?? null,
    })),
    blocked: probe.blocked.map((b) => ({
      pid: b.pid,
      user: b.user ?? null,
      application_name: b.applicationName ?? null,
      waiting_seconds: b.waitingSeconds ?? null,
      query: b.query ?? null,
      blocked_by: b.blockedBy,
      terminate_blockers: b.terminateBlockers,
    })),
    visibility: probe.visibility ?? null,
    details: probe.details,
  }
}

/**
 * Runs the pool check once, in the on-call session. Connect failures are thrown as typed
 * errors (exit 4, 7); everything else is in the report.
 */
export async function checkPool(config: ResolvedConfig, options: PoolOptions): Promise<PoolReport> {
  const checkedAt = new Date()
  const reserve = options.reserve ?? DEFAULT_RESERVE
  return usingOnCallSession(config, options.connect, async (conn) => {
    const probe = await conn.dialect.probePool(conn)
    const server = serverReport(probe)
    const attention: string[] = []
    if (server.blocked.length > 0)
      attention.push(`${server.blocked.length} quer${server.blocked.length === 1 ? 'y' : 'ies'} waiting on a lock`)
    const writeLock = probe.details.write_lock as { acquired?: boolean; error?: string } | undefined
    if (writeLock && writeLock.acquired === false) attention.push(`write lock not acquired: ${writeLock.error ?? 'busy'}`)

    const pool = poolOf(conn)
    let client: PoolClientReport | null = null
    if (pool) {
      const poolMax = config.pool.size + config.pool.maxOverflow
      const requested = options.connections ?? poolMax
      const cap = capConnections(requested, probe.free, reserve, options.force ?? false)
      const { times, errors } = await measureAcquire(pool, cap.connections, cap.connections <= poolMax)
      const fits = probe.free === undefined ? null : poolMax <= probe.free
      client = {
        pool_max: poolMax,
        pool_size: config.pool.size,
        max_overflow: config.pool.maxOverflow,
        pool_timeout_seconds: config.pool.timeoutSeconds,
        requested,
        connections: cap.connections,
        capped: cap.capped,
        cap_reason: cap.reason ?? null,
        acquired: times.length,
        failures: errors.length,
        errors: [...new Set(errors)],
        acquire_ms:
          times.length === 0
            ? null
            : { p50: roundMs(percentile(times, 50)), p95: roundMs(percentile(times, 95)), max: roundMs(times.at(-1)!) },
        fits,
      }
      if (errors.length > 0) attention.push(`${errors.length} of ${cap.connections} acquires failed`)
      if (fits === false) attention.push(`a pool of ${poolMax} does not fit in the ${probe.free} free connections`)
    }
    return { dialect: conn.dialect.name, checked_at: checkedAt.toISOString(), client, server, attention }
  })
}
