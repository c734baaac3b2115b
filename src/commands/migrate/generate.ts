import { Args, Flags } from '@oclif/core'
import { DbopsCommand } from '../../cli/base-command.js'
import { type GenerateResult, generateMigration } from '../../migrate/generate-migration.js'

/** `dbops migrate generate NAME`: an empty, correctly versioned migration file. */
export default class MigrateGenerate extends DbopsCommand<typeof MigrateGenerate> {
  static override summary = 'Create an empty migration file, versioned with the current UTC time.'
  static override description =
    'Writes <YYYYMMDDHHMMSS>_<name>.sql (dbmate format) or .ts (Kysely up/down) into the migrations directory. Never opens the database.'
  static override examples = [
    '<%= config.bin %> migrate generate add_users',
    '<%= config.bin %> migrate generate "backfill emails" --ts',
  ]
  static override args = {
    name: Args.string({ description: 'What the migration does, e.g. add_users.', required: true }),
  }
  static override flags = {
    sql: Flags.boolean({
      summary: 'A .sql file with -- migrate:up / -- migrate:down sections (default).',
      exclusive: ['ts'],
    }),
    ts: Flags.boolean({ summary: 'A .ts file exporting up(db) and down(db).', exclusive: ['sql'] }),
  }

  async run(): Promise<GenerateResult> {
    const config = await this.loadConfig()
    const result = await generateMigration(config, {
      name: this.args.name,
      kind: this.flags.ts ? 'ts' : 'sql',
    })
    this.out.result(`Created ${result.path}`)
    return result
  }
}
