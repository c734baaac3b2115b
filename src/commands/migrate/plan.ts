import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { annotate, lockFlags } from '../../cli/migrate-support.js'
import { savePlan } from '../../migrate/plan-file.js'
import { type MigrationPlan, planMigrations } from '../../migrate/plan-migrations.js'
import { renderMigrationPlan } from '../../ui/render-plan.js'

/** `dbops migrate plan`: what the pending migrations will lock and rewrite, traced in a schema copy. */
export default class MigratePlan extends DbopsCommand<typeof MigratePlan> {
  static override summary = 'Trace pending migrations in a schema copy: the locks, rewrites and scans each statement causes.'
  static override description =
    'PostgreSQL. Copies the target’s schema (pg_dump --schema-only) into a temporary database (or SHADOW_DATABASE_URL), ' +
    'runs each pending migration there as `migrate up` would, statement by statement, and grades each statement by the ' +
    'target’s real table sizes. The target is only read; the copy is dropped afterwards. --out saves the plan for ' +
    '`migrate up --plan`. Exit 1: a migration failed in the copy; 2: no way to make the copy (set SHADOW_DATABASE_URL).'
  static override examples = [
    '<%= config.bin %> migrate plan',
    '<%= config.bin %> migrate plan --out plan.json',
    '<%= config.bin %> migrate plan --json',
  ]
  static override flags = {
    out: Flags.string({ summary: 'Save the plan to FILE, for `migrate up --plan FILE`.', helpValue: 'FILE' }),
    to: Flags.string({ summary: 'Plan up to and including this migration (version or file name).', exclusive: ['step'] }),
    step: Flags.integer({ summary: 'Plan at most N migrations.', min: 1, exclusive: ['to'] }),
    'allow-out-of-order': Flags.boolean({ summary: 'Plan pending migrations older than the newest applied one.' }),
    'statement-lock-timeout': lockFlags['statement-lock-timeout'],
  }

  async run(): Promise<MigrationPlan> {
    const config = await this.loadConfig()
    this.announce(config)
    const { signal, onNote } = this.reporting()
    let plan: MigrationPlan
    try {
      plan = await planMigrations(config, {
        signal,
        onNote,
        connect: this.connectOptions(config, 'read'),
        to: this.flags.to,
        step: this.flags.step,
        allowOutOfOrder: this.flags['allow-out-of-order'],
        statementLockTimeoutMs:
          this.flags['statement-lock-timeout'] === undefined ? undefined : this.flags['statement-lock-timeout'] * 1000,
      })
    } catch (err) {
      annotate(config, err)
      throw err
    }
    if (this.flags.out !== undefined) {
      savePlan(this.flags.out, plan)
      this.out.info(`plan saved to ${this.flags.out}; apply it with \`dbops migrate up --plan ${this.flags.out}\``)
    }
    this.out.result(renderMigrationPlan(plan, this.out.out))
    return plan
  }
}
