/**
 * The cores of `schema diff` and `schema pull`: load the models, read the other schema (the
 * live database, or the migrations replayed), diff, render the SQL. Commands only print.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { describeTarget } from '../config/database-url.js'
import { ConfigError } from '../errors.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import type { SchemaBrief } from '../dialects/catalog-port.js'
import { keepCompared, resolveSchemaScope } from './compared-schemas.js'
import type { RenderedSql } from '../dialects/schema-sql.js'
import { usingDatabase } from '../dialects/index.js'
import { type RenameDecision, diffSchemas } from '../schema/diff-schemas.js'
import type { Models, Table } from '../schema/define-models.js'
import { loadModels } from '../schema/load-models.js'
import { modelsToSchema } from '../schema/models-to-schema.js'
import type { DatabaseSchema, UnmanagedObject } from '../schema/normalised-schema.js'
import { renderSchemaSql } from '../schema/render-schema-sql.js'
import { type MigrationApplier, applyMigrationsWithRunner, replayMigrations } from './replay-migrations.js'
import { renderModelsSource } from '../schema/render-models-source.js'
import type { SchemaChange } from '../schema/schema-change.js'

/** Options of {@link compareSchemas}. */
export interface CompareSchemasOptions {
  /** `live` (default): the configured database; `migrations`: the migrations replayed. */
  against?: 'live' | 'migrations'
  renames?: readonly RenameDecision[]
  /** The models module; default the config's `models`. */
  modelsPath?: string | undefined
  /** The models themselves, instead of a module to load (programmatic use). */
  models?: Models | readonly Table[] | undefined
  connect: ConnectOptions
  /** For `against: 'migrations'`: applies the migrations to the shadow database; default the migration runner. */
  apply?: MigrationApplier
  /** For `against: 'migrations'` on PostgreSQL: a database to replay into; default the config's `SHADOW_DATABASE_URL`. */
  shadowUrl?: string | undefined
}

/** What `schema diff` found. */
export interface SchemaComparison {
  against: 'live' | 'migrations'
  dialect: DatabaseSchema['dialect']
  /** The models file, as shown in messages. */
  modelsFile: string
  /** What turns the database (or the replay) into the models, in order. */
  changes: SchemaChange[]
  /** Likely renames that were not declared, and other things to look at twice. */
  warnings: string[]
  /** Objects dbops does not manage, found in the database: never drift. */
  unmanaged: UnmanagedObject[]
  /** Schemas of the live database that hold tables but were not compared (empty against migrations). */
  notCompared: SchemaBrief[]
  /** The SQL of the changes. */
  sql: RenderedSql
  /** The database's (or the replay's) schema and the models', for callers that render more. */
  from: DatabaseSchema
  to: DatabaseSchema
}

/**
 * The models as a normalised schema for the config's dialect: `source.models` when given,
 * else the module at `source.modelsPath`, else the config's `models`; only their tables and
 * enums in the compared schemas (see {@link keepCompared}).
 */
export async function loadModelsSchema(
  config: ResolvedConfig,
  source: { modelsPath?: string | undefined; models?: Models | readonly Table[] | undefined } = {},
): Promise<{ schema: DatabaseSchema; label: string }> {
  const defaultSchema = config.schema
  if (source.models !== undefined) {
    const schema = modelsToSchema(source.models, config.target.dialect, { source: 'models', defaultSchema })
    return { schema: keepCompared(schema, config), label: 'the models' }
  }
  const file = source.modelsPath ?? config.modelsPath
  if (file === undefined) {
    throw new ConfigError('No models module is configured', {
      code: 'MODELS_NOT_CONFIGURED',
      hint: "Add models: 'models.ts' to dbops.config.ts, or pass --models FILE (`dbops schema pull --out models.ts` writes one).",
    })
  }
  const loaded = await loadModels(file, { cwd: config.cwd })
  const schema = modelsToSchema(loaded.tables, config.target.dialect, { source: loaded.label, defaultSchema })
  return { schema: keepCompared(schema, config), label: loaded.label }
}

/** The warnings the changes carry, each once. */
export function collectWarnings(changes: readonly SchemaChange[]): string[] {
  return [...new Set(changes.map((c) => c.warning).filter((w): w is string => w !== undefined))]
}

/**
 * Compares the models with the live database (default) or with the migrations replayed into
 * a throwaway database. The changes turn the database into the models.
 *
 * @example
 * const result = await compareSchemas(config, { connect: { mode: 'read', command: 'ci' } })
 * if (result.changes.length > 0) process.exitCode = 3
 */
export async function compareSchemas(config: ResolvedConfig, options: CompareSchemasOptions): Promise<SchemaComparison> {
  const against = options.against ?? 'live'
  const models = await loadModelsSchema(config, options)
  let from: DatabaseSchema
  let notCompared: SchemaBrief[] = []
  if (against === 'live') {
    ;({ schema: from, notCompared } = await introspectCompared(config, options.connect))
  } else {
    const apply = options.apply ?? applyMigrationsWithRunner
    from = await replayMigrations(config, { apply, shadowUrl: options.shadowUrl ?? config.shadowUrl, connect: options.connect })
  }
  from = keepCompared(from, config) // enums of other schemas the compared tables use are not compared
  const changes = diffSchemas(from, models.schema, { renames: options.renames ?? [] })
  return {
    against,
    dialect: from.dialect,
    modelsFile: models.label,
    changes,
    warnings: collectWarnings(changes),
    unmanaged: from.unmanaged,
    notCompared,
    sql: renderSchemaSql(changes, { from, to: models.schema }),
    from,
    to: models.schema,
  }
}

/** What `schema pull` produced. */
export interface PulledModels {
  source: string
  schema: DatabaseSchema
  /** Schemas that hold tables but were not pulled. */
  notCompared: SchemaBrief[]
}

/** The live database's compared schemas, introspected, and the schemas left out. */
async function introspectCompared(
  config: ResolvedConfig,
  connect: ConnectOptions,
): Promise<{ schema: DatabaseSchema; notCompared: SchemaBrief[] }> {
  return usingDatabase(config, { ...connect, mode: 'read' }, async (conn) => {
    const scope = await resolveSchemaScope(conn, config)
    return {
      schema: await conn.dialect.introspect(conn, { ...scope, historyTable: config.migrationsTable }),
      notCompared: scope.notCompared,
    }
  })
}

/**
 * Reads the live database and writes it as a TypeScript models module (the text; the
 * caller decides where it goes).
 */
export async function pullModels(config: ResolvedConfig, options: { connect: ConnectOptions }): Promise<PulledModels> {
  const { schema, notCompared } = await introspectCompared(config, options.connect)
  const origin = describeTarget(config.target).replace(/^\S+\s+/, '')
  return { schema, notCompared, source: renderModelsSource(schema, { origin, defaultSchema: config.schema }) }
}
