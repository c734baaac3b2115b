/**
 * The backup port: what `backup create`, `backup restore` and `backup verify` hand a dialect,
 * and what it gives back. The feature code (src/backup/) names files, locks directories, hashes,
 * renames and writes manifests; a dialect copies, restores and checks the data. The dialect
 * never connects on its own terms: it is handed the source's connection, or a
 * `ConnectionScope` (see `dialect.ts`) made from the configuration and the command's connect
 * options, through which every further connection is opened.
 */
import type { Kysely } from 'kysely'
import type { DatabaseTarget } from '../config/database-url.js'

/** How sure we are that a backup can be restored, weakest first (`none`: never verified or failed). */
export type VerificationLevel = 'none' | 'hash' | 'read' | 'restore'

/** Options of `Dialect.prepareBackup`. */
export interface PrepareBackupOptions {
  /** Compress the copy with gzip (SQLite; see `Dialect.backupExtension`). */
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
 * A source database made ready for a backup by `Dialect.prepareBackup`: it answered, and the
 * tool that copies it was found and fits. Close it before its connection.
 */
export interface BackupSource {
  /** The server's version (SQLite: the library's). */
  readonly serverVersion: string
  /** What copies the data: `sqlite-backup-api`, `pg_dump`. */
  readonly tool: string
  /** The tool's version, when it has one of its own (`pg_dump`'s). */
  readonly toolVersion: string | undefined
  /** Which database this is (see `Dialect.readBackupIdentity`), recorded in the manifest. */
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
  /** Lets go of what the source holds beyond its connection (a pinned client); the caller closes the connection. */
  close(): Promise<void>
}

/** What `backup create` asks of a dialect. */
export interface BackupRequest {
  /** The prepared source (see `Dialect.prepareBackup`). */
  source: BackupSource
  /** Reads the migration head of the snapshot, over a Kysely instance the dialect opens on it. */
  readMigrationHead(db: Kysely<any>): Promise<string | undefined>
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
   * target's identity (see `Dialect.readBackupIdentity`), so the caller can check whose
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
  file: string
  /** `restore` restores into a scratch database on the configured database's server (or directory). */
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
