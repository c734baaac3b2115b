/**
 * The off-site steps of the backup commands: ship a new backup to the remote (and with
 * `remoteOnly` drop the local copy once the upload is checked), list, verify, restore and
 * prune there. Each works through the same manifest, verification, restore and retention code
 * as local backups: a remote backup is downloaded (checked) into the backup directory and
 * handled there.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { RemoteSettings } from '../config/backup-remote-settings.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, IntegrityError, UsageError } from '../errors.js'
import { resolveBackupOwner } from './backup-identity.js'
import { isLevelAtLeast, manifestPathOf, readManifest } from './backup-manifest.js'
import { manifestNameOf } from './backup-name.js'
import { removeQuietly } from './durable-file.js'
import { type PruneResult, retentionPolicyOf } from './prune-backups.js'
import {
  type RemoteEntry,
  type RemoteManifest,
  type RemoteRecord,
  checkRemoteHash,
  chooseRemoteBackup,
  fetchRemoteBackup,
  listRemoteBackups,
  uploadBackup,
  withRemote,
} from './remote-backup.js'
import { type RestoreOptions, type RestoreResult, restoreBackup } from './restore-backup.js'
import { type RetentionPolicy, hasRetentionRules, planRetention } from './retention.js'
import { type VerifyOptions, type VerifyResult, verifyBackup } from './verify-backup.js'
import type { ConnectOptions, DbConnection } from '../dialects/dialect.js'

/** What shipping a backup did; the `remote` part of `backup create --json`. */
export interface ShipResult extends RemoteRecord {
  /** The name on the remote (`….age` when encrypted). */
  file: string
  encrypted: boolean
  /** Milliseconds of the transfer, encryption included. */
  upload_ms: number
  /** Milliseconds of reading the object back to check it (0 when the server checked it). */
  read_back_ms: number
  /** The local copy was deleted after the checked upload (`--remote-only`). */
  local_deleted: boolean
}

/**
 * Uploads the finished local backup at `file` (data, then manifest). On any failure the local
 * backup stays and the error's hint says so. `remoteOnly` deletes the local copy after the
 * upload's bytes were checked.
 */
export async function shipBackup(
  config: ResolvedConfig,
  settings: RemoteSettings,
  file: string,
  options: { remoteOnly?: boolean; signal?: AbortSignal } = {},
): Promise<ShipResult> {
  const read = readManifest(file)
  if (read.status !== 'ok') throw new UsageError(`${path.basename(file)} has no valid manifest to upload`)
  const recipients = config.backup.offsite.recipients
  if (config.backup.offsite.encryptionRequired && recipients.length === 0) {
    throw new UsageError(`${path.basename(file)} would leave the machine unencrypted, and backup.encrypt.required refuses that`, {
      code: 'BACKUP_NOT_ENCRYPTED',
      hint: 'Set backup.encrypt.recipients (age public keys) so that backups are encrypted before they leave the machine.',
    })
  }
  const record = await withRemote(settings, async (store) => {
    try {
      return await uploadBackup(store, file, read.manifest, recipients, options.signal)
    } catch (err) {
      if (err instanceof DbopsError && !(options.signal?.aborted ?? false)) {
        throw new DbopsError(err.code, err.exitCode, err.message, {
          hint: `${err.hint ?? ''} The local backup ${path.basename(file)} is kept.`.trim(),
          cause: err.cause,
        })
      }
      throw err
    }
  })
  if (options.remoteOnly) removeQuietly(file, manifestPathOf(file))
  return { ...record, local_deleted: options.remoteOnly ?? false }
}

/** The `--json` document of `backup list --remote`. */
export interface RemoteListResult {
  remote: string
  backups: Array<Omit<RemoteEntry, 'manifest'>>
}

/** The backups on the remote (incomplete uploads included, marked). */
export async function listOffsite(settings: RemoteSettings, signal?: AbortSignal): Promise<RemoteListResult> {
  return withRemote(settings, async (store) => ({
    remote: store.urlOf('').replace(/\/$/, ''),
    backups: (await listRemoteBackups(store, signal)).map(({ manifest: _m, ...rest }) => rest),
  }))
}

/** Which remote backup: a name or `s3://…` URL, or the newest of the configured database. */
async function pick(
  config: ResolvedConfig,
  entries: RemoteEntry[],
  where: string,
  options: {
    name?: string | undefined
    latest?: boolean | undefined
    signal?: AbortSignal | undefined
    connect?: Partial<Omit<ConnectOptions, 'mode'>> | undefined
  },
): Promise<RemoteEntry> {
  if (options.name !== undefined && options.latest) throw new UsageError('Give a backup name or --latest, not both')
  if (options.name === undefined && !options.latest) {
    throw new UsageError('Which backup? Give its name (see `dbops backup list --remote`) or --latest', { code: 'BACKUP_NOT_CHOSEN' })
  }
  const owner = options.latest ? await resolveBackupOwner(config, { signal: options.signal, connect: options.connect }) : undefined
  return chooseRemoteBackup(entries, { name: options.name, owner }, where)
}

/**
 * Verifies a remote backup to `level`: downloaded (unchecked) into a scratch directory,
 * verified there as any local backup, and the outcome recorded in the manifest on the remote
 * (a failure too, exit 6). A `restore`-level run is the restore drill.
 */
export async function verifyOffsite(
  config: ResolvedConfig,
  settings: RemoteSettings,
  options: VerifyOptions,
): Promise<VerifyResult & { remote: string }> {
  return withRemote(settings, async (store) => {
    const where = store.urlOf('').replace(/\/$/, '')
    const entries = await listRemoteBackups(store, options.signal)
    const entry = await pick(config, entries, where, options)
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-verify-'))
    const stored = entry.manifest as RemoteManifest | null
    const record = async (verification: RemoteManifest['verification']) => {
      if (!stored) return
      await store.putText(manifestNameOf(entry.file), `${JSON.stringify({ ...stored, verification }, null, 2)}\n`, options.signal)
    }
    try {
      if (stored?.encrypted && (options.level ?? 'read') === 'hash')
        return await verifyEncryptedHash(store, entry, stored, scratch, where, record, options.signal)
      let outcome: VerifyResult | undefined
      let failure: unknown
      let local: string | undefined
      try {
        local = await fetchRemoteBackup(config, store, entry, { dir: scratch, check: stored?.encrypted === true, signal: options.signal })
        outcome = await verifyBackup(config, { ...options, latest: false, name: local })
      } catch (err) {
        failure = err
      }
      const after = local === undefined ? undefined : readManifest(local)
      if (after?.status === 'ok') {
        await record(after.manifest.verification)
      } else if (failure instanceof DbopsError && failure.exitCode === 6 && stored) {
        await record({
          level: 'none',
          verified_at: new Date().toISOString(),
          checks: [{ name: 'sha256', ok: false, detail: failure.message }],
          failed_check: 'sha256',
        })
      }
      if (failure !== undefined) throw failure
      return { ...outcome!, file: entry.file, path: entry.path, remote: where }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
    }
  })
}

/** `verify --level hash` of an encrypted copy: the stored bytes against the manifest, no identity needed. */
async function verifyEncryptedHash(
  store: Parameters<Parameters<typeof withRemote>[1]>[0],
  entry: RemoteEntry,
  stored: RemoteManifest,
  scratch: string,
  where: string,
  record: (verification: RemoteManifest['verification']) => Promise<void>,
  signal?: AbortSignal,
): Promise<VerifyResult & { remote: string }> {
  const ok = await checkRemoteHash(store, entry, scratch, signal)
  const verifiedAt = new Date().toISOString()
  const checks = [
    { name: 'sha256', ok, detail: ok ? 'the stored age file matches the manifest' : 'the stored age file does not match the manifest' },
  ]
  const previous = stored.verification.level
  const level = ok ? (isLevelAtLeast(previous, 'hash') ? previous : 'hash') : 'none'
  await record({ ...stored.verification, level, verified_at: verifiedAt, checks, ...(ok ? {} : { failed_check: 'sha256' }) })
  if (!ok) {
    throw new IntegrityError(
      'BACKUP_CORRUPT',
      `Backup ${entry.file} failed verification at the sha256 check: the stored age file does not match its manifest`,
      {
        hint: 'Do not restore it. Make a new backup and check who can write to the bucket.',
      },
    )
  }
  return {
    file: entry.file,
    path: entry.path,
    database: stored.database,
    dialect: stored.dialect,
    level_requested: 'hash',
    verification_level: level,
    checks,
    row_counts: null,
    verified_at: verifiedAt,
    remote: where,
  }
}

/**
 * Restores a remote backup: downloaded into the backup directory (checked: exit 6 and nothing
 * restored on a mismatch), then restored as any local backup.
 */
export async function restoreOffsite(
  config: ResolvedConfig,
  settings: RemoteSettings,
  options: RestoreOptions,
): Promise<RestoreResult & { remote: string }> {
  const local = await withRemote(settings, async (store) => {
    const where = store.urlOf('').replace(/\/$/, '')
    const entry = await pick(config, await listRemoteBackups(store, options.signal), where, options)
    if (config.backup.offsite.encryptionRequired && !(entry.manifest as { encrypted?: boolean } | null)?.encrypted) {
      throw new UsageError(`${entry.file} is not encrypted, and backup.encrypt.required refuses to restore it`, {
        code: 'BACKUP_NOT_ENCRYPTED',
      })
    }
    return fetchRemoteBackup(config, store, entry, { dir: options.dir, signal: options.signal })
  })
  const result = await restoreBackup(config, { ...options, latest: false, name: local })
  return { ...result, remote: settings.url }
}

/**
 * Applies the retention rules to the configured database's backups on the remote (the newest
 * verified one is always kept), and removes incomplete uploads older than the newest complete
 * backup. Guarded in production unless `dryRun`.
 */
export async function pruneOffsite(
  config: ResolvedConfig,
  settings: RemoteSettings,
  options: {
    retention?: RetentionPolicy
    dryRun?: boolean
    yes?: boolean
    signal?: AbortSignal
    connect?: Partial<Omit<ConnectOptions, 'mode'>>
  },
): Promise<PruneResult & { incomplete_removed: string[] }> {
  const policy = retentionPolicyOf(config, options.retention)
  const dryRun = options.dryRun ?? false
  if (!dryRun) assertDestructiveAllowed(config, { yes: options.yes ?? false, action: 'prune remote backups' })
  const owner = await resolveBackupOwner(config, { signal: options.signal, connect: options.connect })
  return withRemote(settings, async (store) => {
    const entries = await listRemoteBackups(store, options.signal)
    const mine = entries.filter((e) => e.status === 'ok' && owner.owns(e))
    const decisions = planRetention(
      mine.map((b) => ({
        file: b.file,
        database: owner.identity,
        createdAt: new Date(b.created_at),
        verified: isLevelAtLeast(b.verification_level, 'hash'),
      })),
      policy,
    )
    const deleted = hasRetentionRules(policy) ? decisions.filter((d) => d.action === 'delete') : []
    // an incomplete upload of this series that a later complete backup superseded: never finished, never needed
    const newestComplete = mine[0]?.created_at
    const incomplete = entries.filter(
      (e) => e.status === 'incomplete upload' && owner.isNamedAsOwn(e) && newestComplete !== undefined && e.created_at < newestComplete,
    )
    if (!dryRun) {
      const names = [...deleted.flatMap((d) => [d.file, manifestNameOf(d.file)]), ...incomplete.map((e) => e.file)]
      if (names.length > 0) await store.remove(names, options.signal)
    }
    return {
      dir: store.urlOf('').replace(/\/$/, ''),
      database: owner.database,
      source_identity: owner.identity,
      dry_run: dryRun,
      policy: {
        keep_last: policy.keepLast ?? null,
        keep_daily: policy.keepDaily ?? null,
        keep_weekly: policy.keepWeekly ?? null,
        keep_monthly: policy.keepMonthly ?? null,
      },
      kept: decisions.filter((d) => d.action === 'keep' || !hasRetentionRules(policy)).map((d) => ({ file: d.file, reasons: d.reasons })),
      deleted: deleted.map((d) => ({ file: d.file, reasons: d.reasons })),
      skipped: [],
      incomplete_removed: incomplete.map((e) => e.file),
    }
  })
}

/** What `health` shows of the remote: the newest off-site backup and the newest restore drill. */
export interface OffsiteSummary {
  remote: string
  count: number
  newestAt: Date | undefined
  newestFile: string | undefined
  /** When the newest restore-level verification (a drill) of one of this database's remote backups passed. */
  newestDrillAt: Date | undefined
  newestDrillFile: string | undefined
}

/**
 * The configured database's complete backups on the configured remote; undefined when no
 * remote is configured. Identity from `conn` (the on-call connection).
 */
export async function readOffsiteSummary(
  config: ResolvedConfig,
  context: { conn: DbConnection; signal?: AbortSignal | undefined },
): Promise<OffsiteSummary | undefined> {
  const settings = config.backup.offsite.remote
  if (!settings) return undefined
  const owner = await resolveBackupOwner(config, { conn: context.conn, signal: context.signal })
  return withRemote(settings, async (store) => {
    const mine = (await listRemoteBackups(store, context.signal)).filter((e) => e.status === 'ok' && owner.owns(e))
    const drills = mine
      .filter((e) => e.verification_level === 'restore' && e.verified_at !== null)
      .sort((a, b) => b.verified_at!.localeCompare(a.verified_at!))
    return {
      remote: settings.url,
      count: mine.length,
      newestAt: mine[0] ? new Date(mine[0].created_at) : undefined,
      newestFile: mine[0]?.file,
      newestDrillAt: drills[0] ? new Date(drills[0].verified_at!) : undefined,
      newestDrillFile: drills[0]?.file,
    }
  })
}
