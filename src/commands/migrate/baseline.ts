import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { lockFlags, migrationOptions, newHistoryFlag } from '../../cli/migrate-support.js'
import { type BaselineResult, baselineMigrations } from '../../migrate/baseline-migrations.js'
import { printable } from '../../printable-text.js'

/** `dbops migrate baseline --to VERSION`: mark existing migrations applied without running them. */
export default class MigrateBaseline extends DbopsCommand<typeof MigrateBaseline> {
  static override summary = 'Mark migrations up to VERSION as applied without running them.'
  static override description =
    'For a database whose schema already matches those migrations (created before dbops, or by hand). Records each pending migration up to and including VERSION with its checksum.'
  static override examples = ['<%= config.bin %> migrate baseline --to 20250101120000']
  static override flags = {
    to: Flags.string({
      summary: 'The last migration to mark applied (version or file name).',
      required: true,
    }),
    ...lockFlags,
    ...newHistoryFlag,
  }

  async run(): Promise<BaselineResult> {
    const config = await this.loadConfig()
    this.announce(config)
    const options = migrationOptions(this.flags, { signal: this.abort.signal, connect: this.connectOptions(config, 'write') }, undefined)
    const result = await baselineMigrations(config, {
      ...options,
      to: this.flags.to,
      onWait: (m) => this.out.info(m),
    })
    for (const m of result.recorded) this.out.info(`recorded ${printable(m.name)} as applied (not run)`)
    this.out.result(
      `Marked ${result.recorded.length} migration${result.recorded.length === 1 ? '' : 's'} applied; head is ${result.head ?? 'empty'}.`,
    )
    return result
  }
}
