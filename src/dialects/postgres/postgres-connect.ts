/**
 * Connecting to PostgreSQL through pg's pool. The pool gets `max = POOL_SIZE + MAX_OVERFLOW`,
 * the recycle time as its maximum connection lifetime, `application_name = dbops/<command>`,
 * TLS with libpq's meaning, and a connect timeout taken from the connect deadline (pg's own
 * default is to wait forever).
 */
import fs from 'node:fs'
import { Kysely, PostgresDialect as KyselyPostgresDialect } from '../../kysely-runtime.js'
import pg from 'pg'
import type { PostgresTarget, TlsSettings } from '../../config/database-url.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { ConfigError, DbopsError, InterruptedError, messageOf } from '../../errors.js'
import type { ConnectOptions, ConnectionScope, Dialect } from '../dialect.js'
import { echoQueries } from '../echo-queries.js'
import { retryWithinDeadline } from '../retry-within-deadline.js'
import type { PostgresConnection } from './postgres-connection.js'
import { explainConnectError, isTransientConnectError, mapConnectError } from './postgres-errors.js'

/**
 * The `application_name` of every session dbops opens for `command`, its client tools' included:
 * `dbops/<command>`, cut to the 63 bytes the server keeps.
 *
 * @example applicationName('backup create') // 'dbops/backup create'
 */
export function applicationName(command: string): string {
  return `dbops/${command}`.slice(0, 63)
}

/**
 * pg's client, keeping the `server_version` the server reports at login (a ParameterStatus
 * message, as libpq's `PQserverVersion` reads it), so no query has to ask for it.
 */
class ReportingClient extends pg.Client {
  reportedVersion: string | undefined
  constructor(config?: pg.ClientConfig) {
    super(config)
    const connection = (this as unknown as { connection: { on(event: string, listener: (msg: ParameterStatus) => void): void } }).connection
    connection.on('parameterStatus', (msg) => {
      if (msg.parameterName === 'server_version') this.reportedVersion = msg.parameterValue
    })
  }
}

interface ParameterStatus {
  parameterName: string
  parameterValue: string
}

/** pg's `ssl` option for a libpq `sslmode`; undefined means "no TLS". */
function tlsOptions(tls: TlsSettings, attempt: 'first' | 'fallback'): pg.ConnectionConfig['ssl'] {
  const mode = tls.mode
  // prefer: TLS first, plain on fallback; allow: plain first, TLS on fallback (libpq's order).
  if (mode === 'disable') return false
  if (mode === 'prefer' && attempt === 'fallback') return false
  if (mode === 'allow' && attempt === 'first') return false
  const readFile = (file: string | undefined, what: string) => {
    if (file === undefined || file === 'system') return undefined
    try {
      return fs.readFileSync(file, 'utf8')
    } catch (err) {
      throw new ConfigError(`Cannot read the TLS ${what} ${file}: ${messageOf(err)}`, { code: 'CONFIG_TLS_FILE' })
    }
  }
  const ca = readFile(tls.rootCert, 'root certificate (sslrootcert)')
  const cert = readFile(tls.cert, 'client certificate (sslcert)')
  const key = readFile(tls.key, 'client key (sslkey)')
  // libpq: `require` with a root certificate behaves as verify-ca.
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && ca !== undefined)
  const options: pg.ConnectionConfig['ssl'] = { rejectUnauthorized: verifyChain, ca, cert, key }
  if (verifyChain && mode !== 'verify-full') options.checkServerIdentity = () => undefined
  return options
}

/** Whether a failed first attempt should be retried with the other TLS choice. */
function shouldFallBack(tls: TlsSettings, err: unknown): boolean {
  const message = messageOf(err)
  if (tls.mode === 'prefer') return /does not support SSL/i.test(message)
  if (tls.mode === 'allow') return /no encryption|SSL off/i.test(message)
  return false
}

/**
 * Opens a pool on `target` as a connection of `dialect` and proves it with one real login
 * (kept idle in the pool), retrying transient failures within the connect deadline.
 */
export async function connectPostgres(
  dialect: Dialect,
  config: ResolvedConfig,
  target: PostgresTarget,
  options: ConnectOptions,
): Promise<PostgresConnection> {
  const deadlineMs = options.deadlineMs ?? config.connectTimeoutSeconds * 1000
  const started = performance.now()
  const sessionOptions = Object.entries(options.sessionSettings ?? {})
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ')
  const overSocket = target.host.startsWith('/')
  const poolConfig: pg.PoolConfig = {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    application_name: applicationName(options.command),
    // libpq never negotiates TLS over a Unix socket, whatever sslmode says; neither do we
    ssl: overSocket ? false : tlsOptions(target.tls, 'first'),
    max: config.pool.size + config.pool.maxOverflow,
    idleTimeoutMillis: 10_000,
    maxLifetimeSeconds: config.pool.recycleSeconds,
    connectionTimeoutMillis: deadlineMs,
    options: sessionOptions === '' ? undefined : sessionOptions,
    Client: ReportingClient,
  }
  const pool = new pg.Pool(poolConfig)
  // An idle client's error (server restart) must not crash the process; the next query fails.
  pool.on('error', () => undefined)
  // pg-pool reads its options on each new client: the deadline shrinks as attempts pass.
  const liveOptions = (pool as unknown as { options: pg.PoolConfig }).options
  let fellBack = false
  try {
    const client = await retryWithinDeadline(
      {
        deadlineMs,
        maxRetries: options.maxRetries ?? config.maxRetries,
        isRetryable: isTransientConnectError,
        signal: options.signal,
        onRetry: (attempt, err, delay) => options.onRetry?.(attempt, mapConnectError(err, target, deadlineMs).message, delay),
        initialDelayMs: 100,
      },
      async (remainingMs) => {
        const attemptStarted = Date.now()
        liveOptions.connectionTimeoutMillis = remainingMs
        try {
          return await pool.connect()
        } catch (err) {
          if (fellBack || overSocket || !shouldFallBack(target.tls, err)) throw err
          // libpq's prefer/allow: one more try with the other TLS choice, part of this attempt
          fellBack = true
          liveOptions.ssl = tlsOptions(target.tls, 'fallback')
          liveOptions.connectionTimeoutMillis = Math.max(1, remainingMs - (Date.now() - attemptStarted))
          return await pool.connect()
        }
      },
    )
    liveOptions.connectionTimeoutMillis = Math.max(1000, Math.min(deadlineMs, config.pool.timeoutSeconds * 1000))
    let serverVersion: string
    try {
      const reported = (client as unknown as ReportingClient).reportedVersion
      const version = reported ?? (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version
      serverVersion = version?.split(' ')[0] ?? 'unknown'
    } finally {
      client.release()
    }
    let db: Kysely<any> | undefined
    let closed = false
    return {
      dialect,
      target,
      get db() {
        return (db ??= new Kysely<any>({ dialect: new KyselyPostgresDialect({ pool }), log: echoQueries(options.onQuery) }))
      },
      pool,
      async query(text, parameters) {
        const started = performance.now()
        const result = await pool.query(text, [...parameters])
        options.onQuery?.(text, performance.now() - started)
        return result.rows as Array<Record<string, unknown>>
      },
      serverVersion,
      connectMs: performance.now() - started,
      poolStats: () => ({ max: poolConfig.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      async close() {
        if (closed) return
        closed = true
        await db?.destroy()
        // Kysely ends the pool only if a query initialised its driver; the login above
        // left an idle client in it either way, which would keep the process alive.
        if (!pool.ended) await pool.end()
      },
    }
  } catch (err) {
    // interrupted: leave a hung attempt behind rather than wait for it to time out
    if (err instanceof InterruptedError) {
      void pool.end().catch(() => undefined)
      throw err
    }
    await pool.end().catch(() => undefined)
    throw await explainConnectError(err, target, deadlineMs)
  }
}

/** Databases every cluster has (`postgres`, else `template1`), for work that needs no database of its own. */
export const CLUSTER_DATABASES = ['postgres', 'template1']

/**
 * Connects through `scope` to the first of `databases` on `target`'s server that exists: one
 * that does not (3D000) passes on to the next. When none exists, throws the first one's error.
 */
export async function connectToCluster(scope: ConnectionScope, target: PostgresTarget, databases: string[]): Promise<PostgresConnection> {
  let firstError: unknown
  for (const database of databases) {
    try {
      return (await scope.connect({ ...target, database })) as PostgresConnection
    } catch (err) {
      if (!(err instanceof DbopsError && err.code === 'DB_NOT_FOUND')) throw err
      firstError ??= err
    }
  }
  throw firstError
}
