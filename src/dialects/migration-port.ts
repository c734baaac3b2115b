/**
 * The migration port: what the migrations feature asks of a dialect, and what it hands the
 * dialect in return. A dialect gives a {@link MigrationSession} (the migration lock, and one
 * migration run so that its changes and its row commit together) and spells the few parts of
 * `dbops_migrations`' SQL that differ between databases ({@link MigrationTableSyntax}). The
 * migration store (`src/migrate/migration-store.ts`) owns the table and writes its rows; a
 * session calls it through {@link MigrationRecords} from inside its transactions.
 *
 * Implementations: `postgres/postgres-migration-session.ts`, `sqlite/sqlite-migration-session.ts`.
 */
import { CompiledQuery, type Kysely } from '../kysely-runtime.js'
import type { MigrationTableName } from '../config/resolve-config.js'

export type { MigrationTableName } from '../config/resolve-config.js'

/** A migration history table found in the database, with its number of rows. */
export interface HistoryTable extends MigrationTableName {
  rows: number
}

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
  /** The lint findings `--allow-unsafe` let through when it was applied (`allowed_unsafe`); undefined for most. */
  allowedUnsafe?: string | undefined
}

/** The values that identify a migration's row. */
export interface MigrationRowValues {
  version: string
  name: string
  checksum: string
  dbopsVersion: string
  /**
   * The lint findings `--allow-unsafe` let through, one line (`rule-id at line N; …`), written
   * to the nullable `allowed_unsafe` column; undefined leaves the column out of the insert.
   */
  allowedUnsafe?: string | undefined
}

/** One statement of a `.sql` section, where it starts in the file (1-based). */
export interface ScriptStatement {
  text: string
  line: number
  column: number
}

/** A `.sql` section as a session runs it: its text whole, and split into statements. */
export interface SqlScript {
  /** The section's text, as it stands in the file. */
  sql: string
  /** The file's line on which `sql` starts. */
  startLine: number
  statements: ScriptStatement[]
}

/** What a step runs: a `.sql` section, or a module's `up`/`down` function. */
export type MigrationBody = { kind: 'sql'; section: SqlScript } | { kind: 'function'; run: (db: Kysely<any>) => Promise<unknown> }

/**
 * One migration in one direction. Up: run the body and record the row; down: run the body
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
      /**
       * The database's SQLSTATE (`42703`), shown beside its message; only databases that have
       * them set it (PostgreSQL: SQLite's result codes are not SQLSTATEs).
       */
      sqlstate?: string | undefined
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
 * Runs the migration store's statements over one connection: SQL text with the dialect's
 * parameters ({@link MigrationTableSyntax.parameter}) and their values, giving back the rows
 * (none for a write). A session is one, and so is every connection; {@link queryable} makes one of a Kysely instance.
 */
export interface StatementRunner {
  query(sql: string, parameters: readonly unknown[]): Promise<Array<Record<string, unknown>>>
}

/** A Kysely instance as a {@link StatementRunner}: the store's statements over any connection, echoed by its log. */
export function queryable(db: Kysely<any>): StatementRunner {
  return {
    async query(sql, parameters) {
      return (await db.executeQuery(CompiledQuery.raw(sql, [...parameters]))).rows as Array<Record<string, unknown>>
    },
  }
}

/**
 * How a dialect spells what the migration store writes: only the parts of `dbops_migrations`'
 * SQL that differ between databases. The store writes the rest once.
 */
export interface MigrationTableSyntax {
  /** The table `name` as statements write it: in `schema` where the dialect has schemas. */
  qualify(schema: string, name: string): string
  /** Bound parameter `n` (from 1) as the driver takes it: `$1` on PostgreSQL, `?` on SQLite. */
  parameter(n: number): string
  /** Type, nullability and default of `applied_at`: a timestamptz on PostgreSQL, ISO-8601 text on SQLite. */
  timestampColumn: string
  /** A query, with its parameters, that returns one row (its `name`) for each of the tables `names` that exists in `schema`. */
  existingTables(schema: string, names: readonly string[]): { sql: string; parameters: unknown[] }
  /**
   * A query, with its parameters, that returns `schema` and `name` of every table that may be a
   * migration history: named one of `names`, or with the history's own columns `checksum` and
   * `dbops_version` (a history under another name), in any schema but the system's (SQLite: in
   * the file, `schema` is `main`). So a history kept elsewhere is found before dbops starts a
   * second one.
   */
  historyTables(names: readonly string[]): { sql: string; parameters: unknown[] }
  /** The table as messages and settings name it: `schema.name`, or `name` where the dialect has no schemas. */
  label(table: MigrationTableName): string
}

/** How a session spells the values of a row it writes inside a one-statement script (PostgreSQL's one round trip). */
export interface InlineRowSpelling {
  /** A string as a SQL literal that reads the same under any server setting. */
  literal(value: string): string
  /** `applied_at`: the time of the write, evaluated by the server. */
  appliedAt: string
  /** `duration_ms`: milliseconds since the transaction began, evaluated by the server. */
  durationMs: string
}

/**
 * The writes to `dbops_migrations` a session makes while it runs a step, implemented by the
 * migration store. Each runs its statements over the runner it is given, so a session decides
 * the transaction they belong to: the row of a transactional step commits with its changes.
 */
export interface MigrationRecords {
  /** Whether a run already did `step` (up: its row exists; down: its row is gone or not applied). */
  isDone(runner: StatementRunner, step: MigrationStep): Promise<boolean>
  /** Before a non-transactional step's body: up records `started`, down marks its row `started`. */
  markStarted(runner: StatementRunner, step: MigrationStep): Promise<void>
  /** After the body: up records `applied` with `durationMs`, down deletes the row. */
  markDone(runner: StatementRunner, step: MigrationStep, durationMs: number): Promise<void>
  /** {@link markDone} of a transactional step as one statement with its values inlined. */
  doneStatement(step: MigrationStep, spelling: InlineRowSpelling): string
}

/** Who holds a lock, as far as the database can tell. */
export interface LockHolder {
  pid: number | undefined
  applicationName: string | undefined
  clientAddress: string | undefined
  since: Date | undefined
}

/** A held migration lock. */
export interface MigrationLock {
  release(): Promise<void>
}

/** Options of a migration lock. */
export interface MigrationLockOptions {
  /** Give up after this many milliseconds (exit 5, naming the holder). */
  timeoutMs: number
  signal?: AbortSignal
  /** Called once when the lock is busy, with who holds it. */
  onWait?: (holder: LockHolder | undefined) => void
  /** PostgreSQL `DATABASE_SCHEMA`: first on the migrations' `search_path`. */
  schema: string
  /** The history table; the lock is per table (PostgreSQL: its advisory-lock key). */
  table: MigrationTableName
  /** PostgreSQL `lock_timeout` for migration statements, in milliseconds; 0 waits forever. */
  statementLockTimeoutMs?: number
  /** Called with each statement the session runs itself (SQL echo). */
  onQuery?: (sql: string, durationMs: number) => void
  /** The migration store's writes, which the session makes inside its transactions. */
  records: MigrationRecords
}

/**
 * A dialect's migration session; `release()` (from {@link MigrationLock}) ends it. Its
 * {@link StatementRunner.query} runs the store's statements on the session's connection.
 *
 * On PostgreSQL it is one pinned connection holding a session-level advisory lock; every
 * query runs on it. On SQLite the run holds the database's migration lock file, and each step
 * (and each {@link transaction}) takes the write lock with `BEGIN IMMEDIATE`, waiting up to
 * the lock timeout, and re-reads the migration's row inside, so a migration is applied once.
 */
export interface MigrationSession extends MigrationLock, StatementRunner {
  /**
   * Kysely over the session's own connection (on PostgreSQL the pinned one holding the lock):
   * catalog reads of the run go through it rather than opening a connection of their own.
   */
  readonly db: Kysely<any>
  /**
   * Creates the history table with `table.ddl` (and, on PostgreSQL, `table.schema` when
   * missing); a role that may not: exit 7 naming what to grant.
   */
  createTable(table: MigrationTableName & { ddl: string }): Promise<void>
  /** Runs `work` in one transaction (under the write lock on SQLite); its queries go through this session. */
  transaction(work: () => Promise<void>): Promise<void>
  /** Runs one step; throws {@link MigrationStepError} when it fails. */
  run(step: MigrationStep): Promise<StepOutcome>
  /** Cancels the statement now running (SIGINT/SIGTERM). Safe to call at any time. */
  cancel(): Promise<void>
}
