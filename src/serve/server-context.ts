/**
 * What every route of `dbops serve` reads through: the configuration, the connect options of
 * the server's sessions, the long-lived read-only session, and the probes that are cached
 * (health, readiness, the server's connections) so that no rate of requests turns into the
 * same rate of checks on the database.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { type HealthResult, checkHealth } from '../health/check-health.js'
import { type PoolServerReport, checkServerConnections } from '../health/check-pool.js'
import { resolveThresholds } from '../health/health-thresholds.js'
import { type SharedSession, sharedOnCallSession } from '../health/shared-session.js'
import { type ReadyResult, checkReady } from '../health/wait-for-database.js'
import { cachedProbe } from './probe-cache.js'

/** The server's view of the database; see the module comment. */
export interface ServerContext {
  config: ResolvedConfig
  /** Read-mode connect options (application name `dbops/serve`, echo). */
  connect: ConnectOptions
  shared: SharedSession
  /** `dbops health`'s result, at most `cacheMs` old. */
  health(): Promise<HealthResult>
  /** A real login and `SELECT 1`, at most `cacheMs` old. */
  ready(): Promise<ReadyResult>
  /** The server's connections by state, blockers included, at most `cacheMs` old. */
  connections(): Promise<PoolServerReport>
}

/** Makes the context; `close` the shared session when done. */
export function createServerContext(
  config: ResolvedConfig,
  options: { cacheMs: number; onQuery?: ConnectOptions['onQuery']; env?: Record<string, string | undefined> },
): ServerContext {
  const connect: ConnectOptions = { mode: 'read', command: 'serve', onQuery: options.onQuery }
  const shared = sharedOnCallSession(config, connect)
  const thresholds = resolveThresholds([], options.env ?? process.env)
  return {
    config,
    connect,
    shared,
    health: cachedProbe(options.cacheMs, () => checkHealth(config, { thresholds, connect })),
    ready: cachedProbe(options.cacheMs, () => checkReady(config, connect)),
    connections: cachedProbe(options.cacheMs, () => checkServerConnections(config, { connect, shared })),
  }
}
