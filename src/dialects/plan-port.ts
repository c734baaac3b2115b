/**
 * The plan port: what `migrate plan` asks of a dialect that can trace migrations (PostgreSQL).
 * A `MigrationPlanner` (in `dialect.ts`, beside the connection types it takes) makes a throwaway copy of the target's schema, runs migrations in
 * it statement by statement recording the locks, rewrites and validations each one causes
 * ({@link MigrationTracer}), reads the target's real sizes, and says what each lock mode blocks.
 * The feature (`src/migrate/plan-migrations.ts`) grades and renders; a dialect without a planner
 * (SQLite) has nothing to trace.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { MigrationStep } from './migration-port.js'

/** A relation lock a statement held, as the database names it. */
export interface HeldLock {
  /** `schema.name` of the locked relation (an index is named itself; `table` is its table). */
  relation: string
  kind: 'table' | 'index' | 'sequence' | 'view' | 'other'
  /** For an index: `schema.name` of its table. */
  table?: string | undefined
  /** The lock mode as the server names it: `AccessExclusiveLock`. */
  mode: string
}

/** What one statement did in the copy. */
export interface StatementTrace {
  /** The statement's text (whole); `line`/`column` where it starts in the file (1-based). */
  sql: string
  line: number | undefined
  column: number | undefined
  /**
   * Locks this session held after the statement (in a transaction: accumulated since its
   * start); outside a transaction, the locks seen while it ran.
   */
  locks: HeldLock[]
  /** Relations whose storage was rewritten (a new relfilenode). */
  rewritten: string[]
  /** `constraint on schema.table` validated (a scan of the table). */
  validated: string[]
  /** `schema.table.column` made NOT NULL on an existing table (a scan of the table). */
  notNullChecked: string[]
  /** Relations that came into being with this statement. */
  created: string[]
  /** `schema.index on schema.table`: indexes built on a table that existed before the statement (a scan of it). */
  indexesBuilt: string[]
}

/** One migration traced: its statements, and the locks held at its commit. */
export interface MigrationTrace {
  statements: StatementTrace[]
  /** Transactional migrations: the locks held when it commits (everything taken since BEGIN). */
  commitLocks: HeldLock[] | undefined
  /** `statements`: traced one by one; `whole`: a module's function, traced as one step. */
  granularity: 'statements' | 'whole'
}

/** A relation's size on the target, from the catalog's estimates. */
export interface RelationSize {
  /** `reltuples` (0 when never analysed and empty). */
  rows: number
  /** `pg_total_relation_size`. */
  bytes: number
}

/** What a lock mode blocks in other sessions. */
export interface LockEffect {
  /** The mode as documentation names it: `ACCESS EXCLUSIVE`. */
  label: string
  blocks: { reads: boolean; writes: boolean; ddl: boolean }
}

/** Options of `MigrationPlanner.copySchema`. */
export interface CopySchemaOptions {
  /** The configuration (for the shadow database's settings). */
  config: ResolvedConfig
  signal?: AbortSignal | undefined
  /** `SHADOW_DATABASE_URL`: an empty database to restore into when dbops may not create one. */
  shadowUrl: string | undefined
  onNote?: ((text: string) => void) | undefined
}

/** Options of `MigrationPlanner.openTracer`: the session set-up `migrate up` makes. */
export interface TracerOptions {
  /** `DATABASE_SCHEMA`: first on the `search_path`. */
  schema: string
  /** `lock_timeout` of migration statements, ms (0: none). */
  statementLockTimeoutMs: number
  /** SIGINT/SIGTERM: cancels the running statement. */
  signal?: AbortSignal | undefined
}

/** Runs migrations in the copy one after the other, tracing them; close it. */
export interface MigrationTracer {
  /** Runs `step` and returns its trace; throws `MigrationStepError` (located) when it fails. */
  trace(step: MigrationStep): Promise<MigrationTrace>
  /** Relations (`schema.name`) that were in the copy before the first step: the target's. */
  readonly existing: ReadonlySet<string>
  close(): Promise<void>
}
