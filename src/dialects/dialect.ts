/**
 * The `Dialect` interface: everything dbops does that depends on the database, behind one
 * shape. One module per database implements it (`sqlite/`, `postgres/`). Shared code asks
 * a capability (`supportsTransactionalDdl`), never the dialect's name.
 *
 * The interface is designed whole; the foundation implements connecting and closing, and
 * later work fills in the rest without reshaping it.
 */
import type { Kysely } from 'kysely'
import type { DatabaseTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { DatabaseSchema } from '../schema/normalised-schema.js'
import type { MigrationSession } from '../migrate/migration-session.js'
import type { PresentationTraits } from './presentation-traits.js'
import type { SchemaSql } from './schema-sql.js'
import type { SchemaTraits } from './schema-traits.js'
import type { SqlSyntax } from '../sql/sql-tokenizer.js'

/** The databases dbops supports. */
export type DialectName = 'sqlite' | 'postgres'

/** How a connection is opened. */
export interface ConnectOptions {
  /**
   * `read` never creates anything (a missing SQLite file is an error, exit 7);
   * `write` creates the SQLite file and its directory when missing.
   */
  mode: 'read' | 'write'
  /** The command, for PostgreSQL's `application_name` (`dbops/<command>`). */
  command: string
  /** Cancels the connect loop (SIGINT/SIGTERM). */
  signal?: AbortSignal
  /**
   * Retries of transient failures (refused, starting up, too many connections) within the
   * connect deadline. Default: the config's `maxRetries`.
   */
  maxRetries?: number
  /** Overrides the config's connect deadline, in milliseconds. */
  deadlineMs?: number
  /** Called with each SQL statement when echo is on. */
  onQuery?: (sql: string, durationMs: number) => void
  /** Called before each retry, with the reason (for `wait` and `--verbose`). */
  onRetry?: (attempt: number, reason: string, delayMs: number) => void
  /** PostgreSQL session settings, e.g. a short `statement_timeout` for on-call commands. */
  sessionSettings?: Record<string, string>
  /**
   * SQLite: milliseconds opening waits while another process keeps the file locked (a writer
   * in rollback-journal mode); then "locked" (exit 4). Default: the busy timeout. The migrate
   * commands pass their lock timeout.
   */
  lockWaitMs?: number
}

/** An open connection (a pool on PostgreSQL, one handle on SQLite). Close it. */
export interface DbConnection {
  readonly dialect: Dialect
  readonly target: DatabaseTarget
  /** Kysely over the connection, for queries and introspection. */
  readonly db: Kysely<any>
  /** The server's version: `15.18` for PostgreSQL, `3.53.2` for SQLite. */
  readonly serverVersion: string
  /** Milliseconds the first successful login took (retries included). */
  readonly connectMs: number
  /** Closes every connection. Safe to call twice. */
  close(): Promise<void>
}

/** Options of a migration lock. */
export interface MigrationLockOptions {
  /** Give up after this many milliseconds (exit 5, naming the holder). */
  timeoutMs: number
  signal?: AbortSignal
  /** Called once when the lock is busy, with who holds it. */
  onWait?: (holder: LockHolder | undefined) => void
  /** PostgreSQL schema that holds `dbops_migrations` (the lock is per schema). */
  schema: string
  /** PostgreSQL `lock_timeout` for migration statements, in milliseconds; 0 waits forever. */
  statementLockTimeoutMs?: number
  /** Called with each statement the session runs itself (SQL echo). */
  onQuery?: (sql: string, durationMs: number) => void
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

/** How sure we are that a backup can be restored, weakest first (`none`: never verified or failed). */
export type VerificationLevel = 'none' | 'hash' | 'read' | 'restore'

/** Options of {@link Dialect.prepareBackup}. */
export interface PrepareBackupOptions {
  /** The backup directory (for tool-independent checks and messages). */
  dir: string
  /** Compress the copy with gzip (SQLite; a dialect whose format is compressed already refuses). */
  gzip: boolean
  signal?: AbortSignal
  /** Called with notes for `--verbose` (which tool was chosen, and why). */
  onNote?: (text: string) => void
}

/** Options of {@link BackupSource.acquireLock}. */
export interface BackupLockOptions {
  /** Give up after this many milliseconds (exit 5); 0 tries once. */
  timeoutMs: number
  signal?: AbortSignal
}

/** A held backup lock. Released when the process dies, whatever kills it. */
export interface BackupLock {
  release(): Promise<void>
}

/**
 * A source database made ready for a backup by {@link Dialect.prepareBackup}: it exists, it
 * answered, and the tool that copies it was found and fits. Close it.
 */
export interface BackupSource {
  /** The server's version (SQLite: the library's). */
  readonly serverVersion: string
  /** What copies the data: `sqlite-backup-api`, `pg_dump`. */
  readonly tool: string
  /** The tool's version, when it has one of its own (`pg_dump`'s). */
  readonly toolVersion: string | undefined
  /** The backup file's extension without the dot: `db`, `db.gz`, `dump`. */
  readonly extension: string
  /** Which database this is (see {@link Dialect.readBackupIdentity}), recorded in the manifest. */
  readonly identity: string
  /**
   * The database's size in bytes when the copy is that size (SQLite), so free space can be
   * refused up front; undefined when the backup's size is unknown before it is made.
   */
  readonly sizeBytes: number | undefined
  /**
   * A lock meaning "a backup of this database is running", held on the server (PostgreSQL's
   * advisory lock). Absent when the dialect has none: the caller then locks the backup directory.
   */
  acquireLock?(options: BackupLockOptions): Promise<BackupLock>
  close(): Promise<void>
}

/** What `backup create` asks of a dialect. */
export interface BackupRequest {
  config: ResolvedConfig
  /** The prepared source (see {@link Dialect.prepareBackup}). */
  source: BackupSource
  /** Temporary file to write; the caller fsyncs, hashes, renames and writes the manifest. */
  tempPath: string
  /** Another temporary path beside it, for intermediate files; `tag` tells them apart. */
  scratchPath: (tag: string) => string
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  /** Called with notes for `--verbose` (a restarted SQLite copy, the snapshot id). */
  onNote?: (text: string) => void
}

/** What a dialect reports about a backup it wrote. */
export interface BackupOutcome {
  serverVersion: string
  toolVersion: string | undefined
  /** The latest applied migration, read from the snapshot itself. */
  migrationHead: string | undefined
  /** sha256 (hex) of the bytes written, when the dialect hashed them as it streamed. */
  sha256?: string
  /** Times the copy started over because the source changed (SQLite's stepped backup). */
  restarts: number
}

/** What `backup restore` asks of a dialect. */
export interface RestoreRequest {
  config: ResolvedConfig
  file: string
  /**
   * Where to restore: a database that may or may not exist yet. Undefined: a new database
   * beside the configured one, named by the dialect (`app_restored_20250101_030000`).
   */
  target: DatabaseTarget | undefined
  /** Passed on to `pg_restore --no-owner`. */
  noOwner: boolean
  /** The tool version recorded in the manifest (`pg_dump`'s), so a fitting `pg_restore` is chosen. */
  toolVersion: string | undefined
  /** A temporary path the sweep recognises, for intermediate files (a decompressed copy). */
  scratchPath: (tag: string) => string
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  onNote?: (text: string) => void
  /**
   * Called when `target` exists and holds data, before anything in it changes, with the
   * target's identity (see {@link Dialect.readBackupIdentity}), so the caller can check whose
   * backup this is and make a safety backup; an error it throws stops the restore.
   */
  beforeReplace?: (target: DatabaseTarget, identity: string) => Promise<void>
  /**
   * How long a statement of the restore waits for a lock another session holds before the
   * restore gives up (exit 5, naming the holder); PostgreSQL's `lock_timeout`.
   */
  lockTimeoutMs: number
}

/** What a restore did. */
export interface RestoreOutcome {
  target: DatabaseTarget
  /** The target did not exist and was created. */
  created: boolean
  /** The target existed and its contents were replaced. */
  replaced: boolean
  /**
   * Tables of an existing target that the backup does not hold, left as they were
   * (`schema.table`, quoted where needed); empty when the restore replaces the whole database.
   */
  tablesNotInBackup: string[]
}

/** What `backup verify` asks of a dialect beyond the hash. */
export interface VerifyBackupRequest {
  /** Used for the restore level: the server (or directory) that holds the scratch database. */
  config: ResolvedConfig
  file: string
  level: 'read' | 'restore'
  /** The `pg_dump` version recorded in the manifest, so a fitting `pg_restore` is chosen. */
  toolVersion: string | undefined
  /** A temporary path the sweep recognises, for scratch copies. */
  scratchPath: (tag: string) => string
  signal?: AbortSignal
  onNote?: (text: string) => void
}

/** One verification check and its outcome. */
export interface VerifyCheck {
  /** `sha256`, `size`, `integrity_check`, `pg_restore_read`, `restore`, … */
  name: string
  ok: boolean
  detail: string
}

/** What the dialect's checks found. */
export interface VerifyBackupOutcome {
  checks: VerifyCheck[]
  /** Rows per table of the scratch restore (restore level). */
  rowCounts?: Record<string, number>
}

/**
 * One health check's result. `details` keys are snake_case: they go into the JSON document
 * as they are.
 */
export interface HealthComponent {
  /** snake_case name: `connection`, `migrations`, `lock_waits`, `sqlite_wal`… */
  name: string
  status: 'ok' | 'warn' | 'fail'
  /** Milliseconds the check's own queries took; undefined when it ran none. */
  latencyMs: number | undefined
  details: Record<string, unknown>
}

/** Options of the health probes. */
export interface HealthProbeOptions {
  /** Also run the checks that read the whole database (SQLite `quick_check`). */
  deep: boolean
  /** Warning thresholds by name; see `HEALTH_THRESHOLDS` in src/health/health-thresholds.ts. */
  thresholds: Record<string, number>
}

/** Sessions of one application, user and state. */
export interface SessionGroup {
  applicationName: string
  user: string
  state: string
  count: number
}

/** A session idle inside an open transaction: it holds its locks and snapshot. */
export interface IdleTransaction {
  pid: number
  user: string | undefined
  applicationName: string | undefined
  /** Seconds since the session went idle. */
  idleSeconds: number
  /** Seconds since its transaction began. */
  transactionSeconds: number | undefined
  /** Its last statement, truncated. */
  lastQuery: string | undefined
  /** The statement an operator would run to end the session: printed, never run. */
  terminate: string | undefined
}

/** A query waiting on a lock, and who holds it. */
export interface BlockedQuery {
  pid: number
  user: string | undefined
  applicationName: string | undefined
  waitingSeconds: number | undefined
  query: string | undefined
  /** The pids that block it (`pg_blocking_pids`). */
  blockedBy: number[]
  /** The statements an operator would run to end its blockers: printed, never run. */
  terminateBlockers: string[]
}

/**
 * The server's view of connections, for `dbops pool`. Fields a dialect has no notion of
 * are undefined or empty; dialect-specific findings (SQLite's write lock, WAL, checkpoint,
 * processes holding the file) are in `details`, with snake_case keys.
 */
export interface PoolProbe {
  /** Slots for ordinary roles: `max_connections - superuser_reserved_connections`. */
  maxConnections: number | undefined
  /** Client sessions open now, this probe's included. */
  used: number | undefined
  /**
   * Connections this role could still open on this database: the least of the server's free
   * slots, the role's CONNECTION LIMIT and the database's CONNECTION LIMIT.
   */
  free: number | undefined
  /** Which limit gave `free`: `server`, `role` or `database`. */
  freeLimitedBy: 'server' | 'role' | 'database' | undefined
  /** Client sessions on the whole server by state. */
  byState: Array<{ state: string; count: number }>
  /** This database's sessions by application, user and state. */
  byApplication: SessionGroup[]
  /** This database's sessions idle in a transaction. */
  idleInTransaction: IdleTransaction[]
  /** This database's queries waiting on a lock. */
  blocked: BlockedQuery[]
  /** Set when the role cannot see every session ("insufficient privilege: …"). */
  visibility: string | undefined
  details: Record<string, unknown>
}

/** Options of {@link Dialect.createShadowDatabase}. */
export interface ShadowOptions {
  /** `SHADOW_DATABASE_URL`: a PostgreSQL database to use instead of creating one. */
  shadowUrl?: string | undefined
  /** How to connect (application name, signal, echo); the mode is chosen per use. */
  connect: ConnectOptions
}

/** A fresh, empty database to replay migrations into: its config, and how to get rid of it. */
export interface ShadowDatabase {
  config: ResolvedConfig
  /** Removes (or empties) the shadow database. Safe to call twice. */
  dispose(): Promise<void>
}

/**
 * One database engine. Implementations: `SqliteDialect`, `PostgresDialect`.
 *
 * @example
 * const dialect = await loadDialect(config.target.dialect)
 * const conn = await dialect.connect(config, { mode: 'read', command: 'health' })
 */
export interface Dialect extends PresentationTraits {
  readonly name: DialectName
  /** The database's name in messages: `PostgreSQL`, `SQLite`. */
  readonly displayName: string
  /** How the database stores what the models describe, for the model mapping. */
  readonly schemaTraits: SchemaTraits
  /** A renderer of the database's DDL and of the statements that make schema changes. */
  createSchemaSql(): SchemaSql
  /** The lexical rules of its SQL (comments, strings, quoted names) that the one SQL lexer reads it by. */
  readonly sqlSyntax: SqlSyntax
  /** DDL runs inside a transaction and rolls back with it. */
  readonly supportsTransactionalDdl: boolean
  /** Session-level advisory locks exist (PostgreSQL); otherwise the write lock serialises. */
  readonly supportsAdvisoryLocks: boolean
  /** Namespaces (`DATABASE_SCHEMA`) exist. */
  readonly supportsSchemas: boolean

  /** Opens a connection and proves it with a real login; maps failures to typed errors. */
  connect(config: ResolvedConfig, options: ConnectOptions): Promise<DbConnection>
  /** Reads the normalised schema of `schema` (PostgreSQL) or the file (SQLite). */
  introspect(conn: DbConnection, options: { schema: string }): Promise<DatabaseSchema>
  /**
   * Takes the migration lock, waiting up to `timeoutMs`, and returns the session that runs
   * migrations under it (PostgreSQL: an advisory lock on one pinned connection; SQLite: the
   * write lock, taken per migration).
   */
  acquireMigrationLock(conn: DbConnection, options: MigrationLockOptions): Promise<MigrationSession>
  /**
   * Who holds the migration lock right now, or undefined when no run does. Never takes the
   * lock nor waits for it: readers without the lock (`migrate status`, `health`) ask it about a
   * `started` row, which is a migration in progress while a run holds the lock, and dirty
   * otherwise. The holder's fields are best effort (undefined where the system cannot tell).
   */
  migrationLockHolder(conn: DbConnection, options: { schema: string }): Promise<LockHolder | undefined>
  /**
   * Backup preflight before any file exists: the source exists and answers (a missing SQLite
   * file is exit 7 and is never created), the copying tool is found and fits the server.
   */
  prepareBackup(config: ResolvedConfig, options: PrepareBackupOptions): Promise<BackupSource>
  /** Writes a consistent snapshot to `request.tempPath`. */
  createBackup(request: BackupRequest): Promise<BackupOutcome>
  /** Restores `request.file` into `request.target`. */
  restoreBackup(request: RestoreRequest): Promise<RestoreOutcome>
  /** Checks a backup file beyond its hash: reads it whole, or restores it into a scratch database. */
  verifyBackup(request: VerifyBackupRequest): Promise<VerifyBackupOutcome>
  /**
   * Which database `config.target` is, as a string recorded in every backup's manifest so
   * that backups are matched to their database and not to a file name: SQLite
   * `sqlite:<real path of the file>`; PostgreSQL `postgres:<system identifier>/<database>`
   * (the cluster's `pg_control_system()`), or `postgres-address:<host>:<port>/<database>`
   * when the role may not read it. Uses `conn` when given (PostgreSQL connects otherwise).
   */
  readBackupIdentity(
    config: ResolvedConfig,
    options: { conn?: DbConnection | undefined; signal?: AbortSignal | undefined },
  ): Promise<string>
  /**
   * The identity of a backup whose manifest predates identities, from the `source` it
   * recorded (`describeTarget`'s text), when that text names the database unambiguously
   * (a SQLite file's absolute path); undefined otherwise (a PostgreSQL host can name
   * different clusters).
   */
  identityOfRecordedSource(source: string): string | undefined
  /** Runs the dialect's health checks. */
  probeHealth(conn: DbConnection, options: HealthProbeOptions): Promise<HealthComponent[]>
  /** Reads the server's view of connections. */
  probePool(conn: DbConnection): Promise<PoolProbe>
  /** Makes a fresh, empty database of this dialect beside the configured one (see {@link ShadowDatabase}). */
  createShadowDatabase(config: ResolvedConfig, options: ShadowOptions): Promise<ShadowDatabase>
}

/**
 * The part of a dialect that needs no driver, known by name without loading the dialect
 * (`dialectTraits` in the loader): what the model mapping, schema SQL rendering, the SQL
 * lexer and the reports read.
 */
export type DialectTraits = Pick<Dialect, 'name' | 'displayName' | 'schemaTraits' | 'createSchemaSql' | 'sqlSyntax'> & PresentationTraits
