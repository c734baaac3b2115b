import { Args, Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import {
  DEFAULT_ROW_LIMIT,
  MAX_ROW_LIMIT,
  type RowsReport,
  inspectRows,
  parseRowFilter,
  parseRowLimit,
  parseRowOffset,
  parseRowOrder,
} from '../../inspect/inspect-rows.js'
import { renderRows } from '../../ui/render-inspect.js'

/** `dbops inspect rows NAME`: a page of rows. */
export default class InspectRows extends DbopsCommand<typeof InspectRows> {
  static override summary = 'Show a page of rows of a table.'
  static override description =
    'Table and column names are checked against the database (unknown: exit 2); values are bound as parameters, ' +
    'so nothing typed reaches SQL as text. Ordered by --order, then by the primary key (stable pages). Read-only session, 5 s statement timeout.'
  static override examples = [
    '<%= config.bin %> inspect rows users --where email=ann@example.com',
    '<%= config.bin %> inspect rows orders --order -created_at --limit 50 --offset 50',
  ]
  static override args = {
    name: Args.string({ description: 'Table name, as the database spells it; app.users for one in schema app.', required: true }),
  }
  static override flags = {
    ...schemaScopeFlags(),
    // parsed here rather than by Flags.integer: the message states the range, and an offset
    // past 2^53 is refused instead of rounded
    limit: Flags.custom<number>({ parse: async (input) => parseRowLimit(input) })({
      summary: `Rows per page (1 to ${MAX_ROW_LIMIT}).`,
      helpValue: 'N',
      default: DEFAULT_ROW_LIMIT,
    }),
    offset: Flags.custom<number>({ parse: async (input) => parseRowOffset(input) })({
      summary: 'Rows to skip.',
      helpValue: 'N',
      default: 0,
    }),
    where: Flags.string({
      summary: 'Only rows where COLUMN equals VALUE (repeatable; all must match).',
      helpValue: 'COLUMN=VALUE',
      multiple: true,
    }),
    order: Flags.string({ summary: 'Order by COLUMN, or -COLUMN for descending.', helpValue: 'COLUMN|-COLUMN' }),
  }

  async run(): Promise<RowsReport> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    this.announce(config)
    const report = await inspectRows(
      config,
      {
        table: this.args.name,
        limit: this.flags.limit,
        offset: this.flags.offset,
        where: (this.flags.where ?? []).map(parseRowFilter),
        order: this.flags.order === undefined ? undefined : parseRowOrder(this.flags.order),
      },
      { connect: this.connectOptions(config, 'read') },
    )
    this.out.result(renderRows(report, this.out.out))
    return report
  }
}
