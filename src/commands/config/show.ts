import { describeConfig, type ConfigReport } from '../../config/show-config.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { renderTable } from '../../ui/render-table.js'

/** `dbops config show`: resolved settings, their sources, the rule that chose the target. */
export default class ConfigShow extends DbopsCommand<typeof ConfigShow> {
  static override summary = 'Show the resolved connection settings and where each came from.'
  static override description = 'Never opens the database. Passwords are always redacted.'
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --db analytics --json']

  async run(): Promise<ConfigReport> {
    const report = describeConfig(await this.loadConfig())
    const c = this.out.out
    this.out.result(`${c.bold('database')}  ${report.target.url}`)
    this.out.result(`${c.bold('chosen by')} ${report.rule}`)
    if (report.config_file) this.out.result(`${c.bold('config')}    ${report.config_file}`)
    this.out.result('')
    this.out.result(
      renderTable(
        ['setting', 'value', 'source'],
        report.settings.map((s) => [s.key, s.value, s.source === 'default' ? c.dim(s.origin) : s.origin]),
      ),
    )
    return report
  }
}
