import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import { modelsFlag } from '../../cli/models-flag.js'
import { compareSchemas } from '../../drift/compare-schemas.js'
import { describeNotCompared } from '../../drift/compared-schemas.js'
import { parseRenameDecision } from '../../schema/diff-schemas.js'
import { qualifiedName } from '../../sql/qualified-name.js'
import { formatSqlScript } from '../../schema/render-schema-sql.js'
import { renderSchemaDiffText, schemaDiffJson } from '../../ui/render-schema-diff.js'

/** `dbops schema diff`: the models against the live database, or against the migrations replayed. */
export default class SchemaDiff extends DbopsCommand<typeof SchemaDiff> {
  static override summary = 'Compare the models with the database (or with the migrations).'
  static override description =
    'Lists what would turn the database into the models, each change marked safe, destructive or data loss. ' +
    '--against migrations replays the migrations into a throwaway database instead (a temporary SQLite file; ' +
    'a temporary PostgreSQL database, or SHADOW_DATABASE_URL), so CI needs no live database. ' +
    'Views, triggers and functions are listed as unmanaged and never count as drift. Exit 3 with --exit-code when they differ. ' +
    'PostgreSQL: the default schema is compared (DATABASE_SCHEMA); --schema a,b or --all-schemas compare several, ' +
    'and schemas with tables left out are named in one line.'
  static override examples = [
    '<%= config.bin %> schema diff',
    '<%= config.bin %> schema diff --against migrations --exit-code',
    '<%= config.bin %> schema diff --sql --rename users.name=full_name',
    '<%= config.bin %> schema diff --all-schemas',
  ]
  static override flags = {
    'exit-code': Flags.boolean({ summary: 'Exit 3 when the schemas differ.' }),
    sql: Flags.boolean({ summary: 'Print the SQL that would make the database match the models.' }),
    against: Flags.string({ summary: 'What to compare the models with.', options: ['live', 'migrations'], default: 'live' }),
    rename: Flags.string({ summary: 'Decide a rename: old=new (a table) or table.old=new (a column). Repeatable.', multiple: true }),
    models: modelsFlag(),
    ...schemaScopeFlags(),
  }

  async run(): Promise<Record<string, unknown>> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    const against = this.flags.against as 'live' | 'migrations'
    if (against === 'live') this.announce(config)
    const renames = (this.flags.rename ?? []).map(parseRenameDecision)
    const result = await compareSchemas(config, {
      against,
      renames,
      modelsPath: this.flags.models,
      connect: this.connectOptions(config, 'read'),
    })
    for (const warning of result.warnings) this.out.warn(warning)
    const notCompared = describeNotCompared(result.notCompared)
    if (notCompared !== undefined) this.out.info(notCompared)
    if (result.unmanaged.length > 0) {
      this.out.info(
        this.out.err.dim(`not managed by dbops: ${result.unmanaged.map((u) => `${u.kind} ${qualifiedName(u.schema, u.name)}`).join(', ')}`),
      )
    }
    if (this.flags.sql) {
      const script = formatSqlScript(result.sql)
      this.out.result(script === '' ? '-- no changes' : script.trimEnd())
    } else {
      for (const line of renderSchemaDiffText(result, this.out.out)) this.out.result(line)
    }
    if (this.flags['exit-code'] && result.changes.length > 0) process.exitCode = 3
    return schemaDiffJson(result)
  }
}
