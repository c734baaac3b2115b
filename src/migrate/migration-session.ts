/**
 * What the migration runner asks of a dialect: a session that holds the migration lock (or,
 * on SQLite, takes the write lock per migration), owns `dbops_migrations`, and runs one
 * migration step so that its changes and its row commit together. Implementations:
 * `dialects/postgres/postgres-migration-session.ts`, `dialects/sqlite/sqlite-migration-session.ts`;
 * a dialect hands one out from `acquireMigrationLock`.
 */
import type { Kysely } from 'kysely'
import type { MigrationLock } from '../dialects/dialect.js'
import type { SqlSection } from './parse-sql-migration.js'

/** A row of `dbops_migrations`. `status` is `applied`, or `started` (running while a run holds the lock, else dirty). */
export interface MigrationRow {
  version: string
  name: string
  checksum: string
  status: string
  /** ISO-8601. */
  appliedAt: string | undefined
  durationMs: number | undefined
  dbopsVersion: string | undefined
}

/** The values that identify a migration's row. */
export interface MigrationRowValues {
  version: string
  name: string
  checksum: string
  dbopsVersion: string
}

/** What a step runs: a `.sql` section, or a module's `up`/`down` function. */
export type MigrationBody = { kind: 'sql'; section: SqlSection } | { kind: 'function'; run: (db: Kysely<any>) => Promise<unknown> }

/**
 * One migration in one direction. Up: run the body and insert the row; down: run the body
 * and delete the row. Transactional steps do both in one transaction; a non-transactional
 * step records `started` first and `applied` (or deletes the row) at the end, so a crash in
 * between leaves the migration dirty.
 */
export interface MigrationStep {
  direction: 'up' | 'down'
  row: MigrationRowValues
  transaction: boolean
  /** SQLite: `PRAGMA foreign_keys=OFF` around the step and `foreign_key_check` before commit. */
  foreignKeysOff: boolean
  body: MigrationBody
}

/** What became of a step. `skipped`: another run had already done it (SQLite re-read). */
export interface StepOutcome {
  status: 'done' | 'skipped'
  durationMs: number
}

/** A change to `dbops_migrations` made by `repair`, `baseline` or `import-dbmate`. */
export type RowChange =
  | { kind: 'insert'; row: MigrationRowValues }
  | { kind: 'set-checksum'; version: string; checksum: string; name: string }
  | { kind: 'delete'; version: string }

/**
 * A step that failed, located: the statement (line and column in the file) when known, the
 * database's message and SQLSTATE. `dirty` when the step ran outside a transaction and its
 * row stays `started`.
 */
export class MigrationStepError extends Error {
  constructor(
    message: string,
    readonly details: {
      line?: number | undefined
      column?: number | undefined
      /** SQLSTATE (PostgreSQL) or SQLite result code. */
      code?: string | undefined
      dirty: boolean
      /** The run was cancelled (SIGINT/SIGTERM) while the step ran. */
      cancelled: boolean
      /** The statement hit `lock_timeout` (PostgreSQL 55P03). */
      lockTimeout: boolean
      cause?: unknown
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'MigrationStepError'
  }
}

/**
 * A dialect's migration session; `release()` (from {@link MigrationLock}) ends it.
 *
 * On PostgreSQL it is one pinned connection holding a session-level advisory lock; every
 * query below runs on it. On SQLite it holds nothing between steps: each step (and
 * `ensureTable`, `changeRows`) takes the write lock with `BEGIN IMMEDIATE`, waiting up to the
 * lock timeout, and re-reads the migration's row inside, so concurrent runs apply each
 * migration once.
 */
export interface MigrationSession extends MigrationLock {
  /** Kysely over the session's connection. */
  readonly db: Kysely<any>
  /** Whether `dbops_migrations` exists. */
  tableExists(): Promise<boolean>
  /** Creates `dbops_migrations` (and, on PostgreSQL, its schema) when missing. */
  ensureTable(): Promise<void>
  /** Every row of `dbops_migrations`; empty when the table does not exist. */
  readRows(): Promise<MigrationRow[]>
  /** Versions in dbmate's `schema_migrations`, or undefined when there is no such table. */
  readDbmateVersions(): Promise<string[] | undefined>
  /** Runs one step; throws {@link MigrationStepError} when it fails. */
  run(step: MigrationStep): Promise<StepOutcome>
  /** Applies row changes in one transaction. */
  changeRows(changes: RowChange[]): Promise<void>
  /** Cancels the statement now running (SIGINT/SIGTERM). Safe to call at any time. */
  cancel(): Promise<void>
}
