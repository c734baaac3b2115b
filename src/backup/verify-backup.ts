/**
 * `backup verify`: how sure are we that a backup restores? Levels, each including the ones
 * before it: `hash` (the file's size and sha256 match its manifest), `read` (SQLite
 * `integrity_check` on the file opened read-only; `pg_restore` of the whole archive to
 * nowhere), `restore` (into a scratch database, with row counts). The level reached is
 * recorded in the manifest; a failure records `none` and the failed check, and exits 6.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connectionScope, loadDialect } from '../dialects/index.js'
import type { ConnectOptions, DialectName, VerificationLevel, VerifyCheck } from '../dialects/dialect.js'
import { IntegrityError, OperationError, UsageError, messageOf } from '../errors.js'
import { type BackupManifest, LEVELS, isLevelAtLeast, manifestPathOf, readManifest, writeManifest } from './backup-manifest.js'
import { type BackupEntry, resolveBackupDirectory, scanBackupDirectory } from './backup-directory.js'
import { type BackupOwner, resolveBackupOwner } from './backup-identity.js'
import { manifestNameOf, tempFileName } from './backup-name.js'
import { fsyncDirectory, sha256File } from './durable-file.js'

/** Which backup a command means: a name in the directory, a path to a file, or the newest of this database. */
export interface BackupSelector {
  dir?: string
  /**
   * A file name as `backup list` shows it (looked up in the backup directory), or a path to a
   * backup file as the user typed it (`backups/app-….db`, `/mnt/backups/app-….db`: anything
   * with a directory part, relative to the working directory). The manifest is read beside it.
   */
  name?: string
  /** The newest backup of the configured database (by identity, see `backup-identity.ts`). */
  latest?: boolean
  /** How to connect (the command's application name, echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  signal?: AbortSignal
}

/** A backup file that exists. */
export interface SelectedBackup {
  /** The directory holding the file and its manifest. */
  dir: string
  file: string
  path: string
}

/**
 * Finds the backup a command means. A name or path naming no file exits 2; a manifest whose
 * file is gone exits 6; `--latest` with no backup of this database exits 1, naming the newest
 * backup of another database with the same name if there is one. A path is the user's own
 * choice, so it may lead anywhere (`..` included): what it reaches is checked against the
 * manifest beside it like any backup. `--latest` is the newest backup whose manifest records
 * this database's identity, or the newest file carrying this database's name tag whatever its
 * manifest says (so a broken newest backup fails its manifest check instead of being passed
 * over). PostgreSQL connects for `--latest`, to read the identity.
 */
export async function selectBackup(config: ResolvedConfig, selector: BackupSelector): Promise<SelectedBackup> {
  const { dir } = resolveBackupDirectory(config, selector.dir)
  if (selector.name !== undefined && selector.latest) throw new UsageError('Give a backup name or --latest, not both')
  if (selector.name !== undefined) {
    const given = selector.name.endsWith('.json') ? selector.name.slice(0, -5) : selector.name
    const asPath = isBackupPath(given)
    const full = asPath ? path.resolve(config.cwd, given) : path.join(dir, given)
    const where = asPath ? path.dirname(full) : dir
    const file = path.basename(full)
    if (!isFile(full)) {
      if (isFile(manifestPathOf(full))) {
        throw new IntegrityError(
          'BACKUP_FILE_MISSING',
          `Backup ${file} failed the file check: its manifest is in ${where} but the file is gone`,
          {
            hint: 'Restore the file from wherever backups are copied to, or remove the stale manifest.',
          },
        )
      }
      throw new UsageError(
        asPath ? `No backup file at ${given}${isDirectory(full) ? ': it is a directory' : ''}` : `No backup named ${given} in ${dir}`,
        {
          code: 'BACKUP_NOT_FOUND',
          hint: 'Give a backup file as `dbops backup list` shows it (in the backup directory, see --dir), or a path to one.',
        },
      )
    }
    return { dir: where, file, path: full }
  }
  if (!selector.latest)
    throw new UsageError('Which backup? Give its name (see `dbops backup list`) or --latest', {
      code: 'BACKUP_NOT_CHOSEN',
    })
  const owner = await resolveBackupOwner(config, { signal: selector.signal, connect: selector.connect })
  const entries = scanBackupDirectory(dir).filter((b) => b.size_bytes !== null)
  const newest = entries.find((b) => owner.owns(b) || (b.manifest === null && owner.isNamedAsOwn(b)))
  if (!newest) {
    throw new OperationError('BACKUP_NONE', `No backup of ${describeTarget(config.target)} in ${dir}`, {
      hint: otherDatabasesHint(entries, owner) ?? 'Run `dbops backup create` first (or check --dir).',
    })
  }
  return { dir, file: newest.file, path: newest.path }
}

/**
 * Where scratch files for work on a backup go: beside it, where they are swept like any
 * temporary of its series; in the system's temporary directory when that directory cannot be
 * written (a backup read from a read-only mount must still verify and restore).
 */
export function scratchPathFor(selected: SelectedBackup): (tag: string) => string {
  let dir = selected.dir
  try {
    fs.accessSync(dir, fs.constants.W_OK)
  } catch {
    dir = os.tmpdir()
  }
  return (tag) => path.join(dir, tempFileName(selected.file, process.pid, tag))
}

/** A name with a directory part (or `.` / `..`) is a path the user typed, not a name in the backup directory. */
function isBackupPath(name: string): boolean {
  return name.includes('/') || name.includes(path.sep) || name === '.' || name === '..'
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory()
  } catch {
    return false
  }
}

/** Names the newest backup of another database with the same name, which `--latest` passed over. */
function otherDatabasesHint(entries: BackupEntry[], owner: BackupOwner): string | undefined {
  const others = entries.filter((b) => b.manifest !== null && b.dialect === owner.dialect && b.manifest.database === owner.database)
  const newest = others[0]
  if (!newest) return undefined
  const whose = owner.identityOf(newest) === undefined ? 'its source was not recorded' : `a backup of ${newest.source}`
  return (
    `${others.length} backup(s) of other databases named "${owner.database}" are there, the newest ${newest.file} (${whose}). ` +
    'If that is the one, give its name (and --from-other-database to restore it over data).'
  )
}

/** Options of {@link verifyBackup}. */
export interface VerifyOptions extends BackupSelector {
  /** Default `read`. */
  level?: Exclude<VerificationLevel, 'none'>
  signal?: AbortSignal
  onNote?: (text: string) => void
  /** When the result cannot be recorded in the manifest (a read-only directory). */
  onWarning?: (text: string) => void
}

/** What {@link verifyBackup} found; the `--json` document of `backup verify`. */
export interface VerifyResult {
  file: string
  path: string
  database: string
  dialect: DialectName
  level_requested: Exclude<VerificationLevel, 'none'>
  /** The level now recorded in the manifest (a higher one from before stays when the hash still matches). */
  verification_level: VerificationLevel
  checks: VerifyCheck[]
  row_counts: Record<string, number> | null
  verified_at: string
}

/**
 * Verifies a backup to `level` and records the outcome in its manifest. Throws
 * {@link IntegrityError} (exit 6) naming the failed check: `manifest` (missing or invalid),
 * `size`, `sha256`, `integrity_check`, `pg_restore_read`, `restore`.
 *
 * @example await verifyBackup(config, { latest: true, level: 'restore' })
 */
export async function verifyBackup(config: ResolvedConfig, options: VerifyOptions): Promise<VerifyResult> {
  const selected = await selectBackup(config, options)
  const level = options.level ?? 'read'
  const manifest = loadManifestOrFail(selected)
  const checks: VerifyCheck[] = []

  const size = fs.statSync(selected.path).size
  checks.push(
    size === manifest.size_bytes
      ? { name: 'size', ok: true, detail: `${size} bytes` }
      : {
          name: 'size',
          ok: false,
          detail: `the file has ${size} bytes, the manifest says ${manifest.size_bytes}`,
        },
  )
  const hashing = sha256File(selected.path).then(
    (sha): VerifyCheck =>
      sha === manifest.sha256
        ? { name: 'sha256', ok: true, detail: 'matches the manifest' }
        : {
            name: 'sha256',
            ok: false,
            detail: `expected ${manifest.sha256.slice(0, 16)}…, the file has ${sha.slice(0, 16)}…`,
          },
    (err: unknown): VerifyCheck => ({
      name: 'sha256',
      ok: false,
      detail: `cannot read the file: ${messageOf(err)}`,
    }),
  )
  let rowCounts: Record<string, number> | undefined
  const deeper: VerifyCheck[] = []
  if (level !== 'hash' && checks[0]!.ok) {
    const dialect = await loadDialect(manifest.dialect)
    const scope = connectionScope(config, { command: 'backup verify', signal: options.signal, ...options.connect, mode: 'read' })
    const outcome = await dialect.verifyBackup(scope, {
      file: selected.path,
      level,
      toolVersion: manifest.tool_version ?? undefined,
      scratchPath: scratchPathFor(selected),
      signal: options.signal,
      onNote: options.onNote,
    })
    deeper.push(...outcome.checks)
    rowCounts = outcome.rowCounts
  }
  checks.push(await hashing, ...deeper)

  const failed = checks.find((c) => !c.ok)
  const verifiedAt = new Date().toISOString()
  const previous = manifest.verification.level
  const reached: VerificationLevel = failed ? 'none' : isLevelAtLeast(previous, level) ? previous : level
  manifest.verification = {
    level: reached,
    verified_at: verifiedAt,
    checks,
    ...(failed ? { failed_check: failed.name } : {}),
    ...(rowCounts
      ? { row_counts: rowCounts }
      : failed || !manifest.verification.row_counts
        ? {}
        : { row_counts: manifest.verification.row_counts }),
  }
  try {
    writeManifest(selected.path, manifest)
    fsyncDirectory(selected.dir)
  } catch (err) {
    options.onWarning?.(`could not record the verification in ${manifestNameOf(selected.file)}: ${messageOf(err)}`)
  }
  if (failed) {
    throw new IntegrityError(
      'BACKUP_CORRUPT',
      `Backup ${selected.file} failed verification at the ${failed.name} check: ${failed.detail}`,
      {
        hint: 'Do not restore it. Make a new backup (`dbops backup create`) and check the storage it sits on.',
      },
    )
  }
  return {
    file: selected.file,
    path: selected.path,
    database: manifest.database,
    dialect: manifest.dialect,
    level_requested: level,
    verification_level: reached,
    checks,
    row_counts: rowCounts ?? null,
    verified_at: verifiedAt,
  }
}

/** The manifest of a selected backup; missing or invalid is an integrity failure (exit 6) at the `manifest` check. */
export function loadManifestOrFail(selected: SelectedBackup): BackupManifest {
  const read = readManifest(selected.path)
  if (read.status === 'missing') {
    throw new IntegrityError(
      'BACKUP_MANIFEST_MISSING',
      `Backup ${selected.file} failed the manifest check: ${manifestNameOf(selected.file)} is missing, so its sha256 cannot be checked`,
      {
        hint: 'A backup without its manifest was never finished or lost its record; do not trust it. Make a new backup.',
      },
    )
  }
  if (read.status === 'invalid' || read.manifest.file !== selected.file) {
    const reason = read.status === 'invalid' ? read.reason : `it describes ${read.manifest.file}`
    throw new IntegrityError(
      'BACKUP_MANIFEST_INVALID',
      `Backup ${selected.file} failed the manifest check: ${manifestNameOf(selected.file)} is not valid (${reason})`,
      {
        hint: 'Do not trust this backup. Make a new one.',
      },
    )
  }
  if (!LEVELS.includes(read.manifest.verification.level)) read.manifest.verification.level = 'none'
  return read.manifest
}
