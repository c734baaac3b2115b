/**
 * `GET /metrics` in Prometheus' text format (prom-client), read at scrape time from the same
 * core functions as the rest of the server: health's components (status, latency) and its
 * migrations component (head, applied, pending, dirty), the server's client pool (open, idle,
 * waiting, max), the database server's connections by state, and the newest backup (age,
 * size, verification). The health and connection probes are the cached ones.
 */
import type { FastifyInstance } from 'fastify'
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { listBackups } from '../backup/list-backups.js'
import type { ServerContext } from './server-context.js'

const STATUS_VALUE = { ok: 0, warn: 1, fail: 2 } as const

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && /^\d+$/.test(value) && value.length <= 15) return Number(value)
  return undefined
}

/** Registers `/metrics`; its registry is the server's own (several servers in one process do not share one). */
export function registerMetricsRoute(app: FastifyInstance, context: ServerContext): void {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'dbops_serve_' })
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] })
  const up = gauge('dbops_database_up', '1 when the database accepts a login and answers SELECT 1, else 0.')
  const healthStatus = gauge('dbops_health_status', 'Worst health status: 0 ok, 1 warn, 2 fail.')
  const componentStatus = gauge('dbops_health_component_status', 'Health component status: 0 ok, 1 warn, 2 fail.', ['component'])
  const componentLatency = gauge('dbops_health_component_latency_seconds', 'Seconds the health component took.', ['component'])
  const pool = gauge('dbops_pool_connections', "The server's own client pool: connections by state (in_use, idle, waiting).", ['state'])
  const poolMax = gauge('dbops_pool_max_connections', "The server's own client pool: its maximum size (POOL_SIZE + MAX_OVERFLOW).")
  const serverConnections = gauge('dbops_server_connections', "The database server's client sessions by state.", ['state'])
  const blocked = gauge('dbops_blocked_queries', 'Queries of this database waiting on a lock.')
  const migrations = gauge('dbops_migrations', 'Migrations by state (applied, pending, changed, missing, dirty, running).', ['state'])
  const head = gauge('dbops_migration_head_version', 'The newest applied migration version (a number such as 20250101120000).')
  const backupAge = gauge('dbops_backup_newest_age_seconds', 'Age of the newest backup in the backup directory.')
  const backupSize = gauge('dbops_backup_newest_size_bytes', 'Size of the newest backup.')
  const backupCount = gauge('dbops_backups', 'Backups in the backup directory.')

  const refresh = async () => {
    for (const g of [componentStatus, componentLatency, pool, serverConnections, migrations, head, backupAge, backupSize]) g.reset()
    const health = (await context.health()).report
    healthStatus.set(STATUS_VALUE[health.status])
    for (const component of health.components) {
      componentStatus.set({ component: component.name }, STATUS_VALUE[component.status])
      if (component.latency_ms !== null) componentLatency.set({ component: component.name }, component.latency_ms / 1000)
      if (component.name === 'migrations') {
        for (const state of ['applied', 'pending', 'changed', 'missing', 'dirty', 'running']) {
          const value = numberOf(component.details[state])
          if (value !== undefined) migrations.set({ state }, value)
        }
        const version = numberOf(component.details.head)
        if (version !== undefined) head.set(version)
      }
    }
    up.set(
      await context.ready().then(
        () => 1,
        () => 0,
      ),
    )
    const stats = context.shared.poolStats()
    if (stats) {
      pool.set({ state: 'in_use' }, stats.total - stats.idle)
      pool.set({ state: 'idle' }, stats.idle)
      pool.set({ state: 'waiting' }, stats.waiting)
      poolMax.set(stats.max)
    }
    try {
      const server = await context.connections()
      for (const { state, count } of server.by_state) serverConnections.set({ state }, count)
      blocked.set(server.blocked.length)
    } catch {
      // unreachable: dbops_database_up says so
    }
    const backups = (await listBackups(context.config)).filter((b) => b.status === 'ok')
    backupCount.set(backups.length)
    const newest = backups[0]
    if (newest) {
      backupAge.set(newest.age_seconds)
      if (newest.size_bytes !== null) backupSize.set(newest.size_bytes)
    }
  }

  app.get('/metrics', async (_request, reply) => {
    await refresh()
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
