/**
 * The backup directory: where it is, whether dbops may write there, what it holds (backups
 * with their manifests, newest first), and sweeping the temporary files of killed runs.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, ExitCode, errorCodeOf, messageOf } from '../errors.js'
import { compareText } from '../compare-text.js'
import type { DialectName, VerificationLevel } from '../dialects/dialect.js'
import { type BackupManifest, readManifest } from './backup-manifest.js'
import { manifestNameOf, parseBackupFileName, parseTempFileName } from './backup-name.js'

/** The backup directory of a run and whether the user chose it (a chosen one must exist). */
export interface BackupDirectory {
  dir: string
  explicit: boolean
}

/**
 * `--dir` when given, else `BACKUP_DIR` / `backup.dir` (default `./backups`, relative to the
 * config file or the working directory).
 */
export function resolveBackupDirectory(config: ResolvedConfig, dir?: string): BackupDirectory {
  if (dir !== undefined) return { dir: path.resolve(config.cwd, dir), explicit: true }
  const setting = config.settings.find((s) => s.key === 'backup.dir')
  return { dir: config.backup.dir, explicit: setting !== undefined && setting.source !== 'default' }
}

/**
 * Why this configuration expects backups to exist, or undefined on a fresh development project
 * that never set them up: the backup directory exists, it or retention (`backup.keep*`,
 * `BACKUP_KEEP_*`) is configured, or the database is production (`ENV`/`NODE_ENV`, as the
 * production guard sees it) or marked protected. `health` warns about missing backups only
 * when they are expected, so the quick start is not "attention needed" before any backup job.
 */
export function whyBackupsAreExpected(config: ResolvedConfig): string | undefined {
  const where = resolveBackupDirectory(config)
  if (fs.existsSync(where.dir)) return 'the backup directory exists'
  if (where.explicit) return 'a backup directory is configured'
  const { keepLast, keepDaily, keepWeekly, keepMonthly } = config.backup
  if ([keepLast, keepDaily, keepWeekly, keepMonthly].some((keep) => keep !== undefined)) return 'retention is configured'
  if (config.production) return 'ENV/NODE_ENV is production'
  if (config.protected) return `database "${config.databaseName}" is marked protected`
  return undefined
}

/** What a file-system error code means, in words. */
const DENIED: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
}

/**
 * Makes sure backups can be written: the default directory is created (owner-only); a chosen
 * one must exist already (an unmounted backup volume must not silently become a directory on
 * the root disk). Exit 1 naming the directory otherwise: like a full disk, a directory the
 * user may not write is an operation that failed here, not a malformed setting (exit 2), and
 * retrying will not help until someone changes the directory or `--dir`.
 */
export function prepareBackupDirectory(where: BackupDirectory): void {
  const { dir } = where
  if (!fs.existsSync(dir)) {
    if (where.explicit) {
      throw new DbopsError('BACKUP_DIR_MISSING', ExitCode.failed, `Backup directory ${dir} does not exist`, {
        hint: `Create it (mkdir -p ${dir}) or check that its volume is mounted.`,
      })
    }
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      const code = errorCodeOf(err) ?? ''
      if (!(code in DENIED)) throw err
      throw new DbopsError('BACKUP_DIR_NOT_WRITABLE', ExitCode.failed, `Cannot create the backup directory ${dir}: ${DENIED[code]}`, {
        hint: `Run from a directory this user may write, create ${dir} for this user, or choose another with --dir / BACKUP_DIR.`,
        cause: err,
      })
    }
  }
  if (!fs.statSync(dir).isDirectory()) {
    throw new DbopsError('BACKUP_DIR_INVALID', ExitCode.failed, `Backup directory ${dir} is not a directory`, {
      hint: 'Choose another --dir.',
    })
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK)
  } catch (err) {
    throw new DbopsError(
      'BACKUP_DIR_NOT_WRITABLE',
      ExitCode.failed,
      `Backup directory ${dir} is not writable by this user (${errorCodeOf(err) ?? messageOf(err)})`,
      {
        hint: `Check the owner and mode of ${dir}, or choose another --dir.`,
        cause: err,
      },
    )
  }
}

/** One backup in the directory, as `backup list` shows it and `health` reads it. */
export interface BackupEntry {
  /** The backup file's name. */
  file: string
  /** Its absolute path. */
  path: string
  database: string
  dialect: DialectName | null
  /** The database it is a backup of, as `describeTarget` printed it (null without a valid manifest). */
  source: string | null
  /** Its identity (see `backup-identity.ts`); null when not recorded. */
  source_identity: string | null
  /** When the snapshot was taken (the manifest's, else the name's). */
  created_at: string
  age_seconds: number
  size_bytes: number | null
  sha256: string | null
  migration_head: string | null
  verification_level: VerificationLevel
  verified_at: string | null
  /** `ok`; `no manifest`; `manifest invalid: …`; `file missing` (a manifest without its file). */
  status: string
  /** The manifest as read, when there is a valid one. */
  manifest: BackupManifest | null
}

/**
 * Lists the backups in `dir`, newest first: every file with a backup name, and manifests whose
 * file is gone. Temporary files are not backups and are not listed. A missing directory lists
 * nothing.
 */
export function scanBackupDirectory(dir: string, now = new Date()): BackupEntry[] {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if (errorCodeOf(err) === 'ENOENT') return []
    throw new DbopsError('BACKUP_DIR_UNREADABLE', ExitCode.failed, `Cannot read backup directory ${dir}: ${messageOf(err)}`, { cause: err })
  }
  const present = new Set(names)
  const entries: BackupEntry[] = []
  for (const name of names) {
    const orphanManifest = name.endsWith('.json') && parseBackupFileName(name.slice(0, -5)) && !present.has(name.slice(0, -5))
    const file = orphanManifest ? name.slice(0, -5) : name
    const parsed = parseBackupFileName(file)
    if (!parsed || parsed.extension.endsWith('json')) continue
    const full = path.join(dir, file)
    const read = readManifest(full)
    const manifest = read.status === 'ok' ? read.manifest : null
    let size: number | null = null
    if (!orphanManifest) {
      try {
        size = fs.statSync(full).size
      } catch {
        continue // removed while we looked
      }
    }
    entries.push(
      backupEntry(
        file,
        full,
        parsed,
        manifest,
        size,
        now,
        orphanManifest
          ? 'file missing'
          : read.status === 'ok'
            ? 'ok'
            : read.status === 'missing'
              ? `no manifest (${manifestNameOf(file)})`
              : `manifest invalid: ${read.reason}`,
      ),
    )
  }
  return entries.sort((a, b) => compareText(b.created_at, a.created_at) || compareText(b.file, a.file))
}

/**
 * One backup as listed: the manifest's data when there is one (else the name's), and `status`
 * saying what is wrong. Used for the backup directory and for a remote alike.
 */
export function backupEntry(
  file: string,
  where: string,
  parsed: { database: string; createdAt: Date },
  manifest: BackupManifest | null,
  size: number | null,
  now: Date,
  status: string,
): BackupEntry {
  const createdAt = manifest ? new Date(manifest.created_at) : parsed.createdAt
  return {
    file,
    path: where,
    database: manifest?.database ?? parsed.database,
    dialect: manifest?.dialect ?? null,
    source: manifest?.source ?? null,
    source_identity: manifest?.source_identity ?? null,
    created_at: createdAt.toISOString(),
    age_seconds: Math.max(0, Math.round((now.getTime() - createdAt.getTime()) / 1000)),
    size_bytes: size,
    sha256: manifest?.sha256 ?? null,
    migration_head: manifest?.migration_head ?? null,
    verification_level: manifest?.verification.level ?? 'none',
    verified_at: manifest?.verification.verified_at ?? null,
    status,
    manifest,
  }
}

/** Whether a process with this pid runs on this machine (signal 0 probes without signalling). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errorCodeOf(err) === 'EPERM'
  }
}

/**
 * Removes the temporary files that killed runs left for `database` (a series name, see
 * `backupSeriesName`) in `dir` (data, manifests, SQLite journals and scratch copies). Call it holding the directory's lock; a file whose
 * writer is still alive (a concurrent `verify`) is left alone. Returns the names removed.
 */
export function sweepTempFiles(dir: string, database: string): string[] {
  const swept: string[] = []
  for (const name of fs.readdirSync(dir)) {
    const temp = parseTempFileName(name)
    if (!temp || temp.database !== database || isAlive(temp.pid)) continue
    try {
      fs.rmSync(path.join(dir, name), { force: true })
      swept.push(name)
    } catch {
      // left for the next run
    }
  }
  return swept
}
