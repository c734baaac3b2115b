import { Args, Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { lockFlags, migrationOptions } from '../../cli/migrate-support.js'
import { type RepairResult, repairMigrations } from '../../migrate/repair-migrations.js'
import { printable } from '../../printable-text.js'

/** `dbops migrate repair [NAME]`: accept an edited file, forget a missing one, clear a dirty one. */
export default class MigrateRepair extends DbopsCommand<typeof MigrateRepair> {
  static override summary = 'Accept an edited applied file, forget a missing one, clear a dirty one.'
  static override description =
    'Changes dbops_migrations only, never the schema, and says exactly what it changed. An edited file’s new checksum is ' +
    'recorded; a missing file’s row is deleted; a dirty migration’s row is deleted, so it is pending again. Without NAME, ' +
    'every problem is repaired. Refuses without --yes in production or on a protected database.'
  static override examples = ['<%= config.bin %> migrate repair', '<%= config.bin %> migrate repair 20250101120000_add_index.sql --yes']
  static override args = {
    name: Args.string({
      description: 'The migration to repair (version or file name); default: all.',
      required: false,
    }),
  }
  static override flags = {
    yes: Flags.boolean({ char: 'y', summary: 'Confirm on a production or protected database.' }),
    ...lockFlags,
  }

  async run(): Promise<RepairResult> {
    const config = await this.loadConfig()
    this.announce(config)
    const options = migrationOptions(this.flags, { signal: this.abort.signal, connect: this.connectOptions(config, 'write') }, undefined)
    const result = await repairMigrations(config, {
      ...options,
      name: this.args.name,
      yes: this.flags.yes,
      onWait: (m) => this.out.info(m),
    })
    if (result.changes.length === 0) this.out.result('Nothing to repair: every applied migration matches its file.')
    for (const change of result.changes) this.out.result(printable(change.detail))
    return result
  }
}
