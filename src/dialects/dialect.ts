/**
 * The `Dialect` interface: everything dbops does that depends on the database, behind one
 * shape. One module per database implements it (`sqlite/`, `postgres/`). Shared code asks
 * a capability (`supportsSchemas`), never the dialect's name.
 */
import type { Kysely } from 'kysely'
import type { DatabaseTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { DatabaseSchema } from '../schema/normalised-schema.js'
import type {
  LockHolder,
  MigrationLockOptions,
  MigrationSession,
  MigrationTableName,
  MigrationTableSyntax,
  StatementRunner,
} from './migration-port.js'
import type { NamingTraits } from './naming-traits.js'
import type { PresentationTraits } from './presentation-traits.js'
import type {
  BackupOutcome,
  BackupRequest,
  BackupSource,
  PrepareBackupOptions,
  RestoreOutcome,
  RestoreRequest,
  VerifyBackupOutcome,
  VerifyBackupRequest,
} from './backup-port.js'
import type { Catalog } from './catalog-port.js'
import type { CopyReader, CopyWriter, CopyWriterOptions } from './copy-port.js'
import type { CopySchemaOptions, LockEffect, MigrationTracer, RelationSize, TracerOptions } from './plan-port.js'
import type { SchemaSql } from './schema-sql.js'
import type { SchemaTraits } from './schema-traits.js'
import type { SqlSyntax } from '../sql/sql-tokenizer.js'
import type { MigrationLinter } from './lint-port.js'
import type { DoctorReader } from './doctor-port.js'
import type { HealthComponent, HealthProbeOptions, PoolProbe } from './health-port.js'

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

/**
 * An open connection (a pool on PostgreSQL, one handle on SQLite). Close it. Its `query`
 * runs one statement through the driver itself, echoed like Kysely's; `db` is Kysely over the
 * same connection, made (and Kysely loaded) the first time it is read.
 */
export interface DbConnection extends StatementRunner {
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
  /** The client pool's counts now, where the dialect has a pool (PostgreSQL); undefined otherwise. */
  poolStats?(): ClientPoolStats
}

/** A client pool's connections now: open in all, idle among them, and callers waiting for one. */
export interface ClientPoolStats {
  max: number
  total: number
  idle: number
  waiting: number
}

/**
 * What an operation may connect to beyond the connection it is handed (a server's maintenance
 * database, a scratch database, a restore's target, a database that may have been dropped), and
 * how the client tools it runs connect: with the configuration's settings and the command's
 * connect options, so that every connection dbops opens, `pg_dump`'s and `pg_restore`'s
 * included, carries the command's application name, signal, echo and retries. The feature code
 * makes it (`connectionScope` in the loader); the dialect never reads the configuration itself.
 */
export interface ConnectionScope {
  /** The configured database. */
  readonly target: DatabaseTarget
  /** The command's connect options; connections of the scope are opened in their `mode`. */
  readonly options: ConnectOptions
  /** Seconds a login may take (the connect deadline), for a client tool's own connect timeout. */
  readonly connectTimeoutSeconds: number
  /**
   * The environment client tools are found in (`PG_DUMP`, `PG_RESTORE`, `PATH`): dbops' own
   * environment over `.env` in the working directory, the precedence of every other setting.
   */
  toolEnv(): Record<string, string | undefined>
  /** Opens a connection to `target` (default: the configured database). Close it. */
  connect(target?: DatabaseTarget): Promise<DbConnection>
}

export type { LockHolder, MigrationLock, MigrationLockOptions, MigrationSession } from './migration-port.js'

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

/** What {@link Dialect.introspect} reads. */
export interface IntrospectOptions {
  /** PostgreSQL: the schemas read. */
  schemas: readonly string[]
  /** PostgreSQL: the schema whose objects stay unqualified (see `normalised-schema.ts`). */
  defaultSchema: string
  /** The migration history table, left out like `dbops_migrations` whatever its name (default: none). */
  historyTable?: MigrationTableName | undefined
}

/** A schema-only copy of the target: a connection to it, and how to get rid of it. */
export interface SchemaCopy {
  conn: DbConnection
  /** Where it lives, for messages: `database dbops_plan_… (dropped afterwards)`. */
  description: string
  /** Drops (or empties) the copy. Safe to call twice. */
  dispose(): Promise<void>
}

/** A dialect's migration planner. */
export interface MigrationPlanner {
  /** Makes the schema-only copy of `scope.target` (the target is only read). */
  copySchema(scope: ConnectionScope, options: CopySchemaOptions): Promise<SchemaCopy>
  /** A tracer on the copy, set up as `migrate up` sets up its session. */
  openTracer(copy: SchemaCopy, options: TracerOptions): Promise<MigrationTracer>
  /** The target's sizes of `relations` (`schema.name`); relations it lacks are left out. */
  relationSizes(target: DbConnection, relations: string[]): Promise<Map<string, RelationSize>>
  /** What lock `mode` blocks (an unknown mode: assumed to block everything). */
  lockEffect(mode: string): LockEffect
}

/**
 * One database engine. Implementations: `SqliteDialect`, `PostgresDialect`.
 *
 * @example
 * const dialect = await loadDialect(config.target.dialect)
 * const conn = await dialect.connect(config, { mode: 'read', command: 'health' })
 */
export interface Dialect extends PresentationTraits, NamingTraits {
  readonly name: DialectName
  /** The database's name in messages: `PostgreSQL`, `SQLite`. */
  readonly displayName: string
  /** How the database stores what the models describe, for the model mapping. */
  readonly schemaTraits: SchemaTraits
  /** A renderer of the database's DDL and of the statements that make schema changes. */
  createSchemaSql(): SchemaSql
  /** The lexical rules of its SQL (comments, strings, quoted names) that the one SQL lexer reads it by. */
  readonly sqlSyntax: SqlSyntax
  /** How `dbops_migrations`' SQL is spelled on this database (see the migration store). */
  readonly migrationTable: MigrationTableSyntax
  /** Namespaces (`DATABASE_SCHEMA`) exist. */
  readonly supportsSchemas: boolean
  /**
   * The SQLSTATEs that mean a statement gave up waiting for a lock (PostgreSQL `55P03`,
   * lock_not_available, which `lock_timeout` raises); a transactional migration failing with
   * one was rolled back and may be retried. Empty where errors carry no SQLSTATE (SQLite).
   */
  readonly lockNotAvailableSqlstates: readonly string[]
  /** The static linter of its migrations' SQL (loads the parser it needs). */
  loadLinter(): Promise<MigrationLinter>

  /** Opens a connection and proves it with a real login; maps failures to typed errors. */
  connect(config: ResolvedConfig, options: ConnectOptions): Promise<DbConnection>
  /** The catalog queries of the on-call commands, over `conn` (see {@link Catalog}). */
  createCatalog(conn: DbConnection): Catalog
  /**
   * Reads the normalised schema of the schemas `schemas` (PostgreSQL; objects of
   * `defaultSchema` unqualified, see `normalised-schema.ts`) or of the file (SQLite).
   */
  introspect(conn: DbConnection, options: IntrospectOptions): Promise<DatabaseSchema>
  /**
   * Takes the migration lock, waiting up to `timeoutMs`, and returns the session that runs
   * migrations under it (PostgreSQL: an advisory lock on one pinned connection; SQLite: a lock
   * file for the run, and the write lock per migration).
   */
  acquireMigrationLock(conn: DbConnection, options: MigrationLockOptions): Promise<MigrationSession>
  /**
   * Who holds the migration lock right now, or undefined when no run does. Never takes the
   * lock nor waits for it: readers without the lock (`migrate status`, `health`) ask it about a
   * `started` row, which is a migration in progress while a run holds the lock, and dirty
   * otherwise. The holder's fields are best effort (undefined where the system cannot tell).
   */
  migrationLockHolder(conn: DbConnection, options: { table: MigrationTableName }): Promise<LockHolder | undefined>
  /**
   * What backups of `target` are named after when no `--db` name is given: PostgreSQL the
   * database's name, SQLite the file's name without its extension; undefined for a database
   * that cannot be backed up (SQLite `:memory:`).
   */
  backupBaseName(target: DatabaseTarget): string | undefined
  /**
   * The extension of a backup file made with `options`, without the dot: `db`, `db.gz`,
   * `dump`. Throws a usage error (exit 2) for an option the format refuses (`gzip` where the
   * format is compressed already). Needs no connection, so it is checked before connecting.
   */
  backupExtension(options: { gzip: boolean }): string
  /**
   * Backup preflight on the source's connection `conn`, before any file exists: the copying
   * tool is found and fits the server, and the source's identity is read. Client tools connect
   * as `scope` says.
   */
  prepareBackup(conn: DbConnection, scope: ConnectionScope, options: PrepareBackupOptions): Promise<BackupSource>
  /** Writes a consistent snapshot to `request.tempPath`. */
  createBackup(request: BackupRequest): Promise<BackupOutcome>
  /**
   * Restores `request.file` into `request.target` (default: a new database beside the one of
   * `scope`), connecting where it needs to through `scope`.
   */
  restoreBackup(scope: ConnectionScope, request: RestoreRequest): Promise<RestoreOutcome>
  /**
   * Checks a backup file beyond its hash: reads it whole, or restores it into a scratch
   * database beside the one of `scope`.
   */
  verifyBackup(scope: ConnectionScope, request: VerifyBackupRequest): Promise<VerifyBackupOutcome>
  /**
   * Which database `scope.target` is, as a string recorded in every backup's manifest so
   * that backups are matched to their database and not to a file name: SQLite
   * `sqlite:<real path of the file>`; PostgreSQL `postgres:<system identifier>/<database>`
   * (the cluster's `pg_control_system()`), or `postgres-address:<host>:<port>/<database>`
   * when the role may not read it. Uses `conn` when given (PostgreSQL connects through
   * `scope` otherwise).
   */
  readBackupIdentity(scope: ConnectionScope, conn?: DbConnection): Promise<string>
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
  /**
   * Opens `dbops doctor`'s reads over `conn` (see {@link DoctorReader}): at most
   * `maxConnections` queries at once, fewer so that `reserve` free connections stay free.
   */
  openDoctor(conn: DbConnection, options: { maxConnections: number; reserve: number }): Promise<DoctorReader>
  /** Makes a fresh, empty database of this dialect beside the configured one (see {@link ShadowDatabase}). */
  createShadowDatabase(config: ResolvedConfig, options: ShadowOptions): Promise<ShadowDatabase>
  /**
   * `dbops copy`'s source side: opens one read transaction on `conn` (a consistent snapshot)
   * and reads the schema in it. Close it.
   */
  openCopyReader(conn: DbConnection, options: IntrospectOptions): Promise<CopyReader>
  /**
   * `dbops copy`'s target side for `config`'s database: connects (PostgreSQL) or prepares a
   * temporary file beside it (SQLite). Nothing shows in the target before `finish()`.
   */
  openCopyWriter(config: ResolvedConfig, options: ConnectOptions & CopyWriterOptions): Promise<CopyWriter>
  /**
   * Traces migrations in a copy of the target's schema for `migrate plan` (locks, rewrites,
   * validations); undefined where the database cannot (SQLite).
   */
  readonly planner?: MigrationPlanner | undefined
}

/**
 * The part of a dialect that needs no driver, known by name without loading the dialect
 * (`dialectTraits` in the loader): what the model mapping, schema SQL rendering, the SQL
 * lexer, the reports, backup names and the matching of typed names read.
 */
export type DialectTraits = Pick<
  Dialect,
  'name' | 'displayName' | 'schemaTraits' | 'createSchemaSql' | 'sqlSyntax' | 'backupBaseName' | 'lockNotAvailableSqlstates' | 'loadLinter'
> &
  PresentationTraits &
  NamingTraits

export type * from './backup-port.js'
export type * from './catalog-port.js'
export type * from './copy-port.js'
export type * from './doctor-port.js'
export type * from './health-port.js'
export type * from './plan-port.js'
