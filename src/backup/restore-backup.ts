/**
 * `backup restore`: puts a backup back. By default into a NEW database beside the configured
 * one (nothing is overwritten, and the operator swaps it in); `--in-place` restores over the
 * configured database, `--target-url` into any database (created when missing).
 *
 * Before anything changes: the backup's size and sha256 must match its manifest (exit 6
 * otherwise), the production guard must allow it (`--yes`), a target that holds data must be
 * the database the backup was taken of (its identity, see `backup-identity.ts`) unless
 * `fromOtherDatabase` says otherwise (exit 2), and it gets a safety backup first (a normal
 * backup, manifest and all, in the backup directory). A warning says when the backup's
 * migration head differs from the migrations directory's latest.
 */
import fs from 'node:fs'
import path from 'node:path'
import { type DatabaseTarget, describeTarget, formatTargetUrl, parseDatabaseUrl } from '../config/database-url.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { registerSecret } from '../config/redact.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connectionScope, loadDialect } from '../dialects/index.js'
import { IntegrityError, UsageError } from '../errors.js'
import type { BackupManifest } from './backup-manifest.js'
import { createBackup } from './create-backup.js'
import { sha256File } from './durable-file.js'
import { latestMigrationVersion } from './latest-migration-file.js'
import { type BackupSelector, loadManifestOrFail, scratchPathFor, selectBackup } from './verify-backup.js'

/** Options of {@link restoreBackup}. */
export interface RestoreOptions extends BackupSelector {
  /** Restore into this database (created when missing). */
  targetUrl?: string
  /** Restore over the configured database itself. */
  inPlace?: boolean
  /** `pg_restore --no-owner`: objects belong to the restoring user. */
  noOwner?: boolean
  /** Allows replacing a database's data with a backup of another database (or of an unknown one). */
  fromOtherDatabase?: boolean
  /**
   * Seconds a statement of the restore waits for a lock another session holds (PostgreSQL's
   * `lock_timeout`; default 5), then exit 5 naming the holder.
   */
  lockTimeoutSeconds?: number
  /** Confirms the restore when the production guard applies. */
  yes?: boolean
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  onNote?: (text: string) => void
  onWarning?: (text: string) => void
}

/** What {@link restoreBackup} did; the `--json` document of `backup restore`. */
export interface RestoreResult {
  file: string
  /** The database the backup was taken of, as its manifest describes it. */
  source: string
  /** Its identity; null for a backup made before identities were recorded. */
  source_identity: string | null
  /** The database restored into, described without its password. */
  target: string
  target_url: string
  created: boolean
  replaced: boolean
  /** The safety backup made of the target before it was replaced. */
  safety_backup: string | null
  /** Tables of the target that the backup does not hold, left as they were (PostgreSQL in place). */
  tables_not_in_backup: string[]
  migration_head: string | null
  /** The latest migration in the migrations directory (undefined without one). */
  latest_migration: string | null
  duration_ms: number
  warnings: string[]
}

/** How long the restore's statements wait for a lock by default: the migrations' statement lock timeout. */
const DEFAULT_LOCK_TIMEOUT_SECONDS = 5

/**
 * Restores a backup. Exit 6 when the file does not match its manifest; 2 when refused by the
 * production guard, for a bad name, a target of the other dialect, or a target holding data
 * that is not the backup's source (without `fromOtherDatabase`); 5 when a lock held by another
 * session outlasts `lockTimeoutSeconds`; 1 when the restore fails (a new database is dropped
 * again; an in-place PostgreSQL restore is rolled back).
 *
 * @example await restoreBackup(config, { latest: true }) // into app_restored_20250101_030000
 */
export async function restoreBackup(config: ResolvedConfig, options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now()
  const warnings: string[] = []
  const warn = (text: string) => {
    warnings.push(text)
    options.onWarning?.(text)
  }
  if (options.inPlace && options.targetUrl !== undefined) throw new UsageError('Give --in-place or --target-url, not both')
  const selected = await selectBackup(config, options)
  const manifest = loadManifestOrFail(selected)

  let target: DatabaseTarget | undefined
  if (options.targetUrl !== undefined) {
    target = parseDatabaseUrl(options.targetUrl, { key: '--target-url', cwd: config.cwd })
    if ('password' in target) registerSecret(target.password)
  } else if (options.inPlace) {
    target = config.target
  }
  const dialectOfTarget = (target ?? config.target).dialect
  if (dialectOfTarget !== manifest.dialect) {
    throw new UsageError(
      `${selected.file} is a ${manifest.dialect} backup; it cannot be restored into ${describeTarget(target ?? config.target)}`,
      {
        code: 'RESTORE_DIALECT_MISMATCH',
        hint: 'Point --url / --target-url at a database of the same kind.',
      },
    )
  }
  assertDestructiveAllowed(config, {
    yes: options.yes ?? false,
    action: `restore ${selected.file}`,
  })

  if (fs.statSync(selected.path).size !== manifest.size_bytes || (await sha256File(selected.path)) !== manifest.sha256) {
    throw new IntegrityError(
      'BACKUP_CORRUPT',
      `Backup ${selected.file} failed the sha256 check: it does not match its manifest, so it was not restored`,
      {
        hint: 'Restore an older backup (see `dbops backup list`), and check the storage this one sits on.',
      },
    )
  }

  const latest = latestMigrationVersion(config.migrationsDir)
  if (latest !== undefined && (manifest.migration_head ?? undefined) !== latest) {
    warn(
      `the backup's migration head is ${manifest.migration_head ?? 'none'} but the latest migration in ${path.relative(config.cwd, config.migrationsDir) || '.'} is ${latest}; ` +
        'run `dbops migrate status` against the restored database',
    )
  }

  let safety: string | null = null
  const dialect = await loadDialect(manifest.dialect)
  const sourceIdentity = manifest.source_identity ?? dialect.identityOfRecordedSource(manifest.source)
  const scope = connectionScope(config, { command: 'backup restore', signal: options.signal, ...options.connect, mode: 'read' })
  const outcome = await dialect.restoreBackup(scope, {
    file: selected.path,
    target,
    noOwner: options.noOwner ?? false,
    lockTimeoutMs: (options.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS) * 1000,
    toolVersion: manifest.tool_version ?? undefined,
    scratchPath: scratchPathFor(selected),
    signal: options.signal,
    onProgress: options.onProgress,
    onNote: options.onNote,
    beforeReplace: async (replaced, identity) => {
      if (!options.fromOtherDatabase) assertSameSource(selected.file, manifest, sourceIdentity, replaced, identity)
      const sameAsConfigured = describeTarget(replaced) === describeTarget(config.target)
      const safetyConfig: ResolvedConfig = {
        ...config,
        target: replaced,
        databaseName: sameAsConfigured ? config.databaseName : 'default',
      }
      options.onNote?.(`safety backup of ${describeTarget(replaced)} first`)
      // into the backup directory, wherever the restored file was read from
      const backup = await createBackup(safetyConfig, {
        dir: options.dir,
        skipRetention: true,
        reason: `safety backup before restoring ${selected.file}`,
        connect: options.connect,
        signal: options.signal,
        onNote: options.onNote,
        onWarning: warn,
      })
      safety = backup.file
    },
  })
  return {
    file: selected.file,
    source: manifest.source,
    source_identity: sourceIdentity ?? null,
    target: describeTarget(outcome.target),
    // the URL names no password at all, not even masked
    target_url: formatTargetUrl('password' in outcome.target ? { ...outcome.target, password: undefined } : outcome.target),
    created: outcome.created,
    replaced: outcome.replaced,
    safety_backup: safety,
    tables_not_in_backup: outcome.tablesNotInBackup,
    migration_head: manifest.migration_head,
    latest_migration: latest ?? null,
    duration_ms: Math.round(performance.now() - started),
    warnings,
  }
}

/**
 * Refuses (exit 2) to replace the data of `target` (identity `targetIdentity`) with a backup
 * of another database, or of one whose source was not recorded.
 */
function assertSameSource(
  file: string,
  manifest: BackupManifest,
  sourceIdentity: string | undefined,
  target: DatabaseTarget,
  targetIdentity: string,
): void {
  if (sourceIdentity === targetIdentity) return
  const message =
    sourceIdentity === undefined
      ? `${file} cannot be shown to be a backup of ${describeTarget(target)}: its source was not recorded (made by an older dbops; it says "${manifest.source}")`
      : `${file} is a backup of ${manifest.source}, not of ${describeTarget(target)}: restoring it would replace that database's data with another database's`
  throw new UsageError(message, {
    code: 'RESTORE_OTHER_DATABASE',
    hint: `Pass --from-other-database if you mean it (a safety backup of ${describeTarget(target)} is made first), or restore into a new database (without --in-place / --target-url).`,
  })
}
