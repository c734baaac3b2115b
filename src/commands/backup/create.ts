import { Flags } from '../../cli/oclif.js'
import { type CreateBackupOptions, type CreateBackupResult, createBackup } from '../../backup/create-backup.js'
import { formatBytes } from '../../backup/durable-file.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { dirFlag, expandRemoteFlag, lockTimeoutFlag, remoteFlag, retentionFlags } from '../../cli/backup-flags.js'
import { type ShipResult, shipBackup } from '../../backup/offsite-backup.js'
import { remoteSettingsOf } from '../../backup/remote-backup.js'
import { dialectTraits } from '../../dialects/index.js'
import { UsageError } from '../../errors.js'
import { progressLine } from '../../ui/progress-line.js'
import { fleetFlags, isFleetRun } from '../../cli/fleet-flags.js'
import { loadFleetMachinery } from '../../cli/load-fleet.js'
import type { FleetJson } from '../../cli/fleet-support.js'
import type { FleetBackupDetails } from '../../fleet/fleet-tasks.js'

/** `dbops backup create`: a verified backup, then retention; silent on success, for cron. */
export default class BackupCreate extends DbopsCommand<typeof BackupCreate> {
  static override summary = 'Make a consistent, verified backup of the database, then apply retention.'
  static override description =
    'SQLite: the online backup API, consistent while the application writes. PostgreSQL: pg_dump --format=custom ' +
    '(a logical backup: no point-in-time recovery). The file is written under a temporary name, fsynced, verified ' +
    '(--verify, default read), renamed to <db>-<UTC timestamp>.<ext> (mode 0600) with a .json manifest beside it. ' +
    'Retention runs only after a successful backup and counts only verified backups. Silent on success ' +
    '(a one-line summary with --verbose); any failure exits non-zero with one line on stderr. With a remote ' +
    '(--remote s3://bucket/prefix, BACKUP_REMOTE_URL, backup.remote.url) the verified backup is then uploaded, ' +
    'encrypted with age when backup.encrypt.recipients are set, its manifest last (see docs/offsite-backups.md).'
  static override examples = [
    '<%= config.bin %> backup create --keep-daily 7 --keep-weekly 4 --keep-monthly 12',
    '<%= config.bin %> backup create --dir /var/backups/app --json',
    '<%= config.bin %> backup create --remote s3://acme-backups/app --remote-only',
  ]
  static override flags = {
    dir: dirFlag,
    ...retentionFlags,
    verify: Flags.string({
      summary: 'Verification before the backup counts: hash, read (integrity check / full archive read) or restore (scratch restore).',
      options: ['hash', 'read', 'restore'],
      default: 'read',
    }),
    gzip: Flags.boolean({
      summary: 'Compress the copy with gzip (SQLite; pg_dump archives are compressed already).',
    }),
    'lock-timeout': lockTimeoutFlag,
    remote: remoteFlag,
    'remote-only': Flags.boolean({
      summary: 'Delete the local copy once the upload to the remote is checked (for small disks).',
    }),
    ...fleetFlags,
  }

  public override async init(): Promise<void> {
    this.argv = expandRemoteFlag(this.argv)
    await super.init()
  }

  async run(): Promise<(CreateBackupResult & { remote: ShipResult | null }) | FleetJson<FleetBackupDetails>> {
    if (isFleetRun(this.flags)) {
      if (this.flags.remote !== undefined || this.flags['remote-only']) {
        throw new UsageError('--remote and --remote-only work on one database, not on a fleet', {
          hint: 'Run `dbops backup create --db NAME --remote …` for each database that goes off-site.',
        })
      }
      return this.backUpFleet()
    }
    const config = await this.loadConfig()
    const remote = remoteSettingsOf(config, this.flags.remote, this.flags['remote-only'])
    this.announce(config)
    const interactive = this.out.stderrIsTTY && !this.out.mode.quiet && !this.out.mode.json
    const progress = progressLine(process.stderr, interactive, 'backup', dialectTraits(config.target.dialect).backupProgressUnit)
    let result: CreateBackupResult
    try {
      result = await createBackup(config, {
        dir: this.flags.dir,
        ...this.backupOptions(),
        connect: this.connectOptions(config, 'read'),
        onProgress: (done, total) => progress.update(done, total),
        ...this.reporting(),
      })
    } finally {
      progress.done()
    }
    let shipped: ShipResult | null = null
    if (remote) {
      this.out.debug(`uploading ${result.file} to ${remote.url}`)
      shipped = await shipBackup(config, remote, result.path, { remoteOnly: this.flags['remote-only'], signal: this.abort.signal })
    }
    if (this.out.mode.verbose || interactive) {
      const deleted = result.retention ? `, retention deleted ${result.retention.deleted.length}` : ''
      const restarts = result.restarts > 0 ? `, ${result.restarts} restart${result.restarts === 1 ? '' : 's'}` : ''
      this.out.result(
        `backup ${result.file}: ${formatBytes(result.size_bytes)} in ${(result.duration_ms / 1000).toFixed(1)} s, verified ${result.verification_level}, ` +
          `migration head ${result.migration_head ?? 'none'}${restarts}${deleted}`,
      )
      const t = result.timings
      this.out.debug(
        `copy ${t.copy_ms} ms, fsync ${t.fsync_ms} ms, hash ${t.hash_ms} ms, checks ${t.verify_ms} ms (hash and checks overlap)`,
      )
    }
    if (shipped && (this.out.mode.verbose || interactive)) {
      this.out.result(
        `uploaded to ${shipped.url} (${shipped.stored_check === 'read-back' ? 'read back and checked' : 'SHA-256 checked by the server'})${shipped.local_deleted ? ', local copy deleted' : ''}`,
      )
    }
    return { ...result, remote: shipped }
  }

  /** The options of a backup from the flags: retention, verification, gzip, lock wait. */
  private backupOptions(): Pick<CreateBackupOptions, 'retention' | 'verifyLevel' | 'gzip' | 'lockTimeoutMs'> {
    return {
      retention: {
        keepLast: this.flags['keep-last'],
        keepDaily: this.flags['keep-daily'],
        keepWeekly: this.flags['keep-weekly'],
        keepMonthly: this.flags['keep-monthly'],
      },
      verifyLevel: this.flags.verify as 'hash' | 'read' | 'restore',
      gzip: this.flags.gzip,
      lockTimeoutMs: this.flags['lock-timeout'] * 1000,
    }
  }

  /** One backup per database of the fleet, each in its own subdirectory of the backup directory. */
  private async backUpFleet(): Promise<FleetJson<FleetBackupDetails>> {
    const { runFleetCommand, backupTask } = await loadFleetMachinery()
    const task = backupTask(this.flags.dir, (target, signal) => ({
      ...this.backupOptions(),
      connect: this.connectOptions(target.config, 'read'),
      ...this.reporting(),
      signal,
    }))
    const json = await runFleetCommand(
      { out: this.out, flags: this.flags, signal: this.abort.signal, connect: (c, m) => this.connectOptions(c, m), mode: 'read' },
      task,
      [
        { header: 'FILE', cell: (r) => r.file ?? '' },
        { header: 'SIZE', cell: (r) => (r.size_bytes === null || r.size_bytes === undefined ? '' : formatBytes(r.size_bytes)) },
      ],
      // a backup is of a whole database: schemas of one database would be the same dump N times
      this.flags.schemas === undefined ? [] : ['--schemas'],
    )
    process.exitCode = json.exit_code
    return json
  }
}
