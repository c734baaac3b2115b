import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { type ScaffoldResult, scaffoldProject } from '../project/scaffold-project.js'

/** `dbops init`: scaffold dbops.config.ts, models.ts, .env.example and migrations/. */
export default class Init extends DbopsCommand<typeof Init> {
  static override summary = 'Create dbops.config.ts, models.ts, .env.example and migrations/ here.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --force']
  static override flags = {
    force: Flags.boolean({ summary: 'Overwrite existing files.' }),
  }

  async run(): Promise<ScaffoldResult> {
    const result = scaffoldProject(process.cwd(), { force: this.flags.force })
    for (const file of result.files) this.out.result(`${file.action.padEnd(11)} ${file.path}`)
    return result
  }
}
