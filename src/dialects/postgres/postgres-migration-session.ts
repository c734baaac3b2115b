/**
 * PostgreSQL migration session: one pinned connection (`pool.connect()`) that takes a
 * session-level advisory lock before `dbops_migrations` is created or read, and runs every
 * migration of the run. Waiters poll `pg_try_advisory_lock` and never block inside a
 * transaction (a blocked waiter would deadlock a `CREATE INDEX CONCURRENTLY`, which waits
 * for every older transaction). The session sets `client_connection_check_interval` where
 * the server has it (14+), so a killed dbops does not leave its backend holding the lock
 * until the running statement ends, and gives each migration `lock_timeout`.
 *
 * A transactional `.sql` migration is sent as one simple-protocol query,
 * `BEGIN; SET LOCAL lock_timeout …; <section>; INSERT INTO dbops_migrations …; COMMIT;`:
 * one round trip per migration, its row written inside its transaction. A failure is
 * located through the error's `position`, or else by counting the statements the server
 * completed before it.
 */
import { Kysely, PostgresDialect as KyselyPostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { DbopsError, ExitCode, InterruptedError, LockTimeoutError, errorCodeOf, messageOf } from '../../errors.js'
import { describeTarget } from '../../config/database-url.js'
import {
  MigrationStepError,
  type MigrationRow,
  type MigrationSession,
  type MigrationStep,
  type RowChange,
  type StepOutcome,
} from '../../migrate/migration-session.js'
import {
  MIGRATION_TABLE,
  applyRowChanges,
  deleteMigrationRow,
  insertMigrationRow,
  readDbmateVersions,
  readMigrationRows,
  setMigrationStatus,
  tableExists,
} from '../../migrate/migration-table.js'
import type { SqlStatement } from '../../sql/split-sql.js'
import { lineStarts, locate } from '../../sql/text-position.js'
import type { LockHolder, MigrationLockOptions } from '../dialect.js'
import { sleep } from '../retry-within-deadline.js'
import type { PostgresConnection } from './postgres-connection.js'

/** First key of dbops' advisory locks: 'dbop' in ASCII. */
const LOCK_CLASS = 0x64626f70

/**
 * The two-int advisory lock key of the migration lock for `schema`: `[0x64626f70, hash]`.
 * In `pg_locks` it shows as `locktype = 'advisory'`, `classid`, `objid` (unsigned),
 * `objsubid = 2`. Exported so operators and tests can take or find it.
 *
 * @example
 * const [a, b] = postgresMigrationLockKey('public') // SELECT pg_advisory_lock(a, b)
 */
export function postgresMigrationLockKey(schema: string): [number, number] {
  let hash = 0x811c9dc5 // FNV-1a, 32 bits
  for (const byte of Buffer.from(`dbops_migrations:${schema}`, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193)
  }
  return [LOCK_CLASS, hash | 0]
}

/** A SQL string literal (E'' when it holds a backslash, so it reads the same under any standard_conforming_strings). */
function literal(value: string): string {
  const quoted = value.replaceAll("'", "''")
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
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
 * The session holding the migration lock of `schema` right now (pid, application name, client
 * address, connected since), or undefined when none does. A read of `pg_locks`: it never takes
 * the lock nor waits for it.
 */
export async function findPostgresMigrationLockHolder(conn: PostgresConnection, schema: string): Promise<LockHolder | undefined> {
  const holder = await findHolder(conn.pool, postgresMigrationLockKey(schema))
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
  const key = postgresMigrationLockKey(options.schema)
  const started = Date.now()
  try {
    let delay = 25
    let warned = false
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new InterruptedError('SIGINT')
      const got = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', key)
      if (got.rows[0]?.locked) break
      const waited = Date.now() - started
      if (!warned) {
        warned = true
        options.onWait?.(await findHolder(client, key))
      }
      if (waited >= options.timeoutMs) {
        const holder = await findHolder(client, key)
        throw new LockTimeoutError(
          `Timed out after ${formatSeconds(options.timeoutMs)} waiting for the migration lock on ${describeTarget(conn.target)} (schema ${options.schema}): held ${describeHolder(holder)}`,
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
    const major = Number(conn.serverVersion.split('.')[0])
    const setup: string[] = []
    // the server notices a vanished client during a long statement and rolls back, freeing the lock
    if (major >= 14) setup.push("SET client_connection_check_interval = '1s'")
    // unqualified names land in DATABASE_SCHEMA, the schema dbops introspects (as Flyway does)
    if (options.schema !== 'public') setup.push(`SET search_path TO ${ident(options.schema)}, public`)
    if (setup.length > 0) await client.query(setup.join('; '))
  } catch (err) {
    client.release(true)
    throw err
  }
  return new PostgresMigrationSession(conn, client, key, options)
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}

class PostgresMigrationSession implements MigrationSession {
  readonly db: Kysely<any>
  private readonly schema: string
  private readonly lockTimeout: string
  private running = false
  private cancelRequested = false
  private released = false
  /** Queries in flight through `db`, and whether a module's body is running (see whileModuleRuns). */
  private queriesInFlight = 0
  private moduleRunning = false

  constructor(
    private readonly conn: PostgresConnection,
    private readonly client: pg.PoolClient,
    private readonly key: [number, number],
    private readonly options: MigrationLockOptions,
  ) {
    this.schema = options.schema
    this.lockTimeout = `${Math.max(0, Math.round(options.statementLockTimeoutMs ?? 0))}ms`
    const pinned = {
      query: async (text: string, values: readonly unknown[]) => {
        this.queriesInFlight++
        this.socket()?.ref()
        try {
          return await client.query(text, values as unknown[])
        } finally {
          if (--this.queriesInFlight === 0 && this.moduleRunning) this.socket()?.unref()
        }
      },
      release: () => undefined,
    }
    const onQuery = options.onQuery
    this.db = new Kysely<any>({
      dialect: new KyselyPostgresDialect({
        pool: { connect: async () => pinned as never, end: async () => undefined },
      }),
      log: onQuery
        ? (event) => {
            if (event.level === 'query') onQuery(event.query.sql, event.queryDurationMillis)
          }
        : undefined,
    })
  }

  tableExists(): Promise<boolean> {
    return tableExists(this.db, 'postgres', this.schema, MIGRATION_TABLE)
  }

  async ensureTable(): Promise<void> {
    if (await this.tableExists()) return
    try {
      await this.createTable()
    } catch (err) {
      const denied = errorCodeOf(err) === '42501'
      throw new DbopsError(
        denied ? 'MIGRATION_TABLE_DENIED' : 'MIGRATION_TABLE_FAILED',
        denied ? ExitCode.access : ExitCode.failed,
        `Cannot create ${this.schema}.${MIGRATION_TABLE}: ${messageOf(err)}`,
        {
          hint: denied
            ? `Grant the user CREATE on schema ${this.schema} (and on the database, if the schema does not exist yet), or create the table once as its owner.`
            : undefined,
          cause: err,
        },
      )
    }
  }

  private async createTable(): Promise<void> {
    const schemaFound = await this.client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema])
    if (schemaFound.rowCount === 0) await this.query(`CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)}`)
    await this.query(
      `CREATE TABLE IF NOT EXISTS ${ident(this.schema)}.${MIGRATION_TABLE} (
  version text PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  status text NOT NULL DEFAULT 'applied',
  applied_at timestamptz NOT NULL DEFAULT now(),
  duration_ms integer,
  dbops_version text NOT NULL
)`,
    )
  }

  readRows(): Promise<MigrationRow[]> {
    return readMigrationRows(this.db, 'postgres', this.schema)
  }

  readDbmateVersions(): Promise<string[] | undefined> {
    return readDbmateVersions(this.db, 'postgres', this.schema)
  }

  async run(step: MigrationStep): Promise<StepOutcome> {
    const started = performance.now()
    this.running = true
    try {
      if (step.transaction) {
        if (step.body.kind === 'sql') await this.runSqlInTransaction(step)
        else await this.runFunctionInTransaction(step, step.body.run)
      } else {
        await this.runOutsideTransaction(step)
      }
    } finally {
      this.running = false
    }
    return { status: 'done', durationMs: performance.now() - started }
  }

  /** The whole migration in one simple-protocol query: one round trip, row and changes in one transaction. */
  private async runSqlInTransaction(step: MigrationStep): Promise<void> {
    if (step.body.kind !== 'sql') return
    const section = step.body.section
    const table = `${ident(this.schema)}.${MIGRATION_TABLE}`
    const prefix = `BEGIN;\nSET LOCAL lock_timeout = '${this.lockTimeout}';\n`
    const record =
      step.direction === 'up'
        ? `INSERT INTO ${table} (version, name, checksum, status, applied_at, duration_ms, dbops_version) VALUES (${literal(step.row.version)}, ${literal(step.row.name)}, ${literal(step.row.checksum)}, 'applied', clock_timestamp(), (extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, ${literal(step.row.dbopsVersion)})`
        : `DELETE FROM ${table} WHERE version = ${literal(step.row.version)}`
    const text = `${prefix}${section.sql}\n;\n${record};\nCOMMIT;`
    const outcome = await this.countingQuery(text)
    if (!outcome.error) return
    await this.client.query('ROLLBACK').catch(() => undefined)
    // locate: the error's position in our text, else the statement the server was running
    const sectionIndex = outcome.completed - 2 // BEGIN and SET LOCAL completed first
    let line: number | undefined
    let column: number | undefined
    const position = Number((outcome.error as { position?: string }).position)
    if (Number.isFinite(position) && position > prefix.length && position - 1 - prefix.length < section.sql.length) {
      const where = locate(lineStarts(section.sql), position - 1 - prefix.length)
      line = where.line + section.startLine - 1
      column = where.column
    } else if (sectionIndex >= 0 && sectionIndex < section.statements.length) {
      const statement = section.statements[sectionIndex]!
      line = statement.line
      column = statement.column
    }
    throw this.stepError(outcome.error, { line, column, dirty: false })
  }

  private async runFunctionInTransaction(step: MigrationStep, run: (db: Kysely<any>) => Promise<unknown>): Promise<void> {
    const started = performance.now()
    try {
      await this.db.transaction().execute(async (trx) => {
        await sql.raw(`SET LOCAL lock_timeout = '${this.lockTimeout}'`).execute(trx)
        await this.whileModuleRuns(() => run(trx))
        if (step.direction === 'up')
          await insertMigrationRow(trx, 'postgres', this.schema, step.row, 'applied', Math.round(performance.now() - started))
        else await deleteMigrationRow(trx, 'postgres', this.schema, step.row.version)
      })
    } catch (err) {
      throw this.stepError(err, { dirty: false })
    }
  }

  /** transaction:false: `started` first, one statement per query, then `applied` (or the row deleted). */
  private async runOutsideTransaction(step: MigrationStep): Promise<void> {
    const started = performance.now()
    await this.query(`SET lock_timeout = '${this.lockTimeout}'`)
    if (step.direction === 'up') await insertMigrationRow(this.db, 'postgres', this.schema, step.row, 'started', null)
    else await setMigrationStatus(this.db, 'postgres', this.schema, step.row.version, 'started', null)
    if (step.body.kind === 'sql') {
      for (const statement of step.body.section.statements) {
        if (this.cancelRequested)
          throw this.stepError(new InterruptedError('SIGINT'), {
            line: statement.line,
            column: statement.column,
            dirty: true,
          })
        try {
          await this.query(statement.text)
        } catch (err) {
          throw this.stepError(err, { ...this.statementLocation(statement, err), dirty: true })
        }
      }
    } else {
      const run = step.body.run
      try {
        await this.whileModuleRuns(() => run(this.db))
      } catch (err) {
        throw this.stepError(err, { dirty: true })
      }
    }
    if (step.direction === 'up')
      await setMigrationStatus(this.db, 'postgres', this.schema, step.row.version, 'applied', Math.round(performance.now() - started))
    else await deleteMigrationRow(this.db, 'postgres', this.schema, step.row.version)
  }

  /**
   * Runs a module's up()/down() with the pinned connection holding the process open only while
   * one of its queries is in flight. A body that awaits nothing then lets the event loop drain,
   * which the runner reports as a promise that never settles (guard-module-steps.ts); held
   * open, the run would hang for ever with the lock and an open transaction.
   */
  private async whileModuleRuns(run: () => Promise<unknown>): Promise<void> {
    this.moduleRunning = true
    if (this.queriesInFlight === 0) this.socket()?.unref()
    try {
      await run()
    } finally {
      this.moduleRunning = false
      this.socket()?.ref()
    }
  }

  /** The pinned connection's socket (pg keeps it as `connection.stream`). */
  private socket(): { ref(): unknown; unref(): unknown } | undefined {
    return (this.client as unknown as { connection?: { stream?: { ref(): unknown; unref(): unknown } } }).connection?.stream
  }

  private statementLocation(statement: SqlStatement, err: unknown): { line: number; column: number } {
    const position = Number((err as { position?: string }).position)
    if (!Number.isFinite(position) || position < 1) return { line: statement.line, column: statement.column }
    const where = locate(lineStarts(statement.text), position - 1)
    return {
      line: statement.line + where.line - 1,
      column: where.line === 1 ? statement.column + where.column - 1 : where.column,
    }
  }

  async changeRows(changes: RowChange[]): Promise<void> {
    await this.db.transaction().execute((trx) => applyRowChanges(trx, 'postgres', this.schema, changes))
  }

  async cancel(): Promise<void> {
    this.cancelRequested = true
    if (!this.running || this.released) return
    // cancel from another connection: the pinned one is busy with the statement
    const other = await this.conn.pool.connect().catch(() => undefined)
    if (!other) return
    try {
      await other.query('SELECT pg_cancel_backend($1)', [(this.client as unknown as { processID: number }).processID])
    } catch {
      // the statement may have ended meanwhile; the runner stops before the next one anyway
    } finally {
      other.release(true) // not back to the pool: an idle client would keep the process alive
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    try {
      await this.client.query('SELECT pg_advisory_unlock($1, $2)', this.key)
    } catch {
      // a broken connection has lost its lock with its session
    }
    // the session's settings (search_path, lock_timeout) must not leak into the pool
    this.client.release(true)
  }

  private async query(text: string): Promise<void> {
    const started = performance.now()
    await this.client.query(text)
    this.options.onQuery?.(text, performance.now() - started)
  }

  /** Runs a multi-statement query, counting the statements the server completed. */
  private countingQuery(text: string): Promise<{ error: unknown; completed: number }> {
    const started = performance.now()
    return new Promise((resolve) => {
      let completed = 0
      const query = new pg.Query(text, (err: Error | undefined) => {
        this.options.onQuery?.(text, performance.now() - started)
        resolve({ error: err, completed })
      }) as pg.Query & { handleCommandComplete: (msg: unknown, connection: unknown) => void }
      // pg calls handleCommandComplete once per statement that completed (pg's Query
      // protocol, as pg-cursor uses it); without it, failures are located by position only
      const handle = query.handleCommandComplete?.bind(query)
      if (handle) {
        query.handleCommandComplete = (msg, connection) => {
          completed++
          handle(msg, connection)
        }
      }
      this.client.query(query)
    })
  }

  private stepError(err: unknown, where: { line?: number | undefined; column?: number | undefined; dirty: boolean }): MigrationStepError {
    if (err instanceof MigrationStepError) return err
    const code = errorCodeOf(err)
    const detail = (err as { detail?: string }).detail
    const message = detail && detail.length < 200 ? `${messageOf(err)} (${detail})` : messageOf(err)
    return new MigrationStepError(message, {
      ...where,
      code,
      cancelled: this.cancelRequested && (code === '57014' || err instanceof InterruptedError),
      lockTimeout: code === '55P03',
      cause: err,
    })
  }
}
