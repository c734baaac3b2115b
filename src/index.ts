/**
 * dbops' programmatic API: everything a command can do, importable.
 *
 * @example
 * import { resolveConfig, usingDatabase } from 'dbops'
 * const config = await resolveConfig()
 * await usingDatabase(config, { mode: 'read', command: 'script' }, async (conn) => { … })
 */
export * from './errors.js'
export { defineConfig, type DbopsConfigFile, type DatabaseFileSettings } from './config/config-file.js'
export {
  resolveConfig,
  type ResolvedConfig,
  type ResolveOptions,
  type ConfigSetting,
  type SettingSource,
  type PoolSettings,
  type SqliteSettings,
  type BackupSettings,
} from './config/resolve-config.js'
/** Alias of {@link resolveConfig}, the name DESIGN.md uses. */
export { resolveConfig as loadConfig } from './config/resolve-config.js'
export {
  parseDatabaseUrl,
  normaliseDatabaseUrl,
  describeTarget,
  formatTargetUrl,
  type DatabaseTarget,
  type SqliteTarget,
  type PostgresTarget,
  type TlsSettings,
  type SslMode,
} from './config/database-url.js'
export { redact, redactUrl, registerSecret } from './config/redact.js'
export { describeConfig, type ConfigReport } from './config/show-config.js'
export { assertDestructiveAllowed } from './config/production-guard.js'
export { connect, loadDialect, usingDatabase } from './dialects/index.js'
export type * from './dialects/dialect.js'
export { waitForDatabase, type WaitResult, type WaitOptions } from './health/wait-for-database.js'
export { scaffoldProject, type ScaffoldResult } from './project/scaffold-project.js'
export { taskListOptions, type TaskListOptions } from './ui/task-list-options.js'
export type * from './schema/normalised-schema.js'

// ---- schema: models, introspection, diff, rendering (issue 4) ----
export { emptySchema, isInternalTable } from './schema/normalised-schema.js'
export { col, raw, Column, type SqlText, type RawSql, type ColumnDefinition, type TypeTriple } from './schema/column-builder.js'
export {
  table,
  defineModels,
  isTable,
  isModels,
  type Table,
  type Models,
  type TableOptions,
  type IndexDefinition,
  type ForeignKeyDefinition,
  type InferDatabase,
  type InferTable,
  type InferDialect,
} from './schema/define-models.js'
export { modelsToSchema, type ModelsToSchemaOptions } from './schema/models-to-schema.js'
export { canonicalExpression } from './schema/canonical-expression.js'
export { parseColumnType, canonicalType, LOGICAL_TYPES, type LogicalTypeName } from './schema/column-type.js'
export { diffSchemas, parseRenameDecision, type RenameDecision, type DiffOptions } from './schema/diff-schemas.js'
export { summariseChange, invertChange, severityOf, type SchemaChange, type Severity, type ColumnAspect } from './schema/schema-change.js'
export { renderSchemaSql, formatSqlScript, formatSqlStatements, type RenderedSql, type SqlStep } from './schema/render-schema-sql.js'
export { loadModels, collectTables, type LoadedModels } from './schema/load-models.js'
export { renderModelsSource, type RenderModelsOptions } from './schema/render-models-source.js'
export {
  compareSchemas,
  pullModels,
  loadModelsSchema,
  type CompareSchemasOptions,
  type SchemaComparison,
  type PulledModels,
} from './schema/compare-schemas.js'
export {
  replayMigrations,
  usingShadowDatabase,
  applyMigrationsWithRunner,
  type MigrationApplier,
  type ShadowOptions,
} from './schema/replay-migrations.js'
export {
  generateMigrationFromModels,
  renderMigrationFromModels,
  migrationVersion,
  type GenerateFromModelsOptions,
  type GeneratedMigration,
  type RenderedMigration,
} from './schema/generate-migration-from-models.js'
