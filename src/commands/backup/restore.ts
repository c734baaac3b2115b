import { Flags } from '../../cli/oclif.js'
import { type RestoreResult, restoreBackup } from '../../backup/restore-backup.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { backupArg, dirFlag, expandRemoteFlag, remoteFlag } from '../../cli/backup-flags.js'
import { restoreOffsite } from '../../backup/offsite-backup.js'
import { remoteSettingsOf } from '../../backup/remote-backup.js'
import { progressLine } from '../../ui/progress-line.js'

/** `dbops backup restore`: into a new database by default; guarded; safety backup first. */
export default class BackupRestore extends DbopsCommand<typeof BackupRestore> {
  static override summary = 'Restore a backup: into a new database by default, or --in-place / --target-url.'
  static override description =
    'The backup must match its manifest (sha256). SQLite restores through the online backup API into the target ' +
    '(WAL-safe, never a rename over a live file); PostgreSQL through pg_restore --exit-on-error, into a new database ' +
    'by default, --single-transaction --clean when the target exists (tables the backup does not hold are left, and ' +
    'listed). A target holding data must be the database the backup was taken of (--from-other-database otherwise) ' +
    'and gets a safety backup first. Refused without --yes in production or on a protected database. Warns when the ' +
    "backup's migration head differs from the latest migration in the migrations directory."
  static override examples = [
    '<%= config.bin %> backup restore --latest',
    '<%= config.bin %> backup restore app-20250101T030000.000Z.dump --in-place --yes',
    '<%= config.bin %> backup restore /mnt/backups/app-20250101T030000.000Z.dump',
    '<%= config.bin %> backup restore app-20250101T030000.000Z.dump --target-url postgres://app@db/app_copy --no-owner',
  ]
  static override args = {
    name: backupArg,
  }
  static override flags = {
    dir: dirFlag,
    latest: Flags.boolean({ summary: "The configured database's newest backup." }),
    'target-url': Flags.string({
      summary: 'Restore into this database (created when missing; replaced, after a safety backup, when it exists).',
      exclusive: ['in-place'],
    }),
    'in-place': Flags.boolean({
      summary: 'Restore over the configured database (after a safety backup).',
    }),
    'no-owner': Flags.boolean({
      summary: 'PostgreSQL: pg_restore --no-owner (objects belong to the restoring user).',
    }),
    'from-other-database': Flags.boolean({
      summary: "Allow replacing a database's data with a backup of another database (its copy, its old path or cluster).",
    }),
    'lock-timeout': Flags.integer({
      summary: 'PostgreSQL: seconds a statement of the restore waits for a lock another session holds (then exit 5, naming it).',
      default: 5,
      min: 1,
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Confirm in production or on a protected database.' }),
    remote: remoteFlag,
  }

  public override async init(): Promise<void> {
    this.argv = expandRemoteFlag(this.argv)
    await super.init()
  }

  async run(): Promise<RestoreResult> {
    const config = await this.loadConfig()
    this.announce(config)
    const progress = progressLine(process.stderr, this.out.stderrIsTTY && !this.out.mode.quiet && !this.out.mode.json, 'restore', 'pages')
    let result: RestoreResult
    try {
      // `restore s3://bucket/prefix/NAME`: that remote, that backup
      const url = this.args.name?.startsWith('s3://') ? this.args.name : undefined
      const remote = remoteSettingsOf(
        config,
        url ? url.slice(0, url.lastIndexOf('/')) : this.flags.remote,
        url !== undefined || this.flags.remote !== undefined,
      )
      const options = {
        dir: this.flags.dir,
        name: url ? url.slice(url.lastIndexOf('/') + 1) : this.args.name,
        latest: this.flags.latest,
        targetUrl: this.flags['target-url'],
        inPlace: this.flags['in-place'],
        noOwner: this.flags['no-owner'],
        fromOtherDatabase: this.flags['from-other-database'],
        lockTimeoutSeconds: this.flags['lock-timeout'],
        yes: this.flags.yes,
        connect: this.connectOptions(config, 'read'),
        onProgress: (done: number, total: number) => progress.update(done, total),
        ...this.reporting(),
      }
      result = remote ? await restoreOffsite(config, remote, options) : await restoreBackup(config, options)
    } finally {
      progress.done()
    }
    const left = result.tables_not_in_backup
    const how = result.created
      ? 'a new database'
      : !result.replaced
        ? 'an empty database'
        : left.length === 0
          ? 'replacing its contents'
          : 'replacing what the backup holds'
    this.out.result(
      `restored ${result.file} (a backup of ${result.source}) into ${result.target} (${how}) in ${(result.duration_ms / 1000).toFixed(1)} s`,
    )
    if (left.length > 0) {
      this.out.result(
        `${left.length === 1 ? '1 table not in the backup was left as it was' : `${left.length} tables not in the backup were left as they were`}: ${left.join(', ')}`,
      )
    }
    if (result.safety_backup) this.out.result(`safety backup of the previous contents: ${result.safety_backup}`)
    if (result.created) this.out.result(`url: ${result.target_url}`)
    return result
  }
}
