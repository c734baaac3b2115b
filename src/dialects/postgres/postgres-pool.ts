/**
 * The server's view of connections for `dbops pool`: slots used and free (for this role and
 * database), sessions by state and by application and user, idle-in-transaction sessions
 * with their age and last query, and blocked queries with the pids blocking them and the
 * statement an operator would run to end each blocker (printed, never run).
 */
import { sql } from '../../kysely-runtime.js'
import type { DbConnection, PoolProbe, SessionGroup } from '../dialect.js'
import { readActivityScope, readBlockedQueries, readConnectionSlots, readIdleTransactions } from './postgres-activity.js'

/** Reads PostgreSQL's view of connections. */
export async function probePostgresPool(conn: DbConnection): Promise<PoolProbe> {
  const db = conn.db
  const scope = await readActivityScope(db)
  const slots = await readConnectionSlots(db)
  const groups = await sql<{ application_name: string | null; usename: string | null; state: string | null; count: number }>`
    SELECT application_name, usename, coalesce(state, 'unknown') AS state, count(*)::int AS count
    FROM pg_stat_activity
    WHERE datname = current_database() AND (backend_type = 'client backend' OR backend_type IS NULL)
    GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3`.execute(db)
  const byApplication: SessionGroup[] = groups.rows.map((row) => ({
    applicationName: row.application_name ?? '',
    user: row.usename ?? '',
    state: row.state ?? 'unknown',
    count: row.count,
  }))
  return {
    maxConnections: slots.available,
    used: slots.used,
    free: slots.free,
    freeLimitedBy: slots.freeLimitedBy,
    byState: slots.byState,
    byApplication,
    idleInTransaction: await readIdleTransactions(db),
    blocked: await readBlockedQueries(db, scope),
    visibility: scope.visibility,
    details: {
      max_connections: slots.maxConnections,
      superuser_reserved: slots.reserved,
      role_connection_limit: slots.roleLimit ?? null,
      database_connection_limit: slots.databaseLimit ?? null,
    },
  }
}
