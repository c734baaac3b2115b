/**
 * `backup create`: a consistent copy of the database, written so that nothing incomplete ever
 * carries a final name, verified, and followed by retention.
 *
 * Order (DESIGN.md, Backups): preflight before any file exists (the source and its tool, the
 * directory, free space, the lock); sweep what killed runs left; data to a temporary
 * owner-only file; fsync; checks (hash, and `read` or `restore` level); rename; manifest
 * (temporary name, fsync, rename); fsync of the directory; retention, only after all of that
 * succeeded. A failure or a signal removes the temporary files and leaves earlier backups and
 * retention untouched.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connectionScope, loadDialect } from '../dialects/index.js'
import type {
  BackupLock,
  BackupSource,
  ConnectOptions,
  ConnectionScope,
  Dialect,
  VerificationLevel,
  VerifyCheck,
} from '../dialects/dialect.js'
import { DbopsError, ExitCode, IntegrityError, errorCodeOf } from '../errors.js'
import { readMigrationHead } from '../migrate/migration-store.js'
import { type BackupManifest, MANIFEST_FORMAT, writeManifest } from './backup-manifest.js'
import { prepareBackupDirectory, resolveBackupDirectory, scanBackupDirectory, sweepTempFiles } from './backup-directory.js'
import { type BackupOwner, backupOwner } from './backup-identity.js'
import { backupDatabaseName, formatBackupFileName, tempFileName } from './backup-name.js'
import { acquireDirectoryLock } from './directory-lock.js'
import { createPrivateFile, formatBytes, freeBytes, fsyncDirectory, fsyncFile, removeQuietly, sha256File } from './durable-file.js'
import { dbopsVersion } from '../package-root.js'
import { applyRetention, type PruneResult } from './prune-backups.js'
import { type RetentionPolicy, hasRetentionRules } from './retention.js'

/** Options of {@link createBackup}; every one optional. */
export interface CreateBackupOptions {
  /** Backup directory (default `BACKUP_DIR` / `backup.dir`, `./backups`). */
  dir?: string
  /** Retention rules; each unset rule falls back to the config's `backup.keep*`. */
  retention?: RetentionPolicy
  /** Verification before the backup counts (default `read`). */
  verifyLevel?: Exclude<VerificationLevel, 'none'>
  /** gzip the copy (SQLite). */
  gzip?: boolean
  /** Wait this long for another backup of the database to finish (default 0: fail at once, exit 5). */
  lockTimeoutMs?: number
  /** Skip retention (safety backups before a restore). */
  skipRetention?: boolean
  /** Recorded in the manifest: why this backup was made. */
  reason?: string
  /** How to connect (the command's application name, echo, retries); default command `backup create`. */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  /** Notes for `--verbose`. */
  onNote?: (text: string) => void
  /** Warnings that do not stop the backup (little free space). */
  onWarning?: (text: string) => void
}

/** What {@link createBackup} did; the `--json` document of `backup create`. */
export interface CreateBackupResult {
  file: string
  path: string
  database: string
  dialect: string
  size_bytes: number
  sha256: string
  created_at: string
  duration_ms: number
  /** Milliseconds of the steps, for `--verbose` and the benchmark. */
  timings: { copy_ms: number; fsync_ms: number; hash_ms: number; verify_ms: number }
  migration_head: string | null
  verification_level: VerificationLevel
  checks: VerifyCheck[]
  restarts: number
  swept: string[]
  retention: PruneResult | null
  warnings: string[]
}

/** How much more space than the last backup PostgreSQL wants before a warning. */
const SPACE_MARGIN = 1.2

/**
 * Makes a backup of the configured database. Throws a {@link DbopsError}: exit 7 for a missing
 * SQLite file or wrong password, 4 unreachable, 5 another backup running, 6 the copy failed
 * verification, 1 anything else (no space left, tool missing or too old), 130/143 interrupted.
 *
 * @example
 * const result = await createBackup(config, { retention: { keepDaily: 7 } })
 * result.file // 'app-20250101T030000.000Z.db'
 */
export async function createBackup(config: ResolvedConfig, options: CreateBackupOptions = {}): Promise<CreateBackupResult> {
  const started = performance.now()
  const where = resolveBackupDirectory(config, options.dir)
  const dir = where.dir
  const database = backupDatabaseName(config)
  const verifyLevel = options.verifyLevel ?? 'read'
  const warnings: string[] = []
  const warn = (text: string) => {
    warnings.push(text)
    options.onWarning?.(text)
  }
  const retention: RetentionPolicy = {
    keepLast: options.retention?.keepLast ?? config.backup.keepLast,
    keepDaily: options.retention?.keepDaily ?? config.backup.keepDaily,
    keepWeekly: options.retention?.keepWeekly ?? config.backup.keepWeekly,
    keepMonthly: options.retention?.keepMonthly ?? config.backup.keepMonthly,
  }

  // preflight, before any file exists: options, source and tool, directory, space, lock
  const dialect = await loadDialect(config.target.dialect)
  const extension = dialect.backupExtension({ gzip: options.gzip ?? false })
  const scope = connectionScope(config, { command: 'backup create', signal: options.signal, ...options.connect, mode: 'read' })
  const conn = await scope.connect()
  let source: BackupSource | undefined
  const locks: BackupLock[] = []
  try {
    source = await dialect.prepareBackup(conn, scope, {
      gzip: options.gzip ?? false,
      signal: options.signal,
      onNote: options.onNote,
    })
    const owner = backupOwner(database, source.identity, dialect)
    prepareBackupDirectory(where)
    checkFreeSpace(dir, owner, source, warn)
    if (source.acquireLock) locks.push(await source.acquireLock({ timeoutMs: options.lockTimeoutMs ?? 0, signal: options.signal }))
    // the directory lock also keeps `prune` out while this run writes and applies retention;
    // it is per series, so a same-named database of another identity never waits for this one
    locks.push(
      await acquireDirectoryLock(dir, owner.series, { timeoutMs: options.lockTimeoutMs ?? 0, signal: options.signal }, owner.database),
    )

    const swept = sweepTempFiles(dir, owner.series)
    if (swept.length > 0) options.onNote?.(`swept ${swept.length} leftover temporary file(s): ${swept.join(', ')}`)

    const written = await writeBackup(config, { dialect, scope, source, extension }, dir, owner, verifyLevel, options)
    fsyncDirectory(dir)

    let pruned: PruneResult | null = null
    if (!options.skipRetention && hasRetentionRules(retention)) {
      pruned = applyRetention(dir, owner, retention, { dryRun: false, onWarning: warn })
      if (pruned.deleted.length > 0) options.onNote?.(`retention deleted ${pruned.deleted.map((d) => d.file).join(', ')}`)
    }
    return {
      ...written,
      database,
      dialect: config.target.dialect,
      duration_ms: Math.round(performance.now() - started),
      swept,
      retention: pruned,
      warnings,
    }
  } finally {
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined)
    await source?.close()
    await conn.close()
  }
}

/** SQLite refuses when free space is under the database's size; otherwise warn under 1.2x the last backup. */
function checkFreeSpace(dir: string, owner: BackupOwner, source: BackupSource, warn: (text: string) => void): void {
  const free = freeBytes(dir)
  if (source.sizeBytes !== undefined) {
    if (free < source.sizeBytes) {
      throw new DbopsError(
        'BACKUP_NO_SPACE',
        ExitCode.failed,
        `No space left for the backup in ${dir}: ${formatBytes(free)} free, the database is ${formatBytes(source.sizeBytes)}`,
        {
          hint: 'Free space (or prune old backups with `dbops backup prune`), or choose another --dir.',
        },
      )
    }
    return
  }
  const last = scanBackupDirectory(dir).find((b) => (owner.owns(b) || owner.isNamedAsOwn(b)) && b.size_bytes !== null)
  if (last?.size_bytes && free < last.size_bytes * SPACE_MARGIN) {
    warn(`only ${formatBytes(free)} free in ${dir}; the last backup of ${owner.database} took ${formatBytes(last.size_bytes)}`)
  }
}

type Written = Omit<CreateBackupResult, 'database' | 'dialect' | 'duration_ms' | 'swept' | 'retention' | 'warnings'>

/** A prepared backup: the dialect that copies, its connection scope, the source, and the file's extension. */
interface Prepared {
  dialect: Dialect
  scope: ConnectionScope
  source: BackupSource
  extension: string
}

/** The data file and its manifest, durable and verified, or nothing at all. */
async function writeBackup(
  config: ResolvedConfig,
  { dialect, scope, source, extension }: Prepared,
  dir: string,
  owner: BackupOwner,
  verifyLevel: Exclude<VerificationLevel, 'none'>,
  options: CreateBackupOptions,
): Promise<Written> {
  const database = owner.database
  let createdAt = new Date()
  let file = formatBackupFileName(owner.series, createdAt, extension)
  while (fs.existsSync(path.join(dir, file))) {
    createdAt = new Date(createdAt.getTime() + 1)
    file = formatBackupFileName(owner.series, createdAt, extension)
  }
  const finalPath = path.join(dir, file)
  const tempPath = path.join(dir, tempFileName(file, process.pid))
  const scratch = (tag: string) => path.join(dir, tempFileName(file, process.pid, tag))
  const leftovers = [tempPath, `${tempPath}-journal`, `${tempPath}-wal`, `${tempPath}-shm`]
  let renamed = false
  try {
    const copyStarted = performance.now()
    createPrivateFile(tempPath)
    const outcome = await dialect.createBackup({
      source,
      readMigrationHead: (db) => readMigrationHead(db, dialect, config.migrationsTable),
      tempPath,
      scratchPath: scratch,
      signal: options.signal,
      onProgress: options.onProgress,
      onNote: options.onNote,
    })
    const copyMs = performance.now() - copyStarted
    removeQuietly(`${tempPath}-journal`, `${tempPath}-wal`, `${tempPath}-shm`)
    fs.chmodSync(tempPath, 0o600)

    const fsyncStarted = performance.now()
    fsyncFile(tempPath)
    const fsyncMs = performance.now() - fsyncStarted
    const size = fs.statSync(tempPath).size

    // hash and the dialect's checks run at the same time (a large file's hash in a worker, on the second core)
    const checksStarted = performance.now()
    let hashMs = 0
    const hashing = (outcome.sha256 !== undefined ? Promise.resolve(outcome.sha256) : sha256File(tempPath)).then((sha) => {
      hashMs = performance.now() - checksStarted
      return sha
    })
    hashing.catch(() => undefined) // awaited below; no unhandled rejection meanwhile
    const checks: VerifyCheck[] = []
    if (verifyLevel !== 'hash') {
      const verified = await dialect.verifyBackup(scope, {
        file: tempPath,
        level: verifyLevel,
        toolVersion: outcome.toolVersion,
        scratchPath: scratch,
        signal: options.signal,
        onNote: options.onNote,
      })
      checks.push(...verified.checks)
    }
    const sha256 = await hashing
    checks.unshift({ name: 'sha256', ok: true, detail: `sha256 of ${formatBytes(size)} recorded` })
    const verifyMs = performance.now() - checksStarted
    const failed = checks.find((c) => !c.ok)
    if (failed) {
      throw new IntegrityError('BACKUP_VERIFY_FAILED', `The new backup of ${database} failed the ${failed.name} check: ${failed.detail}`, {
        hint: 'The source database itself may be damaged: run `PRAGMA integrity_check` / check the server log. Nothing was kept.',
      })
    }

    // a signal that came during the (synchronous) checks still stops the run before the rename
    options.signal?.throwIfAborted()
    fs.renameSync(tempPath, finalPath)
    renamed = true
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      file,
      database,
      dialect: config.target.dialect,
      source: describeTarget(config.target),
      source_identity: owner.identity,
      server_version: outcome.serverVersion,
      tool: source.tool,
      tool_version: outcome.toolVersion ?? null,
      size_bytes: size,
      sha256,
      compression: extension.endsWith('.gz') ? 'gzip' : null,
      created_at: createdAt.toISOString(),
      duration_ms: Math.round(performance.now() - copyStarted),
      dbops_version: dbopsVersion(),
      migration_head: outcome.migrationHead ?? null,
      restarts: outcome.restarts,
      ...(options.reason ? { reason: options.reason } : {}),
      verification: { level: verifyLevel, verified_at: new Date().toISOString(), checks },
    }
    writeManifest(finalPath, manifest)
    return {
      file,
      path: finalPath,
      size_bytes: size,
      sha256,
      created_at: manifest.created_at,
      timings: {
        copy_ms: Math.round(copyMs),
        fsync_ms: Math.round(fsyncMs),
        hash_ms: Math.round(hashMs),
        verify_ms: Math.round(verifyMs),
      },
      migration_head: manifest.migration_head,
      verification_level: verifyLevel,
      checks,
      restarts: outcome.restarts,
    }
  } catch (err) {
    removeQuietly(...leftovers)
    // a data file renamed but without its manifest is not a finished backup either
    if (renamed) removeQuietly(finalPath)
    throw mapNoSpace(err, dir)
  }
}

/** ENOSPC from anywhere becomes "no space left" naming the directory, exit 1. */
function mapNoSpace(err: unknown, dir: string): unknown {
  if (err instanceof DbopsError) return err
  if (errorCodeOf(err) === 'ENOSPC' || errorCodeOf(err) === 'SQLITE_FULL') {
    return new DbopsError('BACKUP_NO_SPACE', ExitCode.failed, `No space left on device in ${dir}`, {
      hint: 'Free space (or prune old backups with `dbops backup prune`), then retry.',
      cause: err,
    })
  }
  return err
}
