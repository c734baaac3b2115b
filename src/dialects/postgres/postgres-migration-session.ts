/**
 * PostgreSQL migration session: the run on the pinned connection that holds the migration
 * lock (see `postgres-migration-lock.ts`). Every statement of the run goes through it, and
 * each migration gets `lock_timeout`.
 *
 * A transactional `.sql` migration is sent as one simple-protocol query,
 * `BEGIN; SET LOCAL lock_timeout …; <section>; INSERT INTO dbops_migrations …; COMMIT;`:
 * one round trip per migration, its row written inside its transaction. A failure is
 * located through the error's `position`, or else by counting the statements the server
 * completed before it.
 */
import { Kysely, PostgresDialect as KyselyPostgresDialect, sql } from '../../kysely-runtime.js'
import pg from 'pg'
import { DbopsError, ExitCode, InterruptedError, errorCodeOf, messageOf } from '../../errors.js'
import { delimitIdentifier } from '../../sql/sql-text.js'
import { lineStarts, locate } from '../../sql/text-position.js'
import { echoQueries } from '../echo-queries.js'
import {
  type InlineRowSpelling,
  type MigrationLockOptions,
  type MigrationRecords,
  type MigrationSession,
  type MigrationStep,
  MigrationStepError,
  type MigrationTableName,
  type ScriptStatement,
  type StatementRunner,
  type StepOutcome,
  queryable,
} from '../migration-port.js'
import type { PostgresConnection } from './postgres-connection.js'

/** A SQL string literal (E'' when it holds a backslash, so it reads the same under any standard_conforming_strings). */
function literal(value: string): string {
  const quoted = value.replaceAll("'", "''")
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`
}

/** The row's values as the one-round-trip script writes them: its time and duration taken by the server. */
const INLINE_ROW: InlineRowSpelling = {
  literal,
  appliedAt: 'clock_timestamp()',
  durationMs: '(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer',
}

/** A migration run on the pinned connection holding the migration lock, until `release()`. */
export class PostgresMigrationSession implements MigrationSession {
  /** Kysely over the pinned connection, for module migrations: made on first use (see {@link db}). */
  private kysely: Kysely<any> | undefined
  private readonly pinned: { query: (text: string, values: readonly unknown[]) => Promise<pg.QueryResult>; release: () => void }
  private readonly runner: StatementRunner
  private readonly records: MigrationRecords
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
    this.records = options.records
    this.lockTimeout = `${Math.max(0, Math.round(options.statementLockTimeoutMs ?? 0))}ms`
    this.pinned = {
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
    this.runner = {
      query: async (text, values) => {
        const started = performance.now()
        const result = await this.pinned.query(text, values)
        options.onQuery?.(text, performance.now() - started)
        return result.rows as Array<Record<string, unknown>>
      },
    }
  }

  /**
   * Kysely over the pinned connection, for module migrations and the run's catalog reads that
   * build queries with it; made (and Kysely loaded) on first use.
   */
  get db(): Kysely<any> {
    if (this.kysely) return this.kysely
    const pinned = this.pinned
    this.kysely = new Kysely<any>({
      dialect: new KyselyPostgresDialect({
        pool: { connect: async () => pinned as never, end: async () => undefined },
      }),
      log: echoQueries(this.options.onQuery),
    })
    return this.kysely
  }

  query(text: string, parameters: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
    return this.runner.query(text, parameters)
  }

  async createTable(table: MigrationTableName & { ddl: string }): Promise<void> {
    try {
      const schemaFound = await this.client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [table.schema])
      if (schemaFound.rowCount === 0) await this.exec(`CREATE SCHEMA IF NOT EXISTS ${delimitIdentifier(table.schema)}`)
      await this.exec(table.ddl)
    } catch (err) {
      const denied = errorCodeOf(err) === '42501'
      throw new DbopsError(
        denied ? 'MIGRATION_TABLE_DENIED' : 'MIGRATION_TABLE_FAILED',
        denied ? ExitCode.access : ExitCode.failed,
        `Cannot create ${table.schema}.${table.name}: ${messageOf(err)}`,
        {
          hint: denied
            ? `Grant the user CREATE on schema ${table.schema} (and on the database, if the schema does not exist yet), or create the table once as its owner.`
            : undefined,
          cause: err,
        },
      )
    }
  }

  async transaction(work: () => Promise<void>): Promise<void> {
    await this.exec('BEGIN')
    try {
      await work()
      await this.exec('COMMIT')
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined)
      throw err
    }
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
    const prefix = `BEGIN;\nSET LOCAL lock_timeout = '${this.lockTimeout}';\n`
    const text = `${prefix}${section.sql}\n;\n${this.records.doneStatement(step, INLINE_ROW)};\nCOMMIT;`
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
        await this.records.markDone(queryable(trx), step, performance.now() - started)
      })
    } catch (err) {
      throw this.stepError(err, { dirty: false })
    }
  }

  /** transaction:false: `started` first, one statement per query, then `applied` (or the row deleted). */
  private async runOutsideTransaction(step: MigrationStep): Promise<void> {
    const started = performance.now()
    await this.exec(`SET lock_timeout = '${this.lockTimeout}'`)
    await this.records.markStarted(this, step)
    if (step.body.kind === 'sql') {
      for (const statement of step.body.section.statements) {
        if (this.cancelRequested)
          throw this.stepError(new InterruptedError('SIGINT'), {
            line: statement.line,
            column: statement.column,
            dirty: true,
          })
        try {
          await this.exec(statement.text)
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
    await this.records.markDone(this, step, performance.now() - started)
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

  private statementLocation(statement: ScriptStatement, err: unknown): { line: number; column: number } {
    const position = Number((err as { position?: string }).position)
    if (!Number.isFinite(position) || position < 1) return { line: statement.line, column: statement.column }
    const where = locate(lineStarts(statement.text), position - 1)
    return {
      line: statement.line + where.line - 1,
      column: where.line === 1 ? statement.column + where.column - 1 : where.column,
    }
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

  private async exec(text: string): Promise<void> {
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
      // the server's SQLSTATE; not a Node error code (EPERM) from a module's own failure
      sqlstate: err instanceof pg.DatabaseError ? code : undefined,
      cancelled: this.cancelRequested && (code === '57014' || err instanceof InterruptedError),
      lockTimeout: code === '55P03',
      cause: err,
    })
  }
}
