import { Flags } from '../../cli/oclif.js'
import { type PruneResult, pruneBackups } from '../../backup/prune-backups.js'
import { hasRetentionRules } from '../../backup/retention.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { dirFlag, expandRemoteFlag, lockTimeoutFlag, remoteFlag, retentionFlags } from '../../cli/backup-flags.js'
import { pruneOffsite } from '../../backup/offsite-backup.js'
import { remoteSettingsOf } from '../../backup/remote-backup.js'
import { renderTable } from '../../ui/render-table.js'
import { compareText } from '../../compare-text.js'

/** `dbops backup prune`: the retention rules alone. */
export default class BackupPrune extends DbopsCommand<typeof BackupPrune> {
  static override summary = "Apply the retention rules to the configured database's backups."
  static override description =
    "The configured database's backups are those whose manifest records its identity (a SQLite file's real path, a " +
    "PostgreSQL cluster's system identifier and the database name), never another database's of the same name. " +
    'Per database, by UTC day / ISO week / month; only verified backups count, and the newest verified one is never ' +
    'deleted. --dry-run shows the decisions without deleting. Refused without --yes in production or on a protected ' +
    'database (a dry run is always allowed).'
  static override examples = [
    '<%= config.bin %> backup prune --keep-daily 7 --keep-weekly 4 --dry-run',
    '<%= config.bin %> backup prune --yes',
  ]
  static override flags = {
    dir: dirFlag,
    ...retentionFlags,
    'dry-run': Flags.boolean({
      summary: 'Show what would be deleted, and why each backup is kept.',
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Confirm in production or on a protected database.' }),
    'lock-timeout': lockTimeoutFlag,
    remote: remoteFlag,
  }

  public override async init(): Promise<void> {
    this.argv = expandRemoteFlag(this.argv)
    await super.init()
  }

  async run(): Promise<PruneResult> {
    const config = await this.loadConfig()
    const retention = {
      keepLast: this.flags['keep-last'],
      keepDaily: this.flags['keep-daily'],
      keepWeekly: this.flags['keep-weekly'],
      keepMonthly: this.flags['keep-monthly'],
    }
    const remote = remoteSettingsOf(config, this.flags.remote, this.flags.remote !== undefined)
    const result = remote
      ? await pruneOffsite(config, remote, {
          retention,
          dryRun: this.flags['dry-run'],
          yes: this.flags.yes,
          connect: this.connectOptions(config, 'read'),
          signal: this.abort.signal,
        })
      : await pruneBackups(config, {
          dir: this.flags.dir,
          retention,
          dryRun: this.flags['dry-run'],
          yes: this.flags.yes,
          lockTimeoutMs: this.flags['lock-timeout'] * 1000,
          connect: this.connectOptions(config, 'read'),
          signal: this.abort.signal,
          onWarning: (text) => this.out.warn(text),
        })
    const p = result.policy
    if (
      !hasRetentionRules({
        keepLast: p.keep_last ?? undefined,
        keepDaily: p.keep_daily ?? undefined,
        keepWeekly: p.keep_weekly ?? undefined,
        keepMonthly: p.keep_monthly ?? undefined,
      })
    ) {
      this.out.warn('no retention rules set (--keep-last/-daily/-weekly/-monthly or BACKUP_KEEP_*): nothing deleted')
    }
    if (this.flags['dry-run'] || this.out.mode.verbose || (this.out.stderrIsTTY && !this.out.mode.quiet)) {
      const rows = [
        ...result.deleted.map((d) => [d.file, this.flags['dry-run'] ? 'would delete' : 'deleted', d.reasons.join('; ')]),
        ...result.kept.map((k) => [k.file, 'keep', k.reasons.join('; ')]),
        ...result.skipped.map((k) => [k.file, 'left alone', k.reason]),
      ].sort((a, b) => compareText(b[0]!, a[0]!))
      if (rows.length > 0) this.out.result(renderTable(['backup', 'action', 'why'], rows))
    }
    return result
  }
}
