import { Args } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import { type TableReport, inspectTable } from '../../inspect/inspect-table.js'
import { renderTableReport } from '../../ui/render-inspect.js'

/** `dbops inspect table NAME`: one table's definition. */
export default class InspectTable extends DbopsCommand<typeof InspectTable> {
  static override summary = "Show a table's columns, types, nullability, defaults, indexes and foreign keys."
  static override description = 'An unknown table is exit 2, with the nearest known name. Read-only session.'
  static override examples = ['<%= config.bin %> inspect table users', '<%= config.bin %> inspect table app.users']
  static override flags = { ...schemaScopeFlags() }
  static override args = {
    name: Args.string({ description: 'Table name, as the database spells it; app.users for one in schema app.', required: true }),
  }

  async run(): Promise<TableReport> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    this.announce(config)
    const report = await inspectTable(config, this.args.name, { connect: this.connectOptions(config, 'read') })
    this.out.result(renderTableReport(report, this.out.out))
    return report
  }
}
