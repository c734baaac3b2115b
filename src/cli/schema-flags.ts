/**
 * `--schema a,b` and `--all-schemas`: which PostgreSQL schemas the commands that read the
 * database's structure compare (`schema pull`, `schema diff`, `migrate generate
 * --from-models`, `inspect`). They override `schema.schemas` of the config file.
 */
import { Flags } from './oclif.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { parseSchemaList } from '../config/values.js'
import { dialectTraits } from '../dialects/index.js'
import { UsageError } from '../errors.js'

/** The two flags; each excludes the other, and both need the flags of `dependsOn` (if any). */
export function schemaScopeFlags(dependsOn: string[] = []) {
  return {
    schema: Flags.string({
      summary: 'PostgreSQL schemas to compare, comma-separated (default: the default schema, DATABASE_SCHEMA).',
      exclusive: ['all-schemas'],
      dependsOn,
    }),
    'all-schemas': Flags.boolean({
      summary: 'Compare every schema but the system ones (pg_catalog, information_schema, pg_toast*, pg_temp*).',
      exclusive: ['schema'],
      dependsOn,
    }),
  }
}

/**
 * `config` with the compared schemas the flags choose (unchanged without them). On a
 * database without schemas (SQLite) any schema but `main` is a usage error (exit 2).
 */
export function withSchemaScope(
  config: ResolvedConfig,
  flags: { schema?: string | undefined; 'all-schemas'?: boolean | undefined },
): ResolvedConfig {
  if (flags.schema === undefined && !flags['all-schemas']) return config
  const schemas = flags['all-schemas'] ? 'all' : parseSchemaList(flags.schema!, '--schema')
  const traits = dialectTraits(config.target.dialect)
  if (!traits.schemaTraits.schemas) {
    if (schemas !== 'all' && schemas.every((name) => name === 'main')) return config
    const given = flags['all-schemas'] ? '--all-schemas' : `--schema ${flags.schema}`
    throw new UsageError(`${given}: ${traits.displayName} has no schemas`, {
      code: 'NO_SCHEMAS',
      hint: `Leave out --schema and --all-schemas: a ${traits.displayName} database is one file, compared whole.`,
    })
  }
  return { ...config, schemas }
}
