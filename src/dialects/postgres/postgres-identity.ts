/**
 * Which PostgreSQL database a backup is of: the cluster's system identifier (set by `initdb`,
 * the same on every address that reaches the cluster and on its physical replicas) and the
 * database's name. `pg_control_system()` is executable by every role by default; where a
 * provider revoked it, the identity falls back to the address dbops connected to, which is
 * weaker (`localhost` and `127.0.0.1` then count as two databases) but never merges two.
 */
import type { PostgresTarget } from '../../config/database-url.js'
import { errorCodeOf } from '../../errors.js'
import type { ConnectionScope } from '../dialect.js'
import { CLUSTER_DATABASES, connectToCluster } from './postgres-connect.js'
import type { PostgresConnection } from './postgres-connection.js'

/** Runs one query and returns its rows: a pool, a pinned client or a connection. */
export type RowQuery = (text: string) => Promise<Array<Record<string, unknown>>>

/** Privilege missing (42501) or no such function (42883, an older server or another product). */
const CANNOT_READ_IDENTIFIER = new Set(['42501', '42883'])

/**
 * The identity of `scope.target` (see {@link readPostgresIdentity}), read over `conn` when
 * given; otherwise over a connection of the scope to the database itself, else to any
 * database of its cluster, so that a dropped database's backups are still found.
 */
export async function readPostgresBackupIdentity(scope: ConnectionScope, conn: PostgresConnection | undefined): Promise<string> {
  const target = (conn?.target ?? scope.target) as PostgresTarget
  const reader = conn ?? (await connectToCluster(scope, target, [target.database, ...CLUSTER_DATABASES]))
  try {
    return await readPostgresIdentity((text) => reader.pool.query(text).then((r) => r.rows), target)
  } finally {
    if (!conn) await reader.close()
  }
}

/**
 * `postgres:<system identifier>/<database>` of `target`, or
 * `postgres-address:<host>:<port>/<database>` when the role may not call
 * `pg_control_system()`. `query` may run on any database of `target`'s cluster (the
 * identifier is the cluster's), so a database that was dropped still has its identity.
 * Other errors (a lost connection) throw.
 *
 * @example await readPostgresIdentity((t) => pool.query(t).then((r) => r.rows), target) // 'postgres:7715536473959485580/app'
 */
export async function readPostgresIdentity(query: RowQuery, target: PostgresTarget): Promise<string> {
  try {
    const rows = await query('SELECT system_identifier::text AS id FROM pg_control_system()')
    const id = rows[0]?.id
    if (typeof id === 'string') return `postgres:${id}/${target.database}`
  } catch (err) {
    if (!CANNOT_READ_IDENTIFIER.has(errorCodeOf(err) ?? '')) throw err
  }
  return addressIdentity(target)
}

/** The fallback: the address as configured (host lower-cased). */
export function addressIdentity(target: PostgresTarget): string {
  return `postgres-address:${target.host.toLowerCase()}:${target.port}/${target.database}`
}
