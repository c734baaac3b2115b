/**
 * PostgreSQL's health checks: round trip of `SELECT 1`, version and size; connection slots
 * used against `max_connections`; the longest transaction and idle-in-transaction sessions;
 * queries waiting on a lock; replication role and lag; transaction-id wraparound age.
 * Where the role lacks `pg_monitor`, each check reports what it can see and says
 * "insufficient privilege" for the rest.
 */
import { sql } from '../../kysely-runtime.js'
import type { DbConnection, HealthComponent, HealthProbeOptions } from '../dialect.js'
import { roundMs, runProbe, warnAbove, worstStatus } from '../run-probe.js'
import {
  type ActivityScope,
  readActivityScope,
  readBlockedQueries,
  readConnectionSlots,
  readIdleTransactions,
  readLongestTransaction,
} from './postgres-activity.js'

/** Transaction ids before wraparound: 2^31. */
const WRAPAROUND_XIDS = 2 ** 31

/** Runs PostgreSQL's health checks on an open connection; never throws for a failing check. */
export async function probePostgresHealth(conn: DbConnection, options: HealthProbeOptions): Promise<HealthComponent[]> {
  const db = conn.db
  const t = options.thresholds
  const components: HealthComponent[] = []
  let scope: ActivityScope | undefined

  components.push(
    await runProbe('connection', async () => {
      const started = performance.now()
      await sql`SELECT 1`.execute(db)
      const latencyMs = roundMs(performance.now() - started)
      const { rows } = await sql<{ database: string; user: string; size: string; in_recovery: boolean }>`
        SELECT current_database() AS database, current_user AS user,
               pg_database_size(current_database()) AS size, pg_is_in_recovery() AS in_recovery`.execute(db)
      const row = rows[0]!
      scope = await readActivityScope(db)
      return {
        status: warnAbove(latencyMs, t.latency_ms),
        latencyMs,
        details: {
          [conn.dialect.versionDetail]: conn.serverVersion,
          database: row.database,
          user: row.user,
          size_bytes: Number(row.size),
          role: row.in_recovery ? 'replica' : 'primary',
          connect_ms: roundMs(conn.connectMs),
        },
      }
    }),
  )
  const visibility = () => (scope?.visibility ? { visibility: scope.visibility } : {})

  components.push(
    await runProbe('connections', async () => {
      const slots = await readConnectionSlots(db)
      const usedPct = Math.round((slots.used / Math.max(1, slots.available)) * 1000) / 10
      return {
        status: warnAbove(usedPct, t.connections_pct),
        details: {
          used: slots.used,
          max_connections: slots.maxConnections,
          superuser_reserved: slots.reserved,
          used_pct: usedPct,
          free_for_this_role: slots.free,
          by_state: Object.fromEntries(slots.byState.map((s) => [s.state.replaceAll(' ', '_').replace(/[()]/g, ''), s.count])),
          ...visibility(),
        },
      }
    }),
  )

  components.push(
    await runProbe('transactions', async () => {
      const longest = await readLongestTransaction(db)
      const idle = await readIdleTransactions(db)
      const longestIdle = idle.reduce<(typeof idle)[number] | undefined>(
        (a, b) => (a === undefined || b.idleSeconds > a.idleSeconds ? b : a),
        undefined,
      )
      return {
        status: worstStatus(
          warnAbove(longest?.seconds, t.transaction_seconds),
          warnAbove(longestIdle?.idleSeconds, t.idle_in_transaction_seconds),
        ),
        details: {
          longest_transaction_seconds: longest?.seconds ?? null,
          longest_transaction_pid: longest?.pid ?? null,
          idle_in_transaction: idle.length,
          longest_idle_in_transaction_seconds: longestIdle?.idleSeconds ?? null,
          longest_idle_in_transaction_pid: longestIdle?.pid ?? null,
          ...visibility(),
        },
      }
    }),
  )

  components.push(
    await runProbe('lock_waits', async () => {
      scope ??= await readActivityScope(db)
      const blocked = await readBlockedQueries(db, scope)
      const longest = blocked[0]
      return {
        status: warnAbove(longest?.waitingSeconds, t.lock_wait_seconds),
        details: {
          waiting: blocked.length,
          longest_wait_seconds: longest?.waitingSeconds ?? null,
          longest_waiting_pid: longest?.pid ?? null,
          blocking_pids: [...new Set(blocked.flatMap((b) => b.blockedBy))].sort((a, b) => a - b),
        },
      }
    }),
  )

  components.push(
    await runProbe('replication', async () => {
      const { rows } = await sql<{ in_recovery: boolean; lag: string | null; caught_up: boolean | null }>`
        SELECT pg_is_in_recovery() AS in_recovery,
               CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS lag,
               CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() END AS caught_up`.execute(db)
      const row = rows[0]!
      if (row.in_recovery) {
        // an idle primary sends nothing to replay: replayed everything received = no lag
        const lag = row.caught_up ? 0 : row.lag === null ? null : Math.round(Number(row.lag) * 10) / 10
        return { status: warnAbove(lag ?? undefined, t.replication_lag_seconds), details: { role: 'replica', replay_lag_seconds: lag } }
      }
      const replicas = await sql<{ application_name: string | null; state: string | null; lag: string | null }>`
        SELECT application_name, state, extract(epoch FROM replay_lag) AS lag FROM pg_stat_replication ORDER BY application_name`.execute(
        db,
      )
      const list = replicas.rows.map((r) => ({
        application_name: r.application_name,
        state: r.state,
        replay_lag_seconds: r.lag === null ? null : Math.round(Number(r.lag) * 10) / 10,
      }))
      const worstLag = Math.max(0, ...list.map((r) => r.replay_lag_seconds ?? 0))
      return {
        status: warnAbove(worstLag, t.replication_lag_seconds),
        details: { role: 'primary', replicas: list, ...(list.some((r) => r.state === null) ? visibility() : {}) },
      }
    }),
  )

  components.push(
    await runProbe('wraparound', async () => {
      const { rows } = await sql<{ datname: string; age: number }>`
        SELECT datname, age(datfrozenxid) AS age FROM pg_database ORDER BY age(datfrozenxid) DESC LIMIT 1`.execute(db)
      const row = rows[0]!
      const pct = Math.round((row.age / WRAPAROUND_XIDS) * 1000) / 10
      return { status: warnAbove(pct, t.wraparound_pct), details: { oldest_xid_age: row.age, database: row.datname, wraparound_pct: pct } }
    }),
  )
  return components
}
