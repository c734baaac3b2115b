/**
 * PostgreSQL backups with `pg_dump --format=custom` writing straight into the file, and their
 * verification with a matching `pg_restore` (restores: `postgres-restore.ts`).
 *
 * Consistency: dbops opens a `REPEATABLE READ` transaction, exports its snapshot
 * (`pg_export_snapshot()`), reads the migration head in it, and runs `pg_dump --snapshot`, so
 * the head in the manifest and the dump are the same instant. The same pinned connection holds
 * the backup's advisory lock ({@link BACKUP_LOCK_KEY}), which the server drops if dbops dies.
 */
import fs from 'node:fs'
import { Kysely, PostgresDialect as KyselyPostgresDialect } from '../../kysely-runtime.js'
import type pg from 'pg'
import type { PostgresTarget } from '../../config/database-url.js'
import { DbopsError, ExitCode, LockTimeoutError, UsageError, messageOf } from '../../errors.js'
import { delimitIdentifier } from '../../sql/sql-text.js'
import type {
  BackupLock,
  BackupLockOptions,
  BackupOutcome,
  BackupRequest,
  BackupSource,
  PrepareBackupOptions,
  VerifyBackupOutcome,
  VerifyBackupRequest,
  VerifyCheck,
} from '../backup-port.js'
import type { ConnectOptions, ConnectionScope } from '../dialect.js'
import { echoQueries } from '../echo-queries.js'
import { sleep } from '../retry-within-deadline.js'
import { type PgTool, findPgTool, majorOf } from './find-pg-tool.js'
import { type PgToolConnection, runPgTool } from './pg-child-process.js'
import { applicationName } from './postgres-connect.js'
import type { PostgresConnection } from './postgres-connection.js'
import { readPostgresIdentity } from './postgres-identity.js'

/**
 * The advisory lock of backups, in the two-int4 form `pg_try_advisory_lock(classid, objid)`:
 * 0x64626f70 ('dbop') and 0x626b7570 ('bkup'). Advisory locks are per database, so this means
 * "a dbops backup of this database is running"; the two-key space never meets the one-bigint
 * keys (the migration lock's), so the two never block each other.
 */
export const BACKUP_LOCK_KEY = [0x64626f70, 0x626b7570] as const

/** How often a waiter for the lock tries again. */
const LOCK_POLL_MS = 250

/** A prepared PostgreSQL source: the pool, one pinned client, the chosen `pg_dump` and how it connects. */
interface PostgresBackupSource extends BackupSource {
  readonly conn: PostgresConnection
  readonly client: pg.PoolClient
  readonly pgDump: PgTool
  readonly pgDumpConnection: PgToolConnection
  readonly onQuery: ConnectOptions['onQuery']
}

/** A libpq conninfo naming only the database, so `--dbname` never carries a password. */
export function dbnameConninfo(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}

/**
 * How a client tool connects to `target` for `scope`'s command: the application name of the
 * command's own sessions (`command` overrides it) and the connect deadline.
 */
export function toolConnection(scope: ConnectionScope, target: PostgresTarget, command = scope.options.command): PgToolConnection {
  return { target, applicationName: applicationName(command), connectTimeoutSeconds: scope.connectTimeoutSeconds }
}

/**
 * Kysely over one pinned client (its transaction included), echoing to `onQuery` like the
 * connection's own; `release` is the caller's business.
 */
export function kyselyOverClient(client: pg.PoolClient, onQuery: ConnectOptions['onQuery']): Kysely<any> {
  const pinned = { query: client.query.bind(client), release: () => undefined }
  return new Kysely<any>({
    dialect: new KyselyPostgresDialect({
      pool: { connect: async () => pinned as any, end: async () => undefined },
    }),
    log: echoQueries(onQuery),
  })
}

/**
 * Pins one client of the source's connection `conn`, finds a `pg_dump` whose major version is
 * at least the server's, and reads the source's identity.
 */
export async function preparePostgresBackup(
  conn: PostgresConnection,
  scope: ConnectionScope,
  options: PrepareBackupOptions,
): Promise<BackupSource> {
  const target = conn.target as PostgresTarget
  const pgDump = await findPgTool('pg_dump', {
    minMajor: majorOf(conn.serverVersion),
    env: scope.toolEnv(),
  })
  options.onNote?.(`pg_dump ${pgDump.version} (${pgDump.path}) for server ${conn.serverVersion}`)
  const client = await conn.pool.connect()
  try {
    const identity = await readPostgresIdentity((text) => client.query(text).then((r) => r.rows), target)
    const source: PostgresBackupSource = {
      serverVersion: conn.serverVersion,
      tool: 'pg_dump',
      toolVersion: pgDump.version,
      identity,
      sizeBytes: undefined,
      conn,
      client,
      pgDump,
      pgDumpConnection: toolConnection(scope, target),
      onQuery: scope.options.onQuery,
      acquireLock: (lockOptions) => acquireAdvisoryBackupLock(client, target, lockOptions),
      async close() {
        client.release()
      },
    }
    return source
  } catch (err) {
    client.release()
    throw err
  }
}

/** Takes {@link BACKUP_LOCK_KEY} on `client`, polling until the timeout; exit 5 naming the holder. */
async function acquireAdvisoryBackupLock(client: pg.PoolClient, target: PostgresTarget, options: BackupLockOptions): Promise<BackupLock> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...BACKUP_LOCK_KEY])
    if (rows[0]?.ok) break
    if (Date.now() >= deadline) {
      const holder = await client
        .query<{ pid: number; application_name: string; backend_start: Date }>(
          `SELECT a.pid, a.application_name, a.backend_start
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [...BACKUP_LOCK_KEY],
        )
        .then((r) => r.rows[0])
        .catch(() => undefined)
      const who = holder
        ? ` (server pid ${holder.pid}, ${holder.application_name || 'no application name'}, connected ${holder.backend_start.toISOString()})`
        : ''
      throw new LockTimeoutError(`Another backup of database "${target.database}" is running${who}`, {
        hint: 'Wait for it to finish and retry, or raise --lock-timeout.',
      })
    }
    await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - Date.now())), options.signal)
  }
  let released = false
  return {
    async release() {
      if (released) return
      released = true
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...BACKUP_LOCK_KEY]).catch(() => undefined)
    },
  }
}

/**
 * Dumps the database with `pg_dump --format=custom --snapshot` into `request.tempPath` (which
 * the caller created, owner-only), hashing the stream on the way.
 */
export async function createPostgresBackup(request: BackupRequest): Promise<BackupOutcome> {
  const source = request.source as PostgresBackupSource
  const client = source.client
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id
    const db = kyselyOverClient(client, source.onQuery)
    const migrationHead = await request.readMigrationHead(db)
    request.onNote?.(`snapshot ${snapshot}, migration head ${migrationHead ?? 'none'}`)
    // pg_dump writes straight into the file (its stdout is the file): no copy through this
    // process, so memory stays flat; the caller hashes the archive (compressed, so quickly)
    const fd = fs.openSync(request.tempPath, 'r+')
    const progress = setInterval(() => request.onProgress?.(fs.fstatSync(fd).size, 0), 500)
    try {
      await runPgTool(source.pgDump.path, ['--format=custom', '--no-password', `--snapshot=${snapshot}`], {
        connection: source.pgDumpConnection,
        stdoutFd: fd,
        signal: request.signal,
      })
    } finally {
      clearInterval(progress)
      fs.closeSync(fd)
    }
    return {
      serverVersion: source.serverVersion,
      toolVersion: source.pgDump.version,
      migrationHead,
      restarts: 0,
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
  }
}

/** Finds a `pg_restore` able to read an archive of `pg_dump` `toolVersion` (and to talk to `serverMajor`). */
export async function findPgRestore(
  scope: ConnectionScope,
  toolVersion: string | undefined,
  serverMajor: number | undefined,
): Promise<PgTool> {
  const archiveMajor = toolVersion === undefined ? undefined : majorOf(toolVersion)
  const wanted = [archiveMajor, serverMajor].filter((m): m is number => m !== undefined)
  return findPgTool('pg_restore', {
    minMajor: wanted.length > 0 ? Math.max(...wanted) : undefined,
    env: scope.toolEnv(),
  })
}

/** Drops a database, ending its sessions first (`WITH (FORCE)` from PostgreSQL 13). */
export async function dropDatabase(conn: PostgresConnection, name: string): Promise<void> {
  const force = (majorOf(conn.serverVersion) ?? 0) >= 13 ? ' WITH (FORCE)' : ''
  if (!force)
    await conn.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
  await conn.pool.query(`DROP DATABASE IF EXISTS ${delimitIdentifier(name)}${force}`)
}

/** Row counts of every table outside the system schemas, keyed `schema.table`. */
async function countRows(conn: PostgresConnection): Promise<Record<string, number>> {
  const { rows } = await conn.pool.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  )
  const counts: Record<string, number> = {}
  for (const { schema, name } of rows) {
    const result = await conn.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${delimitIdentifier(schema)}.${delimitIdentifier(name)}`)
    counts[`${schema}.${name}`] = Number(result.rows[0]!.n)
  }
  return counts
}

/**
 * Checks an archive: `pg_restore` of the whole archive to nowhere (read), then into a scratch
 * database on the configured server, with row counts (restore). The scratch database is
 * dropped whatever happens.
 */
export async function verifyPostgresBackup(scope: ConnectionScope, request: VerifyBackupRequest): Promise<VerifyBackupOutcome> {
  const pgRestore = await findPgRestore(scope, request.toolVersion, undefined)
  request.onNote?.(`pg_restore ${pgRestore.version} (${pgRestore.path})`)
  const checks: VerifyCheck[] = []
  try {
    // connects nowhere: no connection settings, no password
    await runPgTool(pgRestore.path, ['--file=/dev/null', request.file], { signal: request.signal })
    checks.push({ name: 'pg_restore_read', ok: true, detail: 'pg_restore read the whole archive' })
  } catch (err) {
    if (request.signal?.aborted) throw err
    checks.push({
      name: 'pg_restore_read',
      ok: false,
      detail: err instanceof DbopsError ? err.message : messageOf(err),
    })
    return { checks }
  }
  if (request.level === 'read') return { checks }

  if (scope.target.dialect !== 'postgres') {
    throw new UsageError('Restore-level verification of a PostgreSQL backup needs a PostgreSQL server for its scratch database', {
      code: 'VERIFY_NEEDS_SERVER',
      hint: 'Pass --url (or --db) naming a PostgreSQL server where dbops may create a database.',
    })
  }
  const admin = (await scope.connect()) as PostgresConnection
  const scratchName = `dbops_verify_${Date.now().toString(36)}_${process.pid}`
  try {
    await admin.pool.query(`CREATE DATABASE ${delimitIdentifier(scratchName)} TEMPLATE template0`)
    const scratchTarget: PostgresTarget = {
      ...(admin.target as PostgresTarget),
      database: scratchName,
    }
    try {
      await runPgTool(
        pgRestore.path,
        ['--exit-on-error', '--no-password', '--no-owner', '--no-privileges', `--dbname=${dbnameConninfo(scratchName)}`, request.file],
        {
          connection: toolConnection(scope, scratchTarget),
          signal: request.signal,
        },
      )
    } catch (err) {
      if (request.signal?.aborted || !(err instanceof DbopsError) || err.exitCode !== ExitCode.failed) throw err
      checks.push({ name: 'restore', ok: false, detail: err.message })
      return { checks }
    }
    const scratch = (await scope.connect(scratchTarget)) as PostgresConnection
    let rowCounts: Record<string, number>
    try {
      rowCounts = await countRows(scratch)
    } finally {
      await scratch.close()
    }
    const rows = Object.values(rowCounts).reduce((a, b) => a + b, 0)
    checks.push({
      name: 'restore',
      ok: true,
      detail: `restored into a scratch database: ${Object.keys(rowCounts).length} tables, ${rows} rows`,
    })
    return { checks, rowCounts }
  } finally {
    await dropDatabase(admin, scratchName).catch(() => undefined)
    await admin.close()
  }
}
