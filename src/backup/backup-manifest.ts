/**
 * The manifest beside every backup (`<backup>.json`): what was copied, from where, by which
 * tool, its size and sha256, the migration head as of the snapshot, and how far it has been
 * verified. Written after the data file is durable and renamed, through a temporary name, so
 * a manifest always describes a complete file. Keys are snake_case, like every dbops JSON.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { DialectName, VerificationLevel, VerifyCheck } from '../dialects/dialect.js'
import { isDialectName } from '../dialects/index.js'
import { errorCodeOf, messageOf } from '../errors.js'
import { manifestNameOf, tempFileName } from './backup-name.js'
import { writeFileAtomically } from './durable-file.js'

/** Version of the manifest format; bumped on incompatible changes. */
export const MANIFEST_FORMAT = 1

/** How far a backup has been verified, and what the checks said. */
export interface ManifestVerification {
  /** The highest level passed by the file as it is (`none` after a failure). */
  level: VerificationLevel
  verified_at: string | null
  checks: VerifyCheck[]
  /** The check that failed last time, if the last verification failed. */
  failed_check?: string
  /** Rows per table found by the last restore-level verification. */
  row_counts?: Record<string, number>
}

/** The manifest of one backup. */
export interface BackupManifest {
  format: number
  /** The backup file's name (in the same directory). */
  file: string
  /** The database part of the name (see `backupDatabaseName`). */
  database: string
  dialect: DialectName
  /** The source, as `describeTarget` prints it (never a password). */
  source: string
  /**
   * Which database this is a backup of (see `backup-identity.ts`); absent in manifests of
   * dbops versions before identities.
   */
  source_identity?: string
  server_version: string
  /** `sqlite-backup-api` or `pg_dump`. */
  tool: string
  tool_version: string | null
  size_bytes: number
  sha256: string
  compression: 'gzip' | null
  /** When the snapshot was taken (UTC, ISO 8601). */
  created_at: string
  duration_ms: number
  dbops_version: string
  /** The latest applied migration in the snapshot itself; null without `dbops_migrations`. */
  migration_head: string | null
  /** Times the SQLite copy started over because a writer changed the source. */
  restarts: number
  /** Why the backup was made, when not by `backup create` (`safety backup before restore`). */
  reason?: string
  verification: ManifestVerification
}

/** Order of {@link VerificationLevel}s, weakest first. */
export const LEVELS: readonly VerificationLevel[] = ['none', 'hash', 'read', 'restore']

/** Whether `level` is at least `minimum`. */
export function isLevelAtLeast(level: VerificationLevel, minimum: VerificationLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(minimum)
}

/** The manifest's path for a backup file's path. */
export function manifestPathOf(file: string): string {
  return path.join(path.dirname(file), manifestNameOf(path.basename(file)))
}

/** What reading a manifest found. */
export type ManifestRead = { status: 'ok'; manifest: BackupManifest } | { status: 'missing' } | { status: 'invalid'; reason: string }

/** Reads and validates the manifest of the backup at `file`. Never throws. */
export function readManifest(file: string): ManifestRead {
  let text: string
  try {
    text = fs.readFileSync(manifestPathOf(file), 'utf8')
  } catch (err) {
    if (errorCodeOf(err) === 'ENOENT') return { status: 'missing' }
    return { status: 'invalid', reason: messageOf(err) }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { status: 'invalid', reason: `not JSON (${messageOf(err)})` }
  }
  const problem = manifestProblem(value)
  return problem ? { status: 'invalid', reason: problem } : { status: 'ok', manifest: value as BackupManifest }
}

function manifestProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object'
  const m = value as Record<string, unknown>
  if (typeof m.format !== 'number' || m.format > MANIFEST_FORMAT) return `unknown format ${String(m.format)}`
  for (const key of ['file', 'database', 'dialect', 'sha256', 'created_at'] as const) {
    if (typeof m[key] !== 'string') return `"${key}" is missing`
  }
  if (!/^[0-9a-f]{64}$/.test(m.sha256 as string)) return '"sha256" is not a sha256'
  if (Number.isNaN(Date.parse(m.created_at as string))) return `"created_at" is not a time (${JSON.stringify(m.created_at).slice(0, 40)})`
  if (m.source_identity !== undefined && typeof m.source_identity !== 'string') return '"source_identity" is not a string'
  if (typeof m.size_bytes !== 'number') return '"size_bytes" is missing'
  if (!isDialectName(m.dialect)) return `unknown dialect ${String(m.dialect)}`
  const verification = m.verification as Record<string, unknown> | undefined
  if (typeof verification !== 'object' || verification === null || !LEVELS.includes(verification.level as VerificationLevel)) {
    return '"verification.level" is missing'
  }
  return undefined
}

/**
 * Writes the manifest of the backup at `file` atomically (temporary name, fsync, rename).
 * The caller fsyncs the directory.
 */
export function writeManifest(file: string, manifest: BackupManifest): void {
  writeFileAtomically(
    manifestPathOf(file),
    `${JSON.stringify(manifest, null, 2)}\n`,
    tempFileName(manifestNameOf(path.basename(file)), process.pid),
  )
}
