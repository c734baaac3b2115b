/**
 * Which PostgreSQL schemas `schema pull`, `schema diff`, `migrate generate --from-models` and
 * `inspect` compare: the config's `schemas` (the default schema alone unless `--schema a,b`,
 * `--all-schemas` or `schema.schemas` in the config say otherwise), resolved against the
 * database's own list, and the schemas with tables that are left out, so a user learns that
 * they exist instead of reading one schema's models as the whole database.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { DbConnection, IntrospectOptions } from '../dialects/dialect.js'
import { dialectTraits } from '../dialects/index.js'
import type { SchemaBrief } from '../dialects/catalog-port.js'
import { UsageError } from '../errors.js'
import type { DatabaseSchema } from '../schema/normalised-schema.js'

/** The schemas a command compares, and those it leaves out. */
export interface SchemaScope extends IntrospectOptions {
  /** Schemas that hold tables but are not compared, by name. */
  notCompared: SchemaBrief[]
}

/**
 * Resolves the compared schemas on `conn`. Names the user gave must exist (else a usage
 * error, exit 2, listing the schemas there are), unless `allowMissing` (a replay into an
 * empty database, where the migrations decide what exists). On SQLite the scope is the file.
 *
 * @example
 * const scope = await resolveSchemaScope(conn, config)
 * const live = await conn.dialect.introspect(conn, scope)
 */
export async function resolveSchemaScope(
  conn: DbConnection,
  config: ResolvedConfig,
  options: { allowMissing?: boolean } = {},
): Promise<SchemaScope> {
  const defaultSchema = config.schema
  if (!conn.dialect.supportsSchemas) return { schemas: [defaultSchema], defaultSchema, notCompared: [] }
  const present = await conn.dialect.createCatalog(conn).listSchemas()
  const names = present.map((s) => s.name)
  let schemas: string[]
  if (config.schemas === 'all') {
    schemas = names
  } else {
    schemas = [...config.schemas]
    const missing = schemas.filter((name) => !names.includes(name) && name !== defaultSchema)
    if (missing.length > 0 && !options.allowMissing) {
      throw new UsageError(`Unknown schema${missing.length === 1 ? '' : 's'} ${missing.map((m) => `"${m}"`).join(', ')}`, {
        code: 'UNKNOWN_SCHEMA',
        hint: `Schemas in this database: ${names.join(', ') || 'none'}.`,
      })
    }
  }
  const notCompared = present.filter((s) => s.tables > 0 && !schemas.includes(s.name))
  return { schemas, defaultSchema, notCompared }
}

/**
 * The one line saying what was left out, or undefined when nothing was:
 * `2 other schemas with 151 tables not compared: app, auth — use --schema or --all-schemas`.
 */
export function describeNotCompared(notCompared: readonly SchemaBrief[]): string | undefined {
  if (notCompared.length === 0) return undefined
  const tables = notCompared.reduce((sum, s) => sum + s.tables, 0)
  const schemas = `${notCompared.length} other schema${notCompared.length === 1 ? '' : 's'}`
  return `${schemas} with ${tables} table${tables === 1 ? '' : 's'} not compared: ${notCompared.map((s) => s.name).join(', ')} — use --schema or --all-schemas`
}

/**
 * The part of `schema` in the compared schemas: a models module that covers `app` and `auth`
 * compared with `public` alone must not read as "create every table of app", nor an enum of
 * `app` that a table of `public` uses (read for its values) as one to drop.
 * With `'all'` everything is kept (a schema the models add does not exist yet), and on SQLite,
 * which has no schemas, the models are the file's whole.
 */
export function keepCompared(schema: DatabaseSchema, config: Pick<ResolvedConfig, 'schema' | 'schemas'>): DatabaseSchema {
  if (config.schemas === 'all' || !dialectTraits(schema.dialect).schemaTraits.schemas) return schema
  const compared = new Set(config.schemas.map((name) => (name === config.schema ? undefined : name)))
  return {
    ...schema,
    tables: schema.tables.filter((t) => compared.has(t.schema)),
    enums: schema.enums.filter((e) => compared.has(e.schema)),
  }
}
