/**
 * PostgreSQL restores with a matching `pg_restore --exit-on-error`, into a new database or
 * over an existing one.
 *
 * Over an existing database the restore runs in one transaction (`--clean --if-exists
 * --single-transaction`). A session that keeps a transaction open on a table would hold the
 * restore's `DROP TABLE`, and every application query queued behind it, without bound; and
 * `lock_timeout` cannot bound it, because `pg_restore` itself runs `SET lock_timeout = 0`
 * first. So dbops watches the restore's session from its own connection: once it has waited
 * for a lock longer than the timeout, dbops notes who blocks it (`pg_blocking_pids`) and
 * cancels it; the restore rolls back and the error names the holder (exit 5). `--clean` drops
 * only what the archive holds: tables created after the backup stay, and the outcome lists them.
 */
import type { PostgresTarget } from '../../config/database-url.js'
import { redact } from '../../config/redact.js'
import { DbopsError, ExitCode, LockTimeoutError } from '../../errors.js'
import { delimitIdentifier } from '../../sql/sql-text.js'
import { sleep } from '../retry-within-deadline.js'
import type { RestoreOutcome, RestoreRequest } from '../backup-port.js'
import type { ConnectionScope } from '../dialect.js'
import { majorOf } from './find-pg-tool.js'
import { runPgTool } from './pg-child-process.js'
import { dbnameConninfo, dropDatabase, findPgRestore, toolConnection } from './postgres-backup.js'
import { CLUSTER_DATABASES, connectToCluster } from './postgres-connect.js'
import type { PostgresConnection } from './postgres-connection.js'
import { readPostgresIdentity } from './postgres-identity.js'

/** `_restored_20250101_030000`: what a default restore target adds to the name (63 bytes at most in all). */
const RESTORED_SUFFIX_LENGTH = '_restored_'.length + 15

/** Sessions named in a lock-timeout error; the rest are counted. */
const HOLDERS_NAMED = 2

/** How often the restore's session is checked for a lock wait. */
const WATCH_MS = 150

/**
 * Restores an archive with `pg_restore --exit-on-error`. A missing target database is created
 * (`TEMPLATE template0`) and dropped again if the restore fails; an existing one goes through
 * `beforeReplace`, then `--clean --if-exists --single-transaction`, so it ends up restored or
 * untouched. Default target: a new database `<name>_restored_<stamp>` on the server of `scope`.
 * A lock wait longer than `request.lockTimeoutMs` exits 5 naming the session that holds it.
 */
export async function restorePostgresBackup(scope: ConnectionScope, request: RestoreRequest): Promise<RestoreOutcome> {
  const configured = scope.target
  if (configured.dialect !== 'postgres') throw new TypeError('restorePostgresBackup needs a PostgreSQL configuration')
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)
  const target: PostgresTarget =
    request.target?.dialect === 'postgres'
      ? request.target
      : {
          ...configured,
          database: `${configured.database.slice(0, 63 - RESTORED_SUFFIX_LENGTH)}_restored_${stamp}`,
        }
  if (request.target !== undefined && request.target.dialect !== 'postgres')
    throw new TypeError('a PostgreSQL backup restores into a PostgreSQL target')
  const admin = await connectToCluster(scope, target, CLUSTER_DATABASES)
  let created = false
  let replaced = false
  let tablesBefore: Map<string, string> | undefined
  try {
    const pgRestore = await findPgRestore(scope, request.toolVersion, majorOf(admin.serverVersion))
    request.onNote?.(`pg_restore ${pgRestore.version} (${pgRestore.path})`)
    const exists = (await admin.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database])).rowCount! > 0
    if (!exists) {
      await admin.pool.query(`CREATE DATABASE ${delimitIdentifier(target.database)} TEMPLATE template0`)
      created = true
    } else {
      let identity: string | undefined
      await usingTarget(scope, target, async (existing) => {
        replaced = await hasUserObjects(existing)
        if (!replaced) return
        identity = await readPostgresIdentity((text) => existing.pool.query(text).then((r) => r.rows), target)
        tablesBefore = await tablesByOid(existing)
      })
      if (identity !== undefined) await request.beforeReplace?.(target, identity)
    }
    const args = ['--exit-on-error', '--no-password', `--dbname=${dbnameConninfo(target.database)}`]
    if (request.noOwner) args.push('--no-owner')
    if (exists) args.push('--clean', '--if-exists', '--single-transaction')
    // a name of its own, so the watch finds this restore's session and no other
    const connection = toolConnection(scope, target, `${scope.options.command} ${process.pid}`)
    const watch = new AbortController()
    const lockWait = watchLockWaits(admin, target.database, connection.applicationName, request.lockTimeoutMs, watch.signal)
    try {
      await runPgTool(pgRestore.path, [...args, request.file], {
        connection,
        signal: request.signal,
      })
    } catch (err) {
      watch.abort()
      const waited = await lockWait
      // a database we created and could not fill is removed: nothing half-restored stays behind
      if (created) await dropDatabase(admin, target.database).catch(() => undefined)
      if (waited) throw lockTimeoutError(target, waited, request.lockTimeoutMs, err)
      if (err instanceof DbopsError && err.code === 'PG_RESTORE_FAILED') {
        throw new DbopsError('RESTORE_FAILED', ExitCode.failed, `Restoring into database "${target.database}" failed: ${err.message}`, {
          hint: exists
            ? 'The restore ran in one transaction and was rolled back: the database is as it was.'
            : 'The new database was dropped again.',
          cause: err,
        })
      }
      throw err
    } finally {
      watch.abort()
      await lockWait
    }
    let tablesNotInBackup: string[] = []
    const before = tablesBefore
    if (before) {
      await usingTarget(scope, target, async (restored) => {
        // the restore dropped and re-created every table it holds: a table with its old oid was not in the backup
        tablesNotInBackup = [...(await tablesByOid(restored))].filter(([oid, name]) => before.get(oid) === name).map(([, name]) => name)
      })
    }
    return { target, created, replaced, tablesNotInBackup }
  } finally {
    await admin.close()
  }
}

/** Runs `use` on a connection to `target`, closed afterwards. */
async function usingTarget(
  scope: ConnectionScope,
  target: PostgresTarget,
  use: (conn: PostgresConnection) => Promise<void>,
): Promise<void> {
  const conn = (await scope.connect(target)) as PostgresConnection
  try {
    await use(conn)
  } finally {
    await conn.close()
  }
}

/** Whether the database holds any relation of its own (tables, views, sequences …). */
async function hasUserObjects(conn: PostgresConnection): Promise<boolean> {
  const { rows } = await conn.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  )
  return Number(rows[0]!.n) > 0
}

/** The user tables by oid, named `schema.table` (quoted where needed), in name order. */
async function tablesByOid(conn: PostgresConnection): Promise<Map<string, string>> {
  const { rows } = await conn.pool.query<{ oid: string; name: string }>(
    `SELECT c.oid::text AS oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY n.nspname, c.relname`,
  )
  return new Map(rows.map((r) => [r.oid, r.name]))
}

/** A session holding a lock the restore waited for. */
interface LockHolder {
  pid: number
  application_name: string | null
  backend_type: string | null
  usename: string | null
  state: string | null
  state_seconds: number | null
  query: string | null
}

/** A lock wait that outlasted the timeout: the statement that waited and who held the lock. */
export interface LockWait {
  statement: string
  holders: LockHolder[]
}

/**
 * Watches the session named `applicationName` on `database` until `stop`: when one statement
 * of it has waited for a lock for `timeoutMs`, reads who blocks it, cancels the statement
 * (`pg_cancel_backend`) and resolves with both; resolves undefined when stopped first. Never
 * rejects: a failing watch query only ends the watch.
 */
async function watchLockWaits(
  admin: PostgresConnection,
  database: string,
  applicationName: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<LockWait | undefined> {
  let waiting: { key: string; since: number } | undefined
  try {
    while (!stop.aborted) {
      const { rows } = await admin.pool.query<{ pid: number; query: string; blockers: number[] }>(
        `SELECT pid, query, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
          WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock'`,
        [database, applicationName],
      )
      const row = rows.find((r) => r.blockers.length > 0)
      if (!row) waiting = undefined
      else {
        const key = `${row.pid} ${row.query}`
        if (waiting?.key !== key) waiting = { key, since: Date.now() }
        else if (Date.now() - waiting.since >= timeoutMs) {
          const holders = await admin.pool.query<LockHolder>(
            `SELECT pid, application_name, backend_type, usename, state,
                    floor(extract(epoch FROM now() - coalesce(state_change, xact_start)))::int AS state_seconds,
                    left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query
               FROM pg_stat_activity WHERE pid = ANY($1::int[]) ORDER BY xact_start NULLS LAST, pid`,
            [row.blockers],
          )
          await admin.pool.query('SELECT pg_cancel_backend($1)', [row.pid])
          return { statement: row.query, holders: holders.rows }
        }
      }
      await sleep(WATCH_MS, stop).catch(() => undefined)
    }
  } catch {
    // the watch is best effort: the restore goes on, unwatched
  }
  return undefined
}

/**
 * The relation a statement of the restore names (`DROP TABLE IF EXISTS public.users;` →
 * `public.users`); undefined when it names none.
 */
export function relationOfStatement(statement: string): string | undefined {
  const name = '((?:"(?:[^"]|"")+"|[\\w$]+)(?:\\.(?:"(?:[^"]|"")+"|[\\w$]+))?)'
  // `CREATE INDEX i ON t`: the table is what is locked
  const on = new RegExp(`\\bON (?:ONLY |TABLE |VIEW |SEQUENCE )?${name}`, 'i').exec(statement)
  return (on ?? new RegExp(`\\b(?:TABLE|VIEW|SEQUENCE|INDEX)(?: IF EXISTS)?(?: ONLY)? ${name}`, 'i').exec(statement))?.[1]
}

/**
 * The lock wait as the operator needs it: which relation, who holds it (pid, application,
 * user, state and for how long, the start of its last query), and that nothing changed.
 */
function lockTimeoutError(target: PostgresTarget, wait: LockWait, timeoutMs: number, cause: unknown): LockTimeoutError {
  const relation = relationOfStatement(wait.statement)
  const named = wait.holders.slice(0, HOLDERS_NAMED).map(describeHolder)
  const more = wait.holders.length > HOLDERS_NAMED ? ` and ${wait.holders.length - HOLDERS_NAMED} more` : ''
  const who = named.length > 0 ? `held by ${named.join(', ')}${more}` : 'held by another session (gone by now)'
  const first = wait.holders[0]
  return new LockTimeoutError(
    `Restoring into database "${target.database}" gave up waiting for a lock on ${relation ?? 'a table'} after ${formatSeconds(timeoutMs)} (--lock-timeout): ${who}`,
    {
      hint:
        'The restore ran in one transaction and was rolled back: the database is as it was. ' +
        (first ? `End that session (SELECT pg_terminate_backend(${first.pid})) or let its transaction finish, then retry` : 'Retry') +
        '; --lock-timeout S waits longer.',
      cause,
    },
  )
}

function describeHolder(h: LockHolder): string {
  const app = h.application_name || h.backend_type || 'no application name'
  const state = h.state ? `, ${h.state}${h.state_seconds === null ? '' : ` for ${h.state_seconds} s`}` : ''
  const query = h.query && !h.query.startsWith('<insufficient') ? `: ${redact(h.query)}` : ''
  return `server pid ${h.pid} (${app}${h.usename ? `, user ${h.usename}` : ''}${state}${query})`
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}
