/**
 * How many targets a fleet may run at once without exhausting the server's connections:
 * before the run, each server of the fleet is asked how many connections this role could
 * still open (`Dialect.probePool`'s `free`: the least of the server's free slots, the role's
 * and the database's CONNECTION LIMIT), and the concurrency is capped so that the run leaves
 * {@link KEEP_FREE} of them for everyone else. A server that cannot be probed caps nothing
 * (its targets will report their own errors); SQLite has no such limit.
 */
import type { DbConnection, ConnectOptions } from '../dialects/dialect.js'
import { targetServer } from '../config/target-identity.js'
import { connect } from '../dialects/index.js'
import type { FleetTarget } from './fleet-targets.js'

/** Connections one target may hold at once (the migration session's and a catalog read's). */
export const CONNECTIONS_PER_TARGET = 2
/** Connections a fleet run leaves free on each server (on-call must still get in). */
export const KEEP_FREE = 2

/** The concurrency to use, and why it is lower than asked when it is. */
export interface FleetHeadroom {
  concurrency: number
  requested: number
  /** The fewest free connections seen on a server of the fleet; null when none could be probed. */
  free_connections: number | null
  /** One sentence when the concurrency was capped, else null. */
  capped: string | null
}

/**
 * Caps `requested` by the free connections of each server among `targets` (probed through
 * the first target that answers, at most three tries per server).
 *
 * @example
 * const { concurrency, capped } = await fleetHeadroom(targets, 50, { mode: 'read', command: 'migrate up' })
 */
export async function fleetHeadroom(targets: readonly FleetTarget[], requested: number, options: ConnectOptions): Promise<FleetHeadroom> {
  const byServer = new Map<string, FleetTarget[]>()
  for (const t of targets) {
    const key = targetServer(t.config.target)
    if (key === undefined) continue
    byServer.set(key, [...(byServer.get(key) ?? []), t])
  }
  let free: number | undefined
  let server: string | undefined
  for (const [key, members] of byServer) {
    const seen = await probeFree(members.slice(0, 3), options)
    if (seen !== undefined && (free === undefined || seen < free)) {
      free = seen
      server = key
    }
  }
  const limit = free === undefined ? requested : Math.max(1, Math.floor((free - KEEP_FREE) / CONNECTIONS_PER_TARGET))
  const concurrency = Math.min(requested, limit)
  return {
    concurrency,
    requested,
    free_connections: free ?? null,
    capped:
      concurrency < requested
        ? `--concurrency ${requested} capped to ${concurrency}: ${server} has ${free} free connection${free === 1 ? '' : 's'} for this role; each target uses up to ${CONNECTIONS_PER_TARGET} and ${KEEP_FREE} are left free`
        : null,
  }
}

async function probeFree(members: readonly FleetTarget[], options: ConnectOptions): Promise<number | undefined> {
  for (const member of members) {
    let conn: DbConnection | undefined
    try {
      conn = await connect(member.config, {
        ...options,
        mode: 'read',
        deadlineMs: Math.min(3000, member.config.connectTimeoutSeconds * 1000),
      })
      const probe = await conn.dialect.probePool(conn)
      // the probe's own connection is counted as used; it closes before the run
      return probe.free === undefined ? undefined : probe.free + 1
    } catch {
      continue
    } finally {
      await conn?.close().catch(() => undefined)
    }
  }
  return undefined
}
