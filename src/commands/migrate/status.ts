import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { type MigrationStatusReport, getMigrationStatus } from '../../migrate/migration-status.js'
import { renderStatus } from '../../ui/render-migrations.js'

/** `dbops migrate status`: applied, pending, changed, missing, dirty, running and out-of-order migrations. */
export default class MigrateStatus extends DbopsCommand<typeof MigrateStatus> {
  static override summary = 'List migrations: applied, pending, changed, missing, dirty, running, out of order.'
  static override description =
    'Read-only: takes no lock and creates nothing. A migration another run is applying right now is running (with that ' +
    'run’s pid), not dirty. With --exit-code: 6 for an integrity problem (changed, missing, dirty, out of order, ' +
    'dbmate-managed), else 3 when migrations are pending or running, else 0.'
  static override examples = [
    '<%= config.bin %> migrate status',
    '<%= config.bin %> migrate status --exit-code --json',
    '<%= config.bin %> migrate status --all',
  ]
  static override flags = {
    'exit-code': Flags.boolean({
      summary: 'Exit 6 on integrity problems, 3 when migrations are pending or running.',
    }),
    all: Flags.boolean({ summary: 'Every database under `databases` in the config file.' }),
  }

  async run(): Promise<MigrationStatusReport | { databases: Array<MigrationStatusReport & { name: string }>; exit_code: number }> {
    if (!this.flags.all) {
      const report = await this.statusOf(await this.loadConfig())
      this.setExitCode(report.exit_code)
      return report
    }
    const databases = await this.forEachDatabase((config, name, index) => {
      if (index > 0) this.out.result('')
      this.out.result(this.out.out.bold(`== ${name}`))
      return this.statusOf(config)
    })
    // 6 > 3 > 0
    const exitCode = databases.reduce((worst, d) => (d.exit_code === 6 || worst === 6 ? 6 : Math.max(worst, d.exit_code)), 0)
    this.setExitCode(exitCode)
    return { databases, exit_code: exitCode }
  }

  private async statusOf(config: ResolvedConfig): Promise<MigrationStatusReport> {
    this.announce(config)
    const report = await getMigrationStatus(config, {
      signal: this.abort.signal,
      connect: this.connectOptions(config, 'read'),
    })
    this.out.result(renderStatus(report, this.out.out))
    for (const warning of report.warnings) this.out.warn(warning)
    return report
  }

  private setExitCode(code: number): void {
    if (this.flags['exit-code'] && code !== 0) process.exitCode = code
  }
}
