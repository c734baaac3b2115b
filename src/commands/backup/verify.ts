import { Flags } from '../../cli/oclif.js'
import { type VerifyResult, verifyBackup } from '../../backup/verify-backup.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { backupArg, dirFlag, expandRemoteFlag, remoteFlag } from '../../cli/backup-flags.js'
import { verifyOffsite } from '../../backup/offsite-backup.js'
import { remoteSettingsOf } from '../../backup/remote-backup.js'

/** `dbops backup verify`: check a backup to a level and record it in the manifest. */
export default class BackupVerify extends DbopsCommand<typeof BackupVerify> {
  static override summary = 'Verify a backup: hash, read or restore level; the level reached is recorded in its manifest.'
  static override description =
    'hash: size and sha256 match the manifest. read: also SQLite integrity_check on the file opened read-only, or ' +
    'pg_restore of the whole archive to nowhere. restore: also a restore into a scratch database, with row counts. ' +
    'A failure exits 6 and names the check. Silent on success (a summary with --verbose).'
  static override examples = [
    '<%= config.bin %> backup verify --latest',
    '<%= config.bin %> backup verify app-20250101T030000.000Z.db --level restore',
    '<%= config.bin %> backup verify backups/app-20250101T030000.000Z.db',
  ]
  static override args = {
    name: backupArg,
  }
  static override flags = {
    dir: dirFlag,
    latest: Flags.boolean({ summary: "The configured database's newest backup." }),
    level: Flags.string({
      summary: 'How far to verify.',
      options: ['hash', 'read', 'restore'],
      default: 'read',
    }),
    remote: remoteFlag,
  }

  public override async init(): Promise<void> {
    this.argv = expandRemoteFlag(this.argv)
    await super.init()
  }

  async run(): Promise<VerifyResult> {
    const config = await this.loadConfig()
    const options = {
      dir: this.flags.dir,
      name: this.args.name,
      latest: this.flags.latest,
      level: this.flags.level as 'hash' | 'read' | 'restore',
      connect: this.connectOptions(config, 'read'),
      ...this.reporting(),
    }
    const remote = remoteSettingsOf(config, this.flags.remote, this.flags.remote !== undefined)
    const result = remote ? await verifyOffsite(config, remote, options) : await verifyBackup(config, options)
    if (this.out.mode.verbose || (this.out.stderrIsTTY && !this.out.mode.quiet)) {
      this.out.result(`${result.file}: verified to ${result.level_requested} (${result.checks.map((c) => c.name).join(', ')} ok)`)
      for (const [table, rows] of Object.entries(result.row_counts ?? {})) this.out.debug(`  ${table}: ${rows} rows`)
    }
    return result
  }
}
