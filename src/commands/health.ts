import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { type HealthReport, type HealthResult, checkHealth, watchHealth } from '../health/check-health.js'
import { HEALTH_THRESHOLDS, resolveThresholds, thresholdEnvName } from '../health/health-thresholds.js'
import { InterruptedError } from '../errors.js'
import { renderHealthReport } from '../ui/render-health.js'
import { fleetFlags, isFleetRun } from '../cli/fleet-flags.js'
import { loadFleetMachinery } from '../cli/load-fleet.js'
import type { FleetJson } from '../cli/fleet-support.js'
import type { FleetHealthDetails } from '../fleet/fleet-tasks.js'

const thresholdHelp = Object.entries(HEALTH_THRESHOLDS)
  .map(
    ([name, spec]) =>
      `  ${name} (default ${spec.default} ${spec.unit}, ${thresholdEnvName(name as keyof typeof HEALTH_THRESHOLDS)}): ${spec.description}`,
  )
  .join('\n')

/** `dbops health`: is the database up, and is anything about to hurt? */
export default class Health extends DbopsCommand<typeof Health> {
  static override summary = 'Check the database: reachability, migrations, backups, connections, locks.'
  static override description =
    'Each check is ok, warn or fail, with its latency and details. Read-only session with short statement and lock timeouts.\n' +
    'Exit 0 all ok, 3 a warning, 1 a failed check, 2 bad configuration (e.g. a missing certificate file), 4 unreachable, 7 access (authentication, missing database or file).\n' +
    'With --watch, a redraw every N seconds (one JSON document per line with --json) until Ctrl-C (exit 130).\n\n' +
    `Thresholds (--threshold NAME=VALUE or the environment variable; "off" disables):\n${thresholdHelp}`
  static override examples = [
    '<%= config.bin %> health',
    '<%= config.bin %> health --json --threshold lock_wait_seconds=5',
    '<%= config.bin %> health --watch 5',
    '<%= config.bin %> health --deep    # SQLite: also PRAGMA quick_check (reads the whole file)',
    '<%= config.bin %> health --fleet tenants --json',
  ]
  static override flags = {
    watch: Flags.integer({ summary: 'Re-check every SECONDS until interrupted.', helpValue: 'SECONDS', min: 1 }),
    deep: Flags.boolean({ summary: 'Also run checks that read everything (SQLite quick_check).' }),
    ...fleetFlags,
    threshold: Flags.string({
      summary: 'Override a warning threshold, e.g. lock_wait_seconds=5 (repeatable).',
      helpValue: 'NAME=VALUE',
      multiple: true,
    }),
  }

  async run(): Promise<HealthReport | FleetJson<FleetHealthDetails> | undefined> {
    const thresholds = resolveThresholds(this.flags.threshold ?? [], process.env)
    if (isFleetRun(this.flags)) {
      const { runFleetCommand, healthTask } = await loadFleetMachinery()
      const task = healthTask((target) => ({ deep: this.flags.deep, thresholds, connect: this.connectOptions(target.config, 'read') }))
      const json = await runFleetCommand(
        { out: this.out, flags: this.flags, signal: this.abort.signal, connect: (c, m) => this.connectOptions(c, m), mode: 'read' },
        task,
        [
          { header: 'HEALTH', cell: (r) => r.health ?? '-' },
          { header: 'FINDINGS', cell: (r) => (r.findings ?? []).join(', ') },
        ],
        this.flags.watch === undefined ? [] : ['--watch'],
      )
      process.exitCode = json.exit_code
      return json
    }
    const config = await this.loadConfig()
    this.announce(config)
    const options = { deep: this.flags.deep, thresholds, connect: this.connectOptions(config, 'read') }
    if (this.flags.watch === undefined) {
      const result = await checkHealth(config, options)
      this.print(result)
      process.exitCode = result.exitCode
      return result.report
    }
    const interval = this.flags.watch
    try {
      await watchHealth(config, { ...options, intervalSeconds: interval }, (result) => {
        process.exitCode = result.exitCode
        if (this.out.mode.json) return this.out.jsonLine(result.report)
        if (this.out.stdoutIsTTY) this.out.raw('\u001b[H\u001b[2J') // home, clear: a redraw, not a scroll
        this.print(result)
        this.out.result(this.out.out.dim(`every ${interval}s · Ctrl-C to stop`))
        if (!this.out.stdoutIsTTY) this.out.result('')
      })
    } catch (err) {
      // Ctrl-C is how a watch ends: no error message, exit 130 (143 on SIGTERM) as everywhere
      if (!(err instanceof InterruptedError)) throw err
      process.exitCode = err.exitCode
    }
    return undefined
  }

  private print(result: HealthResult): void {
    this.out.result(renderHealthReport(result.report, this.out.out))
    if (result.error && !this.out.mode.json) this.out.error(result.error)
  }
}
