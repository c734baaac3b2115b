/**
 * PostgreSQL through pg's pool. The pool gets `max = POOL_SIZE + MAX_OVERFLOW`, the recycle
 * time as its maximum connection lifetime, `application_name = dbops/<command>`, TLS with
 * libpq's meaning, and a connect timeout taken from the connect deadline (pg's own default
 * is to wait forever).
 */
import fs from 'node:fs'
import { Kysely, PostgresDialect as KyselyPostgresDialect } from 'kysely'
import pg from 'pg'
import type { PostgresTarget, TlsSettings } from '../../config/database-url.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { ConfigError, DbopsError, messageOf } from '../../errors.js'
import type { ConnectOptions, DbConnection, Dialect } from '../dialect.js'
import { retryWithinDeadline } from '../retry-within-deadline.js'
import { createPostgresBackup, preparePostgresBackup, verifyPostgresBackup } from './postgres-backup.js'
import { readPostgresIdentity } from './postgres-identity.js'
import { restorePostgresBackup } from './postgres-restore.js'
import { explainConnectError, isTransientConnectError, mapConnectError } from './postgres-errors.js'
import { postgresTraits } from './postgres-traits.js'

/** The part of pg's pool dbops depends on. */
export interface PoolLike {
  totalCount: number
  idleCount: number
  waitingCount: number
  connect(): Promise<pg.PoolClient>
  end(): Promise<void>
}

/** A PostgreSQL connection: Kysely plus the pool, for pinned connections (advisory locks). */
export interface PostgresConnection extends DbConnection {
  readonly pool: pg.Pool
}

/** pg's `ssl` option for a libpq `sslmode`; undefined means "no TLS". */
export function tlsOptions(tls: TlsSettings, attempt: 'first' | 'fallback'): pg.ConnectionConfig['ssl'] {
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
 * Opens the pool and proves it with one real login (kept idle in the pool), retrying
 * transient failures within the connect deadline.
 */
async function connectPostgres(config: ResolvedConfig, target: PostgresTarget, options: ConnectOptions): Promise<PostgresConnection> {
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
    application_name: `dbops/${options.command}`.slice(0, 63),
    // libpq never negotiates TLS over a Unix socket, whatever sslmode says; neither do we
    ssl: overSocket ? false : tlsOptions(target.tls, 'first'),
    max: config.pool.size + config.pool.maxOverflow,
    idleTimeoutMillis: 10_000,
    maxLifetimeSeconds: config.pool.recycleSeconds,
    connectionTimeoutMillis: deadlineMs,
    options: sessionOptions === '' ? undefined : sessionOptions,
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
      const result = await client.query<{ server_version: string }>('SHOW server_version')
      serverVersion = result.rows[0]?.server_version.split(' ')[0] ?? 'unknown'
    } finally {
      client.release()
    }
    const onQuery = options.onQuery
    const db = new Kysely<any>({
      dialect: new KyselyPostgresDialect({ pool }),
      log: onQuery
        ? (event) => {
            if (event.level === 'query') onQuery(event.query.sql, event.queryDurationMillis)
          }
        : undefined,
    })
    let closed = false
    return {
      dialect: postgresDialect,
      target,
      db,
      pool,
      serverVersion,
      connectMs: performance.now() - started,
      async close() {
        if (closed) return
        closed = true
        await db.destroy()
        // Kysely ends the pool only if a query initialised its driver; the login above
        // left an idle client in it either way, which would keep the process alive.
        if (!pool.ended) await pool.end()
      },
    }
  } catch (err) {
    await pool.end().catch(() => undefined)
    throw await explainConnectError(err, target, deadlineMs)
  }
}

/**
 * Connects to `target`'s database, or, when it does not exist (3D000), to the first of
 * `fallbacks` that does on the same server.
 */
async function connectToCluster(
  config: ResolvedConfig,
  target: PostgresTarget,
  fallbacks: string[],
  options: ConnectOptions,
): Promise<PostgresConnection> {
  const missing = (err: unknown) => err instanceof DbopsError && err.code === 'DB_NOT_FOUND'
  try {
    return await connectPostgres(config, target, options)
  } catch (err) {
    if (!missing(err)) throw err
    for (const database of fallbacks) {
      const fallback = await connectPostgres(config, { ...target, database }, options).catch((e: unknown) => {
        if (!missing(e)) throw e
        return undefined
      })
      if (fallback) return fallback
    }
    throw err
  }
}

/** PostgreSQL: transactional DDL, session-level advisory locks, schemas. */
export const postgresDialect: Dialect = {
  ...postgresTraits,
  supportsTransactionalDdl: true,
  supportsAdvisoryLocks: true,
  supportsSchemas: true,

  connect(config: ResolvedConfig, options: ConnectOptions): Promise<PostgresConnection> {
    if (config.target.dialect !== 'postgres') throw new TypeError('postgresDialect.connect needs a PostgreSQL target')
    return connectPostgres(config, config.target, options)
  },

  async introspect(conn, options) {
    return (await import('./postgres-introspector.js')).introspectPostgres(conn, options)
  },
  async acquireMigrationLock(conn, options) {
    return (await import('./postgres-migration-session.js')).acquirePostgresMigrationLock(conn as PostgresConnection, options)
  },
  async migrationLockHolder(conn, options) {
    return (await import('./postgres-migration-session.js')).findPostgresMigrationLockHolder(conn as PostgresConnection, options.schema)
  },
  prepareBackup: (config, options) => preparePostgresBackup(config, options),
  createBackup: (request) => createPostgresBackup(request),
  restoreBackup: (request) => restorePostgresBackup(request),
  verifyBackup: (request) => verifyPostgresBackup(request),
  async readBackupIdentity(config, options) {
    if (config.target.dialect !== 'postgres') throw new TypeError('postgresDialect.readBackupIdentity needs a PostgreSQL target')
    const target = (options.conn?.target as PostgresTarget | undefined) ?? config.target
    // the database itself, else any database of its cluster: a dropped database's backups are still found
    const conn =
      (options.conn as PostgresConnection | undefined) ??
      (await connectToCluster(config, target, ['postgres', 'template1'], { mode: 'read', command: 'backup', signal: options.signal }))
    try {
      return await readPostgresIdentity((text) => conn.pool.query(text).then((r) => r.rows), target)
    } finally {
      if (!options.conn) await conn.close()
    }
  },
  // a host name can reach different clusters: a manifest that recorded only the address names no database for sure
  identityOfRecordedSource: () => undefined,
  async probeHealth(conn, options) {
    return (await import('./postgres-health.js')).probePostgresHealth(conn, options)
  },
  async probePool(conn) {
    return (await import('./postgres-pool.js')).probePostgresPool(conn)
  },
  async createShadowDatabase(config, options) {
    return (await import('./postgres-shadow-database.js')).openPostgresShadow(postgresDialect, config, options)
  },
}
