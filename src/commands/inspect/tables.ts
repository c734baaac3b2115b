import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import { type TablesReport, inspectTables } from '../../inspect/inspect-tables.js'
import { renderTables } from '../../ui/render-inspect.js'

/** `dbops inspect tables`: tables with row counts and sizes. */
export default class InspectTables extends DbopsCommand<typeof InspectTables> {
  static override summary = 'List tables with row counts (exact or estimated) and sizes.'
  static override description =
    'Read-only session. PostgreSQL: the default schema (DATABASE_SCHEMA), or those of --schema a,b / --all-schemas, shown qualified; estimates from pg_class; SQLite: exact counts unless a table is large and ANALYZE has run.'
  static override examples = [
    '<%= config.bin %> inspect tables',
    '<%= config.bin %> inspect tables --json',
    '<%= config.bin %> inspect tables --all-schemas',
  ]
  static override flags = { ...schemaScopeFlags() }

  async run(): Promise<TablesReport> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    this.announce(config)
    const report = await inspectTables(config, { connect: this.connectOptions(config, 'read') })
    this.out.result(renderTables(report))
    return report
  }
}
