import { qualifiedName } from '../../sql/qualified-name.js'
import fs from 'node:fs'
import path from 'node:path'
import { Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { schemaScopeFlags, withSchemaScope } from '../../cli/schema-flags.js'
import { describeNotCompared } from '../../drift/compared-schemas.js'

import { DbopsError, ExitCode } from '../../errors.js'
import { writeFileAtomic } from '../../project/scaffold-project.js'
import { pullModels } from '../../drift/compare-schemas.js'

/** `dbops schema pull`: TypeScript models from the live database. */
export default class SchemaPull extends DbopsCommand<typeof SchemaPull> {
  static override summary = 'Write TypeScript models from the live database.'
  static override description =
    'Reads the database (on PostgreSQL the default schema, DATABASE_SCHEMA, or the schemas of --schema a,b / ' +
    '--all-schemas) and writes a models module that `schema diff` finds identical to it; tables outside the default ' +
    "schema get { schema: 'app' }. Without --out the module goes to stdout."
  static override examples = [
    '<%= config.bin %> schema pull --out models.ts',
    '<%= config.bin %> schema pull > models.ts',
    '<%= config.bin %> schema pull --all-schemas --out models.ts',
  ]
  static override flags = {
    out: Flags.string({ summary: 'Write the models to this file instead of stdout.' }),
    force: Flags.boolean({ summary: 'Overwrite --out if it exists.' }),
    ...schemaScopeFlags(),
  }

  async run(): Promise<Record<string, unknown>> {
    const config = withSchemaScope(await this.loadConfig(), this.flags)
    this.announce(config)
    const out = this.flags.out === undefined ? undefined : path.resolve(process.cwd(), this.flags.out)
    if (out !== undefined && fs.existsSync(out) && !this.flags.force) {
      throw new DbopsError('FILE_EXISTS', ExitCode.usage, `${this.flags.out} already exists`, {
        hint: 'Nothing was written. Re-run with --force to overwrite it.',
      })
    }
    const pulled = await pullModels(config, { connect: this.connectOptions(config, 'read') })
    const notCompared = describeNotCompared(pulled.notCompared)
    if (notCompared !== undefined) this.out.info(notCompared)
    if (out !== undefined) {
      fs.mkdirSync(path.dirname(out), { recursive: true })
      writeFileAtomic(out, pulled.source)
      this.out.info(`wrote ${this.flags.out}: ${pulled.schema.tables.length} table${pulled.schema.tables.length === 1 ? '' : 's'}`)
    } else {
      this.out.result(pulled.source.trimEnd())
    }
    return {
      file: out ?? null,
      tables: pulled.schema.tables.map((t) => qualifiedName(t.schema, t.name)),
      unmanaged: pulled.schema.unmanaged.map((u) => ({
        kind: u.kind,
        name: qualifiedName(u.schema, u.name),
        ...(u.table ? { table: qualifiedName(u.schema, u.table) } : {}),
      })),
      not_compared: pulled.notCompared.map((s) => ({ schema: s.name, tables: s.tables })),
      source: pulled.source,
    }
  }
}
