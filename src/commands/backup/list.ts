import { Flags } from '../../cli/oclif.js'
import type { BackupEntry } from '../../backup/backup-directory.js'
import { formatBytes } from '../../backup/durable-file.js'
import { listBackups } from '../../backup/list-backups.js'
import { resolveBackupDirectory } from '../../backup/backup-directory.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { dirFlag, expandRemoteFlag, formatAge, remoteFlag } from '../../cli/backup-flags.js'
import { remoteSettingsOf } from '../../backup/remote-backup.js'
import { renderTable } from '../../ui/render-table.js'

/** The `--json` document of `backup list`. */
interface ListResult {
  dir: string
  /** With --remote: the remote listed (dir is then the same URL). */
  remote?: string
  backups: Array<Omit<BackupEntry, 'manifest'>>
}

/** `dbops backup list`: the backups in the backup directory, newest first. */
export default class BackupList extends DbopsCommand<typeof BackupList> {
  static override summary = 'List backups: age, size, migration head and verification level of each.'
  static override description =
    'Reads the backup directory and the manifests; opens the database only with --mine (PostgreSQL: to read its identity).'
  static override examples = ['<%= config.bin %> backup list', '<%= config.bin %> backup list --dir /var/backups/app --json']
  static override flags = {
    dir: dirFlag,
    mine: Flags.boolean({
      summary: "Only the configured database's backups, by identity (default: every database in the directory).",
    }),
    remote: remoteFlag,
  }

  public override async init(): Promise<void> {
    this.argv = expandRemoteFlag(this.argv)
    await super.init()
  }

  async run(): Promise<ListResult> {
    const config = await this.loadConfig()
    const remote = remoteSettingsOf(config, this.flags.remote, this.flags.remote !== undefined)
    let dir: string
    let backups: ListResult['backups']
    if (remote) {
      // loaded only for a remote: the off-site code reaches the dialects, which a local list never needs
      const { listOffsite } = await import('../../backup/offsite-backup.js')
      const listed = await listOffsite(remote, this.abort.signal)
      dir = listed.remote
      backups = listed.backups
    } else {
      dir = resolveBackupDirectory(config, this.flags.dir).dir
      const entries = await listBackups(config, {
        dir: this.flags.dir,
        onlyThisDatabase: this.flags.mine,
        connect: this.connectOptions(config, 'read'),
        signal: this.abort.signal,
      })
      backups = entries.map(({ manifest: _manifest, ...rest }) => rest)
    }
    if (backups.length === 0) {
      this.out.info(`no backups in ${dir}`)
    } else {
      const c = this.out.out
      this.out.result(
        renderTable(
          ['backup', 'database', 'age', 'size', 'migration head', 'verified', 'status', 'source'],
          backups.map((b) => [
            b.file,
            b.database,
            formatAge(b.age_seconds),
            b.size_bytes === null ? '-' : formatBytes(b.size_bytes),
            b.migration_head ?? c.dim('none'),
            b.verification_level === 'none' ? c.red('none') : b.verification_level,
            b.status === 'ok' ? 'ok' : c.yellow(b.status),
            b.source === null ? c.dim('-') : b.source_identity === null ? `${b.source} ${c.dim('(not recorded)')}` : b.source,
          ]),
        ),
      )
    }
    return remote ? { dir, remote: dir, backups } : { dir, backups }
  }
}
