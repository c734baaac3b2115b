/**
 * `backup prune`: the retention rules alone (see `retention.ts`), for the configured database's
 * backups in the backup directory — its backups by identity (see `backup-identity.ts`), never
 * another database's that happens to have the same name. `backup create` applies the same
 * rules after a successful backup.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { type BackupEntry, prepareBackupDirectory, resolveBackupDirectory, scanBackupDirectory } from './backup-directory.js'
import { type BackupOwner, resolveBackupOwner } from './backup-identity.js'
import { isLevelAtLeast, manifestPathOf } from './backup-manifest.js'
import { acquireDirectoryLock } from './directory-lock.js'
import { fsyncDirectory, removeQuietly } from './durable-file.js'
import { type RetentionDecision, type RetentionPolicy, hasRetentionRules, planRetention } from './retention.js'

/** What retention did (or, with `dryRun`, would do); the `--json` document of `backup prune`. */
export interface PruneResult {
  dir: string
  database: string
  /** The identity of the database whose backups these are. */
  source_identity: string
  dry_run: boolean
  /** The rules applied. */
  policy: {
    keep_last: number | null
    keep_daily: number | null
    keep_weekly: number | null
    keep_monthly: number | null
  }
  kept: Array<{ file: string; reasons: string[] }>
  deleted: Array<{ file: string; reasons: string[] }>
  /**
   * Backups left alone because it cannot be told whether they are this database's: its own
   * name with a missing or invalid manifest, or its database name with no recorded source.
   */
  skipped: Array<{ file: string; reason: string }>
}

/** Options of {@link pruneBackups}. */
export interface PruneOptions {
  dir?: string
  /** Rules; each unset one falls back to the config's `backup.keep*`. */
  retention?: RetentionPolicy
  dryRun?: boolean
  /** Confirms deletion when the production guard applies. */
  yes?: boolean
  lockTimeoutMs?: number
  /** How to connect (the command's application name, echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  signal?: AbortSignal
  /** A backup left alone whose manifest is missing or invalid (someone should look at it). */
  onWarning?: (text: string) => void
}

/**
 * Applies the retention rules to `owner`'s backups in `dir` (the caller holds the directory
 * lock). Only backups whose manifest is valid and records (or implies) `owner`'s identity take
 * part; the others are left alone, and those that may be `owner`'s are reported in `skipped`
 * (`onWarning` for a broken manifest). Deletes the file, then its manifest, then fsyncs the directory.
 */
export function applyRetention(
  dir: string,
  owner: BackupOwner,
  policy: RetentionPolicy,
  options: { dryRun: boolean; onWarning?: ((text: string) => void) | undefined },
): PruneResult {
  const entries = scanBackupDirectory(dir).filter((b) => b.size_bytes !== null)
  const backups = entries.filter((b) => owner.owns(b))
  const skipped = entries.flatMap((b) => {
    const reason = skipReason(b, owner)
    return reason === undefined ? [] : [{ file: b.file, reason }]
  })
  for (const s of skipped.filter((s) => !s.reason.startsWith('its source'))) {
    options.onWarning?.(`retention left ${s.file} alone: ${s.reason}`)
  }
  const decisions: RetentionDecision[] = planRetention(
    backups.map((b) => ({
      file: b.file,
      database: owner.identity,
      createdAt: new Date(b.created_at),
      verified: isLevelAtLeast(b.verification_level, 'hash'),
    })),
    policy,
  )
  const kept = decisions.filter((d) => d.action === 'keep').map((d) => ({ file: d.file, reasons: d.reasons }))
  const deleted = decisions.filter((d) => d.action === 'delete').map((d) => ({ file: d.file, reasons: d.reasons }))
  if (!options.dryRun && deleted.length > 0) {
    for (const d of deleted) {
      const file = path.join(dir, d.file)
      removeQuietly(file, manifestPathOf(file))
    }
    fsyncDirectory(dir)
  }
  return {
    dir,
    database: owner.database,
    source_identity: owner.identity,
    dry_run: options.dryRun,
    policy: {
      keep_last: policy.keepLast ?? null,
      keep_daily: policy.keepDaily ?? null,
      keep_weekly: policy.keepWeekly ?? null,
      keep_monthly: policy.keepMonthly ?? null,
    },
    kept,
    deleted,
    skipped,
  }
}

/** Why a backup that may be `owner`'s is left alone; undefined for its own and for other databases'. */
function skipReason(b: BackupEntry, owner: BackupOwner): string | undefined {
  if (owner.owns(b)) return undefined
  if (b.manifest === null) return owner.isNamedAsOwn(b) ? b.status : undefined
  if (b.manifest.database === owner.database && b.dialect === owner.dialect && owner.identityOf(b) === undefined) {
    return 'its source was not recorded (made by an older dbops): delete it by hand when it is no longer needed'
  }
  return undefined
}

/** The retention rules of a run: each rule given, else the config's `backup.keep*`. */
export function retentionPolicyOf(config: ResolvedConfig, given: RetentionPolicy | undefined): RetentionPolicy {
  return {
    keepLast: given?.keepLast ?? config.backup.keepLast,
    keepDaily: given?.keepDaily ?? config.backup.keepDaily,
    keepWeekly: given?.keepWeekly ?? config.backup.keepWeekly,
    keepMonthly: given?.keepMonthly ?? config.backup.keepMonthly,
  }
}

/**
 * `backup prune`: retention without a new backup. Guarded in production (`--yes`) unless
 * `dryRun`; takes the directory lock (exit 5 while a backup of the database runs). With no
 * rule configured, deletes nothing. PostgreSQL connects, to read the database's identity.
 */
export async function pruneBackups(config: ResolvedConfig, options: PruneOptions = {}): Promise<PruneResult> {
  const where = resolveBackupDirectory(config, options.dir)
  const policy = retentionPolicyOf(config, options.retention)
  const dryRun = options.dryRun ?? false
  if (!dryRun && hasRetentionRules(policy)) assertDestructiveAllowed(config, { yes: options.yes ?? false, action: 'prune backups' })
  const owner = await resolveBackupOwner(config, { signal: options.signal, connect: options.connect })
  const retain = { dryRun, onWarning: options.onWarning }
  // nothing to delete in a directory that does not exist; never create one to prune it
  if (dryRun || !fs.existsSync(where.dir)) return applyRetention(where.dir, owner, policy, retain)
  prepareBackupDirectory(where)
  const lock = await acquireDirectoryLock(
    where.dir,
    owner.series,
    { timeoutMs: options.lockTimeoutMs ?? 0, signal: options.signal },
    owner.database,
  )
  try {
    return applyRetention(where.dir, owner, policy, retain)
  } finally {
    await lock.release()
  }
}
