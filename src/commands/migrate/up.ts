import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import {
  annotate,
  finishRun,
  lockFlags,
  lockRetriesFlag,
  migrationOptions,
  newHistoryFlag,
  type MigrationRunJson,
} from '../../cli/migrate-support.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { migrateUp } from '../../migrate/migrate-up.js'
import { gateFlags, gateOptions } from '../../cli/gate-flags.js'
import { readPlanFile } from '../../migrate/plan-file.js'
import { createMigrationProgress } from '../../ui/migration-progress.js'
import { reportGate } from '../../ui/render-gate.js'
import { renderPlan, renderRunSummary } from '../../ui/render-migrations.js'
import { fleetFlags, isFleetRun } from '../../cli/fleet-flags.js'
import { loadFleetMachinery } from '../../cli/load-fleet.js'
import type { FleetJson } from '../../cli/fleet-support.js'
import type { FleetMigrateDetails } from '../../fleet/fleet-tasks.js'

/** `dbops migrate up`: apply pending migrations, each in its own transaction with its record. */
export default class MigrateUp extends DbopsCommand<typeof MigrateUp> {
  static override summary = 'Apply pending migrations.'
  static override description =
    'Each migration runs in its own transaction together with its row in dbops_migrations. Concurrent runs apply each ' +
    'migration once (PostgreSQL: advisory lock; SQLite: BEGIN IMMEDIATE). Refuses (exit 6) on changed, missing or dirty ' +
    'migrations and on pending ones older than the head. Exit 1: a migration failed (those before it stay applied); ' +
    'exit 5: lock not acquired in time. The pending .sql migrations are linted first: an error-level finding on a table ' +
    'that exists and is not small stops the run before anything is applied (exit 3), unless ignored per statement or ' +
    '--allow-unsafe is given.'
  static override examples = [
    '<%= config.bin %> migrate up',
    '<%= config.bin %> migrate up --dry-run',
    '<%= config.bin %> migrate up --to 20250101120000 --lock-timeout 300',
    '<%= config.bin %> migrate up --all --json',
    '<%= config.bin %> migrate up --allow-unsafe',
    '<%= config.bin %> migrate up --fleet tenants --concurrency 8 --canary 2',
    "<%= config.bin %> migrate up --schemas 'tenant_*' --json",
  ]
  static override flags = {
    to: Flags.string({
      summary: 'Apply up to and including this migration (version or file name).',
      exclusive: ['step'],
    }),
    step: Flags.integer({ summary: 'Apply at most N migrations.', min: 1, exclusive: ['to'] }),
    'dry-run': Flags.boolean({ summary: 'Print the plan and the SQL; change nothing.' }),
    'allow-out-of-order': Flags.boolean({
      summary: 'Apply pending migrations older than the newest applied one.',
    }),
    all: Flags.boolean({
      summary: 'Every database under `databases` in the config file, in order; stops at the first failure.',
    }),
    plan: Flags.string({
      summary: 'Apply exactly the plan saved by `migrate plan --out FILE`; exit 6 if the pending migrations changed since.',
      helpValue: 'FILE',
    }),
    ...lockFlags,
    ...lockRetriesFlag,
    ...newHistoryFlag,
    ...gateFlags,
    ...fleetFlags,
  }

  async run(): Promise<MigrationRunJson | { databases: Array<MigrationRunJson & { name: string }> } | FleetJson<FleetMigrateDetails>> {
    if (isFleetRun(this.flags)) return this.applyToFleet()
    if (!this.flags.all) return this.applyTo(await this.loadConfig())
    const databases = await this.forEachDatabase((config, name) => this.applyTo(config, name), { stopAfter: (run) => run.error !== null })
    return { databases }
  }

  private async applyToFleet(): Promise<FleetJson<FleetMigrateDetails>> {
    const flags = this.flags
    const incompatible = [flags.all && '--all', flags['dry-run'] && '--dry-run', flags.plan !== undefined && '--plan'].filter(
      (f): f is string => typeof f === 'string',
    )
    const { runFleetCommand, migrateUpTask } = await loadFleetMachinery()
    const task = migrateUpTask((target, signal) => ({
      ...migrationOptions(flags, { signal, connect: this.connectOptions(target.config, 'write') }, undefined),
      to: flags.to,
      step: flags.step,
      allowOutOfOrder: flags['allow-out-of-order'],
      ...gateOptions(flags),
    }))
    const json = await runFleetCommand(
      { out: this.out, flags, signal: this.abort.signal, connect: (c, m) => this.connectOptions(c, m), mode: 'write' },
      task,
      [
        { header: 'BEFORE → AFTER', cell: (r) => `${r.before ?? '-'} → ${r.after ?? '-'}` },
        { header: 'APPLIED', cell: (r) => String(r.applied ?? 0) },
      ],
      incompatible,
    )
    if (json.exit_code !== 0) process.exitCode = json.exit_code
    return json
  }

  private async applyTo(config: ResolvedConfig, name?: string): Promise<MigrationRunJson> {
    if (name !== undefined) this.out.info(this.out.err.bold(`== ${name}`))
    this.announce(config)
    const progress = this.flags['dry-run'] ? undefined : await createMigrationProgress(this.out)
    const options = migrationOptions(this.flags, { signal: this.abort.signal, connect: this.connectOptions(config, 'write') }, progress)
    let result
    try {
      result = await migrateUp(config, {
        ...options,
        to: this.flags.to,
        step: this.flags.step,
        dryRun: this.flags['dry-run'],
        allowOutOfOrder: this.flags['allow-out-of-order'],
        ...gateOptions(this.flags),
        onGate: (report) => reportGate(this.out, report, config.cwd),
        plan: this.flags.plan === undefined ? undefined : readPlanFile(this.flags.plan),
      })
    } catch (err) {
      await progress?.finish()
      annotate(config, err)
      throw err
    }
    await progress?.finish()
    const json = finishRun(this.out, config, result)
    if (this.flags['dry-run']) this.out.result(renderPlan(result, this.out.out))
    else if (!result.lint?.blocked) this.out.result(`${name ? `${name}: ` : ''}${renderRunSummary(result)}`)
    return json
  }
}
