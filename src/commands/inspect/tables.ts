import { DbopsCommand } from '../../cli/base-command.js'
import { type TablesReport, inspectTables } from '../../inspect/inspect-tables.js'
import { renderTables } from '../../ui/render-inspect.js'

/** `dbops inspect tables`: tables with row counts and sizes. */
export default class InspectTables extends DbopsCommand<typeof InspectTables> {
  static override summary = 'List tables with row counts (exact or estimated) and sizes.'
  static override description =
    'Read-only session. PostgreSQL: the configured schema (DATABASE_SCHEMA), estimates from pg_class; SQLite: exact counts unless a table is large and ANALYZE has run.'
  static override examples = ['<%= config.bin %> inspect tables', '<%= config.bin %> inspect tables --json']

  async run(): Promise<TablesReport> {
    const config = await this.loadConfig()
    this.announce(config)
    const report = await inspectTables(config, { connect: this.connectOptions(config, 'read') })
    this.out.result(renderTables(report))
    return report
  }
}
