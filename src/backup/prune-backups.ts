/**
 * `backup prune`: the retention rules alone (see `retention.ts`), for the configured database's
 * backups in the backup directory. `backup create` applies the same rules after a successful
 * backup.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { prepareBackupDirectory, resolveBackupDirectory, scanBackupDirectory } from './backup-directory.js'
import { isLevelAtLeast, manifestPathOf } from './backup-manifest.js'
import { backupDatabaseName } from './backup-name.js'
import { acquireDirectoryLock } from './directory-lock.js'
import { fsyncDirectory, removeQuietly } from './durable-file.js'
import { type RetentionDecision, type RetentionPolicy, hasRetentionRules, planRetention } from './retention.js'

/** What retention did (or, with `dryRun`, would do); the `--json` document of `backup prune`. */
export interface PruneResult {
  dir: string
  database: string
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
  signal?: AbortSignal
}

/**
 * Applies the retention rules to the configured database's backups in `dir` (the caller holds
 * the directory lock). Only backups with a valid manifest take part; files without one are
 * left alone. Deletes the file, then its manifest, then fsyncs the directory.
 */
export function applyRetention(dir: string, database: string, policy: RetentionPolicy, options: { dryRun: boolean }): PruneResult {
  const backups = scanBackupDirectory(dir).filter((b) => b.database === database && b.manifest !== null && b.size_bytes !== null)
  const decisions: RetentionDecision[] = planRetention(
    backups.map((b) => ({
      file: b.file,
      database: b.database,
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
    database,
    dry_run: options.dryRun,
    policy: {
      keep_last: policy.keepLast ?? null,
      keep_daily: policy.keepDaily ?? null,
      keep_weekly: policy.keepWeekly ?? null,
      keep_monthly: policy.keepMonthly ?? null,
    },
    kept,
    deleted,
  }
}

/**
 * `backup prune`: retention without a new backup. Guarded in production (`--yes`) unless
 * `dryRun`; takes the directory lock (exit 5 while a backup of the database runs). With no
 * rule configured, deletes nothing.
 */
export async function pruneBackups(config: ResolvedConfig, options: PruneOptions = {}): Promise<PruneResult> {
  const where = resolveBackupDirectory(config, options.dir)
  const database = backupDatabaseName(config)
  const policy: RetentionPolicy = {
    keepLast: options.retention?.keepLast ?? config.backup.keepLast,
    keepDaily: options.retention?.keepDaily ?? config.backup.keepDaily,
    keepWeekly: options.retention?.keepWeekly ?? config.backup.keepWeekly,
    keepMonthly: options.retention?.keepMonthly ?? config.backup.keepMonthly,
  }
  const dryRun = options.dryRun ?? false
  if (!dryRun && hasRetentionRules(policy)) assertDestructiveAllowed(config, { yes: options.yes ?? false, action: 'prune backups' })
  // nothing to delete in a directory that does not exist; never create one to prune it
  if (dryRun || !fs.existsSync(where.dir)) return applyRetention(where.dir, database, policy, { dryRun })
  prepareBackupDirectory(where)
  const lock = await acquireDirectoryLock(where.dir, database, {
    timeoutMs: options.lockTimeoutMs ?? 0,
    signal: options.signal,
  })
  try {
    return applyRetention(where.dir, database, policy, { dryRun })
  } finally {
    await lock.release()
  }
}
