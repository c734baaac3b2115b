import { Args, Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import { modelsFlag } from '../../cli/models-flag.js'
import { type GenerateResult, generateMigration } from '../../migrate/generate-migration.js'
import { displayPath } from '../../migrate/migration-runner.js'
import { parseRenameDecision } from '../../schema/diff-schemas.js'

/** What `migrate generate --from-models` returns. */
interface FromModelsResult {
  /** Relative to the working directory; null when nothing was written. */
  path: string | null
  changes: number
  commented_steps: number
  warnings: string[]
}

/** `dbops migrate generate NAME`: an empty migration, or one generated from the models. */
export default class MigrateGenerate extends DbopsCommand<typeof MigrateGenerate> {
  static override summary = 'Create a migration file: empty, or from the models with --from-models.'
  static override description =
    'Writes <YYYYMMDDHHMMSS>_<name>.sql (dbmate format) or .ts (Kysely up/down) into the migrations directory. ' +
    'With --from-models, replays the migrations into a throwaway database (a temporary SQLite file, a temporary ' +
    'PostgreSQL database, or SHADOW_DATABASE_URL) and writes the SQL that turns it into the models: up applies the ' +
    'diff, down reverses it, data-loss steps are commented out and warned about. Nothing to do writes nothing.'
  static override examples = [
    '<%= config.bin %> migrate generate add_users',
    '<%= config.bin %> migrate generate "backfill emails" --ts',
    '<%= config.bin %> migrate generate add_orders --from-models',
    '<%= config.bin %> migrate generate add_orders --from-models --models db/models.ts',
    '<%= config.bin %> migrate generate rename_name --from-models --rename users.name=full_name',
  ]
  static override args = {
    name: Args.string({ description: 'What the migration does, e.g. add_users.', required: true }),
  }
  static override flags = {
    sql: Flags.boolean({
      summary: 'A .sql file with -- migrate:up / -- migrate:down sections (default).',
      exclusive: ['ts'],
    }),
    ts: Flags.boolean({ summary: 'A .ts file exporting up(db) and down(db).', exclusive: ['sql', 'from-models'] }),
    'from-models': Flags.boolean({ summary: 'Generate the SQL from the models (replayed migrations → models).' }),
    rename: Flags.string({
      summary: 'With --from-models: decide a rename, old=new (a table) or table.old=new (a column). Repeatable.',
      multiple: true,
      dependsOn: ['from-models'],
    }),
    ...schemaScopeFlags(['from-models']),
    models: modelsFlag({ dependsOn: ['from-models'] }),
  }

  async run(): Promise<GenerateResult | FromModelsResult> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    if (!this.flags['from-models']) {
      const result = await generateMigration(config, { name: this.args.name, kind: this.flags.ts ? 'ts' : 'sql' })
      this.out.result(`Created ${result.path}`)
      return result
    }
    const { generateMigrationFromModels } = await import('../../drift/generate-migration-from-models.js')
    const generated = await generateMigrationFromModels(config, {
      name: this.args.name,
      connect: this.connectOptions(config, 'write'),
      renames: (this.flags.rename ?? []).map(parseRenameDecision),
      modelsPath: this.flags.models,
    })
    for (const warning of generated.warnings) this.out.warn(warning)
    // relative to the working directory, as `migrate generate` without --from-models prints it
    const file = generated.file === undefined ? undefined : displayPath(config, generated.file)
    if (file === undefined) this.out.result('Nothing to do: the migrations already give the models. No file written.')
    else {
      const commented = generated.commentedSteps > 0 ? `; ${generated.commentedSteps} data-loss step(s) commented out — review them` : ''
      this.out.result(`Created ${file} (${generated.changes.length} change${generated.changes.length === 1 ? '' : 's'}${commented})`)
    }
    return {
      path: file ?? null,
      changes: generated.changes.length,
      commented_steps: generated.commentedSteps,
      warnings: generated.warnings,
    }
  }
}
