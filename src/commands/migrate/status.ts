import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { type MigrationStatusReport, getMigrationStatus } from '../../migrate/migration-status.js'
import { renderStatus } from '../../ui/render-migrations.js'
import { fleetFlags, isFleetRun } from '../../cli/fleet-flags.js'
import { loadFleetMachinery } from '../../cli/load-fleet.js'
import type { FleetJson } from '../../cli/fleet-support.js'
import type { FleetStatusDetails } from '../../fleet/fleet-tasks.js'

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
    '<%= config.bin %> migrate status --fleet tenants --exit-code',
  ]
  static override flags = {
    'exit-code': Flags.boolean({
      summary: 'Exit 6 on integrity problems, 3 when migrations are pending or running.',
    }),
    all: Flags.boolean({ summary: 'Every database under `databases` in the config file.' }),
    ...fleetFlags,
  }

  async run(): Promise<
    | MigrationStatusReport
    | { databases: Array<MigrationStatusReport & { name: string }>; exit_code: number }
    | (FleetJson<FleetStatusDetails> & { groups: Array<{ group: string; targets: number }> })
  > {
    if (isFleetRun(this.flags)) return this.statusOfFleet()
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

  /** Every target's head and pending count, grouped by head; `--exit-code`: the worst (3 if any is behind). */
  private async statusOfFleet(): Promise<FleetJson<FleetStatusDetails> & { groups: Array<{ group: string; targets: number }> }> {
    const { runFleetCommand, statusTask, worstExitCode, groupFleetStatus } = await loadFleetMachinery()
    const task = statusTask((target, signal) => ({ signal, connect: this.connectOptions(target.config, 'read') }))
    const json = await runFleetCommand(
      { out: this.out, flags: this.flags, signal: this.abort.signal, connect: (c, m) => this.connectOptions(c, m), mode: 'read' },
      task,
      [
        { header: 'HEAD', cell: (r) => r.head ?? '-' },
        { header: 'PENDING', cell: (r) => String(r.pending ?? '') },
        { header: 'DIRTY', cell: (r) => String(r.dirty ?? '') },
      ],
      this.flags.all ? ['--all'] : [],
    )
    const groups = groupFleetStatus(json.targets)
    this.out.result(groups.map((g) => `${g.targets} ${g.group}`).join(', '))
    const behind = json.targets.filter((t) => (t.pending ?? 0) > 0).length
    if (behind > 0) this.out.result(`${behind} target${behind === 1 ? '' : 's'} behind`)
    // errors reaching a target always count; behind and integrity only with --exit-code
    const unreached = json.targets.filter((t) => t.error !== null).map((t) => t.exit_code ?? 1)
    if (this.flags['exit-code']) this.setExitCode(json.exit_code)
    else if (unreached.length > 0) process.exitCode = worstExitCode(unreached)
    return { ...json, groups }
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
