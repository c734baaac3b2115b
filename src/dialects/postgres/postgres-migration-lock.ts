/**
 * The migration lock of a PostgreSQL schema: a session-level advisory lock on one pinned
 * connection (`pool.connect()`), taken before `dbops_migrations` is created or read and held
 * for the whole run by the session that connection then carries. Waiters poll
 * `pg_try_advisory_lock` and never block inside a transaction (a blocked waiter would
 * deadlock a `CREATE INDEX CONCURRENTLY`, which waits for every older transaction). The
 * session sets `client_connection_check_interval` where the server has it (14+), so a killed
 * dbops does not leave its backend holding the lock until the running statement ends.
 */
import type pg from 'pg'
import { describeTarget } from '../../config/database-url.js'
import { InterruptedError, LockTimeoutError } from '../../errors.js'
import { delimitIdentifier } from '../../sql/sql-text.js'
import type { LockHolder, MigrationLockOptions, MigrationSession, MigrationTableName } from '../migration-port.js'
import { sleep } from '../retry-within-deadline.js'
import type { PostgresConnection } from './postgres-connection.js'
import { PostgresMigrationSession } from './postgres-migration-session.js'

/** First key of dbops' advisory locks: 'dbop' in ASCII. */
const LOCK_CLASS = 0x64626f70

/**
 * The two-int advisory lock key of the migration lock for the history table `table` in
 * `schema`: `[0x64626f70, hash]`. In `pg_locks` it shows as `locktype = 'advisory'`,
 * `classid`, `objid` (unsigned), `objsubid = 2`. Exported so operators and tests can take or
 * find it. For `dbops_migrations` it is the key dbops has always taken for the schema, so an
 * older dbops and this one deploying at once still exclude each other.
 *
 * @example
 * const [a, b] = postgresMigrationLockKey('public') // SELECT pg_advisory_lock(a, b)
 */
export function postgresMigrationLockKey(schema: string, table = 'dbops_migrations'): [number, number] {
  let hash = 0x811c9dc5 // FNV-1a, 32 bits
  for (const byte of Buffer.from(`${table}:${schema}`, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return [LOCK_CLASS, hash | 0]
}

/** Who holds the migration lock, from pg_locks and pg_stat_activity. */
async function findHolder(
  client: pg.Pool | pg.PoolClient,
  key: [number, number],
): Promise<(LockHolder & { state: string | undefined }) | undefined> {
  const result = await client.query<{
    pid: number
    application_name: string | null
    client_addr: string | null
    backend_start: Date | null
    state: string | null
  }>(
    `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start, a.state
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.classid::bigint = $1 AND l.objid::bigint = $2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      LIMIT 1`,
    [key[0] >>> 0, key[1] >>> 0],
  )
  const row = result.rows[0]
  if (!row) return undefined
  return {
    pid: row.pid,
    applicationName: row.application_name ?? undefined,
    clientAddress: row.client_addr ?? undefined,
    since: row.backend_start ?? undefined,
    state: row.state ?? undefined,
  }
}

/**
 * The session holding the migration lock of history table `table` right now (pid, application
 * name, client address, connected since), or undefined when none does. A read of `pg_locks`:
 * it never takes the lock nor waits for it.
 */
export async function findPostgresMigrationLockHolder(
  conn: PostgresConnection,
  table: MigrationTableName,
): Promise<LockHolder | undefined> {
  const holder = await findHolder(conn.pool, postgresMigrationLockKey(table.schema, table.name))
  return holder && { pid: holder.pid, applicationName: holder.applicationName, clientAddress: holder.clientAddress, since: holder.since }
}

/** "pid 4242 (application "dbops/migrate up", client 10.0.0.5, connected since …, active)". */
export function describeHolder(holder: (LockHolder & { state?: string | undefined }) | undefined): string {
  if (!holder) return 'by a session that has since ended or that this role may not see'
  const parts = [
    holder.applicationName ? `application "${holder.applicationName}"` : undefined,
    `client ${holder.clientAddress ?? 'local socket'}`,
    holder.since ? `connected since ${holder.since.toISOString()}` : undefined,
    holder.state ? `state ${holder.state}` : undefined,
  ].filter(Boolean)
  return `by pid ${holder.pid ?? '?'} (${parts.join(', ')})`
}

/**
 * Pins a connection, takes the migration lock (polling until `timeoutMs`), sets the session
 * up and returns the session. Lock timeout: {@link LockTimeoutError} (exit 5) naming the
 * holder and how to end it. Abort: {@link InterruptedError}.
 */
export async function acquirePostgresMigrationLock(conn: PostgresConnection, options: MigrationLockOptions): Promise<MigrationSession> {
  const client = await conn.pool.connect()
  client.on('error', () => undefined) // a lost connection fails the running query; it must not crash the process
  const key = postgresMigrationLockKey(options.table.schema, options.table.name)
  const started = Date.now()
  // the session's settings ride with each try (session-level, harmless before the lock is got)
  const settings: string[] = []
  // the server notices a vanished client during a long statement and rolls back, freeing the lock
  if (Number(conn.serverVersion.split('.')[0]) >= 14) settings.push(", set_config('client_connection_check_interval', '1s', false)")
  // unqualified names land in DATABASE_SCHEMA, the schema dbops introspects (as Flyway does)
  if (options.schema !== 'public') settings.push(", set_config('search_path', $3, false)")
  const tryLock = `SELECT pg_try_advisory_lock($1, $2) AS locked${settings.join('')}`
  const parameters = options.schema !== 'public' ? [...key, `${delimitIdentifier(options.schema)}, public`] : key
  try {
    let delay = 25
    let warned = false
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new InterruptedError('SIGINT')
      const got = await client.query<{ locked: boolean }>(tryLock, parameters)
      if (got.rows[0]?.locked) break
      const waited = Date.now() - started
      if (!warned) {
        warned = true
        options.onWait?.(await findHolder(client, key))
      }
      if (waited >= options.timeoutMs) {
        const holder = await findHolder(client, key)
        throw new LockTimeoutError(
          `Timed out after ${formatSeconds(options.timeoutMs)} waiting for the migration lock on ${describeTarget(conn.target)} (history ${options.table.schema}.${options.table.name}): held ${describeHolder(holder)}`,
          {
            hint:
              'Another migration run is probably still going; wait for it, or retry with a longer --lock-timeout.' +
              (holder?.pid ? ` If that session is stuck, end it with: SELECT pg_terminate_backend(${holder.pid});` : ''),
          },
        )
      }
      await sleep(Math.min(delay, options.timeoutMs - waited), options.signal)
      delay = Math.min(delay * 2, 500)
    }
  } catch (err) {
    client.release(true)
    throw err
  }
  return new PostgresMigrationSession(conn, client, key, options)
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}
