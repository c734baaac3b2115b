/**
 * SQLite migration session: the run, once `acquireSqliteMigrationLock` holds the
 * database's migration lock (one run at a time across processes, for the whole run). Each
 * migration still runs in its own `BEGIN IMMEDIATE` transaction (SQLite's write lock, which
 * the application's writers take too), re-reading the migration's row inside it and skipping
 * a migration already applied.
 *
 * The write lock is polled (`busy_timeout` 0, short sleeps) rather than waited for inside
 * SQLite's busy handler, which would block the event loop: a signal still stops the wait,
 * the first busy attempt is reported with the writer where the OS can tell, and the wait is
 * bounded by the lock timeout. In WAL mode nothing inside a transaction that holds the write
 * lock waits for another connection, so `busy_timeout` stays 0 from one transaction to the next
 * and the configured wait returns only for what runs outside one; in the other journal modes
 * `COMMIT` waits for readers, so each transaction gets the configured wait back.
 *
 * Statements run one at a time, so a failure names its statement's line. `foreign_keys:off`
 * turns foreign keys off before the transaction (inside one the pragma does nothing), runs
 * `PRAGMA foreign_key_check` before the commit (a violation rolls back, naming the table),
 * and turns them on again after.
 */
import type { Kysely } from 'kysely'
import type { Statement } from 'better-sqlite3'
import { InterruptedError, LockTimeoutError, errorCodeOf, messageOf } from '../../errors.js'
import {
  type MigrationLockOptions,
  type MigrationRecords,
  type MigrationSession,
  type MigrationStep,
  MigrationStepError,
  type StepOutcome,
} from '../migration-port.js'
import { sleep } from '../retry-within-deadline.js'
import type { SqliteConnection, SqliteHandle } from './sqlite-connection.js'
import { describeFileUsers, findSqliteFileUsers, findSqliteWriters } from './sqlite-file-users.js'
import { type HeldLockFile, formatSeconds } from './sqlite-lock-file.js'

/** Lets pending callbacks (signal handlers) run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Thrown inside a transaction to roll it back quietly: another run did this step already. */
class AlreadyDone extends Error {}

/**
 * A migration run on one SQLite connection, holding the run's lock (see
 * `acquireSqliteMigrationLock`) until `release()`.
 */
export class SqliteMigrationSession implements MigrationSession {
  private readonly handle: SqliteHandle
  private readonly records: MigrationRecords
  private readonly file: string
  private readonly busyTimeout: number
  /** WAL mode: see the file's comment. */
  private readonly wal: boolean
  /** busy_timeout is 0 now (polling the write lock), not the configured wait. */
  private polling = false
  /** Prepared on the first BEGIN. */
  private statements: Record<'begin' | 'commit', Statement> | undefined
  /** The store's statements, prepared once each: a run of 200 migrations writes 200 rows. */
  private readonly prepared = new Map<string, Statement>()
  private cancelRequested = false
  private warned = false

  constructor(
    private readonly conn: SqliteConnection,
    private readonly options: MigrationLockOptions,
    private readonly runLock: HeldLockFile | undefined,
  ) {
    this.handle = conn.handle
    this.records = options.records
    this.file = conn.target.dialect === 'sqlite' ? conn.target.path : ''
    this.busyTimeout = Number(this.handle.pragma('busy_timeout', { simple: true }))
    this.wal = String(this.handle.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal'
  }

  /** Kysely over the session's connection (the connection's own: made on first use). */
  get db(): Kysely<any> {
    return this.conn.db
  }

  async query(sql: string, parameters: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
    if (!this.handle.inTransaction) this.restoreBusyTimeout()
    let statement = this.prepared.get(sql)
    if (!statement) this.prepared.set(sql, (statement = this.handle.prepare(sql)))
    const started = performance.now()
    let rows: Array<Record<string, unknown>> = []
    if (statement.reader) rows = statement.all(...parameters) as Array<Record<string, unknown>>
    else statement.run(...parameters)
    this.options.onQuery?.(sql, performance.now() - started)
    return rows
  }

  async createTable(table: { ddl: string }): Promise<void> {
    await this.inWriteTransaction(async () => this.exec(table.ddl))
  }

  transaction(work: () => Promise<void>): Promise<void> {
    return this.inWriteTransaction(work)
  }

  async run(step: MigrationStep): Promise<StepOutcome> {
    const started = performance.now()
    const foreignKeysOff = step.foreignKeysOff
    if (foreignKeysOff) this.handle.pragma('foreign_keys = OFF')
    try {
      if (step.transaction) await this.runInTransaction(step, started)
      else await this.runOutsideTransaction(step, started)
    } catch (err) {
      if (err instanceof AlreadyDone) return { status: 'skipped', durationMs: performance.now() - started }
      throw err
    } finally {
      if (foreignKeysOff) this.handle.pragma('foreign_keys = ON')
    }
    return { status: 'done', durationMs: performance.now() - started }
  }

  private async runInTransaction(step: MigrationStep, started: number): Promise<void> {
    await this.inWriteTransaction(async () => {
      await this.assertNotDone(step)
      await this.runBody(step, false)
      if (step.foreignKeysOff) this.checkForeignKeys(false)
      await this.records.markDone(this, step, performance.now() - started)
    })
  }

  /** transaction:false: record `started` (under the write lock, re-reading), run, then record the end. */
  private async runOutsideTransaction(step: MigrationStep, started: number): Promise<void> {
    await this.inWriteTransaction(async () => {
      await this.assertNotDone(step)
      await this.records.markStarted(this, step)
    })
    this.restoreBusyTimeout()
    await this.runBody(step, true)
    if (step.foreignKeysOff) this.checkForeignKeys(true)
    await this.inWriteTransaction(() => this.records.markDone(this, step, performance.now() - started))
  }

  /** Re-read under the write lock: another run may have done the step since this one read the rows. */
  private async assertNotDone(step: MigrationStep): Promise<void> {
    if (await this.records.isDone(this, step)) throw new AlreadyDone()
  }

  private async runBody(step: MigrationStep, dirty: boolean): Promise<void> {
    if (step.body.kind === 'function') {
      try {
        await step.body.run(this.db)
      } catch (err) {
        throw this.stepError(err, { dirty })
      }
      return
    }
    for (const statement of step.body.section.statements) {
      // a running SQLite statement cannot be interrupted: stop between statements, letting
      // the event loop run first so a signal that arrived during the last one is seen
      await yieldToEventLoop()
      if (this.cancelRequested)
        throw this.stepError(new InterruptedError('SIGINT'), {
          line: statement.line,
          column: statement.column,
          dirty,
        })
      try {
        this.exec(statement.text)
      } catch (err) {
        throw this.stepError(err, { line: statement.line, column: statement.column, dirty })
      }
    }
    await yieldToEventLoop()
    if (this.cancelRequested) throw this.stepError(new InterruptedError('SIGINT'), { dirty })
  }

  private checkForeignKeys(dirty: boolean): void {
    const violations = this.handle.pragma('foreign_key_check') as Array<{
      table: string
      rowid: number | null
      parent: string
    }>
    if (violations.length === 0) return
    const byTable = new Map<string, { count: number; parent: string }>()
    for (const v of violations) {
      const entry = byTable.get(v.table) ?? { count: 0, parent: v.parent }
      entry.count++
      byTable.set(v.table, entry)
    }
    const list = [...byTable.entries()]
      .map(([table, { count, parent }]) => `${table} (${count} row${count === 1 ? '' : 's'} referencing a missing ${parent} row)`)
      .join(', ')
    throw new MigrationStepError(`foreign_key_check failed: ${list}`, {
      dirty,
      cancelled: false,
      lockTimeout: false,
      code: 'SQLITE_CONSTRAINT_FOREIGNKEY',
    })
  }

  async cancel(): Promise<void> {
    this.cancelRequested = true
  }

  async release(): Promise<void> {
    // the connection is closed by its owner
    this.restoreBusyTimeout()
    this.runLock?.release()
  }

  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT, rolling back on any error. */
  private async inWriteTransaction(work: () => Promise<void>): Promise<void> {
    await this.beginImmediate()
    try {
      await work()
      this.statements!.commit.run()
      this.options.onQuery?.('COMMIT', 0)
    } catch (err) {
      if (this.handle.inTransaction) this.handle.exec('ROLLBACK')
      throw err
    }
  }

  /** BEGIN IMMEDIATE, polled until the lock timeout. */
  private async beginImmediate(): Promise<void> {
    const started = Date.now()
    let delay = 5
    // busy_timeout through pragma() each time: a prepared PRAGMA takes effect when prepared,
    // not when run, so a prepared "busy_timeout = 0" left the configured wait in place
    if (!this.polling) this.handle.pragma('busy_timeout = 0')
    this.polling = true
    let began = false
    // prepared once: a run of 200 migrations takes the write lock 200 times
    const statements = (this.statements ??= {
      begin: this.handle.prepare('BEGIN IMMEDIATE'),
      commit: this.handle.prepare('COMMIT'),
    })
    try {
      for (;;) {
        if (this.options.signal?.aborted) throw this.interruptedWhileWaiting()
        try {
          statements.begin.run()
          began = true
          this.options.onQuery?.('BEGIN IMMEDIATE', 0)
          return
        } catch (err) {
          if (!String(errorCodeOf(err)).startsWith('SQLITE_BUSY')) throw err
        }
        const waited = Date.now() - started
        if (!this.warned) {
          this.warned = true
          this.options.onWait?.(findSqliteWriters(this.file)[0])
        }
        if (waited >= this.options.timeoutMs) throw this.writeLockTimeout()
        await sleep(Math.min(delay, this.options.timeoutMs - waited), this.options.signal).catch(() => {
          throw this.interruptedWhileWaiting()
        })
        delay = Math.min(delay * 2, 100)
      }
    } finally {
      // the configured busy timeout again, for the transaction's own statements and COMMIT (not needed in WAL mode)
      if (!began || !this.wal) this.restoreBusyTimeout()
    }
  }

  /** The configured busy timeout, if the write lock's polling left it at 0. */
  private restoreBusyTimeout(): void {
    if (!this.polling) return
    this.handle.pragma(`busy_timeout = ${this.busyTimeout}`)
    this.polling = false
  }

  /** The write lock was not free in time: names the writer, or else the processes with the file open. */
  private writeLockTimeout(): LockTimeoutError {
    const writers = findSqliteWriters(this.file)
    const users = writers.length > 0 ? writers : findSqliteFileUsers(this.file)
    return new LockTimeoutError(
      `Timed out after ${formatSeconds(this.options.timeoutMs)} waiting for the write lock on SQLite file ${this.file}; ${writers.length > 0 ? 'held by' : 'processes with it open:'} ${describeFileUsers(users)}`,
      {
        hint:
          'Another process is writing; retry, or wait longer with --lock-timeout.' +
          (users[0]?.pid ? ` If it is stuck, end it: kill ${users[0].pid}` : ''),
      },
    )
  }

  /** The interruption, saying where (a run's report replaces it when migrations had run). */
  private interruptedWhileWaiting(): InterruptedError {
    const reason = this.options.signal?.reason
    const signal = reason instanceof InterruptedError ? reason.signal : 'SIGINT'
    return new InterruptedError(signal, `Interrupted by ${signal} while waiting for the migration lock; nothing was applied or changed.`)
  }

  private exec(text: string): void {
    const started = performance.now()
    this.handle.exec(text)
    this.options.onQuery?.(text, performance.now() - started)
  }

  private stepError(err: unknown, where: { line?: number | undefined; column?: number | undefined; dirty: boolean }): MigrationStepError {
    if (err instanceof MigrationStepError) return err
    const code = errorCodeOf(err)
    return new MigrationStepError(messageOf(err), {
      ...where,
      code,
      cancelled: err instanceof InterruptedError,
      lockTimeout: false,
      cause: err,
    })
  }
}
