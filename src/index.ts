/**
 * dbops' programmatic API: everything a command can do, importable.
 *
 * @example
 * import { resolveConfig, usingDatabase } from 'dbops'
 * const config = await resolveConfig()
 * await usingDatabase(config, { mode: 'read', command: 'script' }, async (conn) => { … })
 */
export * from './errors.js'
// defineConfig and the model DSL (col, table, defineModels, raw, InferDatabase …)
export * from './authoring.js'
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

// Migrations (issue 3)
export { migrateUp, type MigrateUpOptions } from './migrate/migrate-up.js'
export { migrateDown, type MigrateDownOptions } from './migrate/migrate-down.js'
export { getMigrationStatus, type MigrationStatusReport, type MigrationStatusEntry } from './migrate/migration-status.js'
export { repairMigrations, type RepairOptions, type RepairResult, type RepairChange } from './migrate/repair-migrations.js'
export { baselineMigrations, type BaselineResult } from './migrate/baseline-migrations.js'
export { importDbmate, type ImportDbmateResult } from './migrate/import-dbmate.js'
export { generateMigration, type GenerateOptions, type GenerateResult } from './migrate/generate-migration.js'
export { readMigrationHead, MIGRATION_TABLE } from './migrate/migration-table.js'
export { discoverMigrations, checksumOf, type MigrationFile, type DiscoveredMigrations } from './migrate/discover-migrations.js'
export { splitSqlStatements, type SqlStatement } from './sql/split-sql.js'
export type { SqlSyntax } from './sql/sql-tokenizer.js'
export { parseSqlMigration, type ParsedSqlMigration, type SqlSection } from './migrate/parse-sql-migration.js'
export { MigrationFailedError, type MigrationLocation } from './migrate/migration-failed-error.js'
export type { MigrationOptions, MigrationProgress, MigrationResult, MigrationRunResult } from './migrate/migration-runner.js'
export type { MigrationSession, MigrationRow, MigrationStep } from './migrate/migration-session.js'

// On-call: health, pool, inspect (issue 6)
export {
  checkHealth,
  watchHealth,
  healthExitCode,
  type HealthReport,
  type HealthComponentReport,
  type HealthResult,
  type HealthOptions,
  type WatchOptions,
  type HealthSources,
  type HealthSourceContext,
  type MigrationSummary,
  type BackupSummary,
} from './health/check-health.js'
export { defaultHealthSources } from './health/health-sources.js'
export {
  HEALTH_THRESHOLDS,
  resolveThresholds,
  thresholdEnvName,
  type HealthThresholds,
  type ThresholdName,
  type ThresholdSpec,
} from './health/health-thresholds.js'
export {
  checkPool,
  capConnections,
  DEFAULT_RESERVE,
  type PoolReport,
  type PoolOptions,
  type PoolClientReport,
  type PoolServerReport,
} from './health/check-pool.js'
export {
  onCallConnectOptions,
  usingOnCallSession,
  ON_CALL_STATEMENT_TIMEOUT_MS,
  ON_CALL_LOCK_TIMEOUT_MS,
} from './health/on-call-session.js'
export { inspectTables, type TablesReport } from './inspect/inspect-tables.js'
export { inspectTable, type TableReport } from './inspect/inspect-table.js'
export {
  inspectRows,
  parseRowFilter,
  parseRowOrder,
  type RowsReport,
  type RowsRequest,
  type RowFilter,
  type RowOrder,
} from './inspect/inspect-rows.js'

// ---- schema: models, introspection, diff, rendering (issue 4) ----
export { emptySchema } from './schema/normalised-schema.js'
export { isInternalTable } from './sql/internal-tables.js'
export { modelsToSchema, type ModelsToSchemaOptions } from './schema/models-to-schema.js'
export { canonicalExpression } from './schema/canonical-expression.js'
export { parseColumnType, canonicalType, LOGICAL_TYPES, type LogicalTypeName } from './sql/column-type.js'
export { diffSchemas, parseRenameDecision, type RenameDecision, type DiffOptions } from './schema/diff-schemas.js'
export { summariseChange, invertChange, severityOf, type SchemaChange, type ColumnAspect } from './schema/schema-change.js'
export type { Severity } from './sql/severity.js'
export { renderSchemaSql, formatSqlScript, formatSqlStatements } from './schema/render-schema-sql.js'
export type { RenderedSql, SqlStep } from './dialects/schema-sql.js'
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
export { replayMigrations, usingShadowDatabase, applyMigrationsWithRunner, type MigrationApplier } from './schema/replay-migrations.js'
export type { ShadowOptions } from './dialects/dialect.js'
export {
  generateMigrationFromModels,
  renderMigrationFromModels,
  migrationVersion,
  type GenerateFromModelsOptions,
  type GeneratedMigration,
  type RenderedMigration,
} from './schema/generate-migration-from-models.js'

// Backups: create, list, verify, restore, prune; retention is a pure function.
export { createBackup, type CreateBackupOptions, type CreateBackupResult } from './backup/create-backup.js'
export { listBackups, type ListBackupsOptions } from './backup/list-backups.js'
export { type BackupEntry } from './backup/backup-directory.js'
export { verifyBackup, type VerifyOptions, type VerifyResult, type BackupSelector } from './backup/verify-backup.js'
export { restoreBackup, type RestoreOptions, type RestoreResult } from './backup/restore-backup.js'
export { pruneBackups, type PruneOptions, type PruneResult } from './backup/prune-backups.js'
export { planRetention, type RetentionPolicy, type RetentionCandidate, type RetentionDecision } from './backup/retention.js'
export { type BackupManifest, type ManifestVerification } from './backup/backup-manifest.js'
export { backupDatabaseName } from './backup/backup-name.js'
export { resolveBackupIdentity, backupSeriesName } from './backup/backup-identity.js'
export { findPgTool, type PgTool, type FindPgToolOptions } from './dialects/postgres/find-pg-tool.js'
