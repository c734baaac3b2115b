import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { annotate, finishRun, lockFlags, lockRetriesFlag, migrationOptions, type MigrationRunJson } from '../../cli/migrate-support.js'
import { migrateDown } from '../../migrate/migrate-down.js'
import { createMigrationProgress } from '../../ui/migration-progress.js'
import { renderRunSummary } from '../../ui/render-migrations.js'

/** `dbops migrate down`: roll back applied migrations, one by default. */
export default class MigrateDown extends DbopsCommand<typeof MigrateDown> {
  static override summary = 'Roll back applied migrations (one by default).'
  static override description =
    'Runs each migration’s down section in its own transaction together with the deletion of its row. --to NAME stays at ' +
    'NAME (it remains applied); --to 0 rolls back everything. Every migration to roll back needs a down section, checked ' +
    'before anything runs. Refuses without --yes in production or on a protected database.'
  static override examples = [
    '<%= config.bin %> migrate down',
    '<%= config.bin %> migrate down --step 3',
    '<%= config.bin %> migrate down --to 20250101120000 --yes',
  ]
  static override flags = {
    to: Flags.string({
      summary: 'Stay at this migration (it remains applied); 0 rolls back everything.',
      exclusive: ['step'],
    }),
    step: Flags.integer({
      summary: 'Roll back N migrations (default 1).',
      min: 1,
      exclusive: ['to'],
    }),
    yes: Flags.boolean({ char: 'y', summary: 'Confirm on a production or protected database.' }),
    ...lockFlags,
    ...lockRetriesFlag,
  }

  async run(): Promise<MigrationRunJson> {
    const config = await this.loadConfig()
    this.announce(config)
    const progress = await createMigrationProgress(this.out)
    const options = migrationOptions(this.flags, { signal: this.abort.signal, connect: this.connectOptions(config, 'write') }, progress)
    let result
    try {
      result = await migrateDown(config, {
        ...options,
        to: this.flags.to,
        step: this.flags.step,
        yes: this.flags.yes,
      })
    } catch (err) {
      await progress.finish()
      annotate(config, err)
      throw err
    }
    await progress.finish()
    const json = finishRun(this.out, config, result)
    this.out.result(renderRunSummary(result))
    return json
  }
}
