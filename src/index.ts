/**
 * dbops' programmatic API: what each command does, as a function, with the types of its
 * options and results; the config and models helpers; the errors to catch. The list is
 * deliberate (docs/api.md, "What the package exports"): internals (the migrations table's name, the SQL
 * splitter, the dialects' parts) stay out of it, so that they can change.
 *
 * @example
 * import { resolveConfig, usingDatabase } from 'dbops'
 * const config = await resolveConfig()
 * await usingDatabase(config, { mode: 'read', command: 'script' }, async (conn) => { … })
 */

// Errors: every failure is a DbopsError with a stable code, an exit code and a hint.
export {
  ExitCode,
  type ExitCodeValue,
  type DbopsErrorOptions,
  DbopsError,
  UsageError,
  ConfigError,
  DbUnreachableError,
  AuthFailedError,
  DatabaseMissingError,
  LockTimeoutError,
  IntegrityError,
  OperationError,
  ProductionGuardError,
  InterruptedError,
  isDbopsError,
} from './errors.js'

// defineConfig and the model DSL (col, table, defineModels, raw, InferDatabase …)
export * from './authoring.js'

// Configuration and connections
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
  describeTarget,
  type DatabaseTarget,
  type SqliteTarget,
  type PostgresTarget,
  type TlsSettings,
  type SslMode,
} from './config/database-url.js'
export { redact, redactUrl } from './config/redact.js'
export { describeConfig, type ConfigReport } from './config/show-config.js'
export { connect, usingDatabase } from './dialects/index.js'
export type { ConnectOptions, DbConnection, Dialect, DialectName, VerificationLevel } from './dialects/dialect.js'
export { waitForDatabase, type WaitResult, type WaitOptions } from './health/wait-for-database.js'
export { scaffoldProject, type ScaffoldResult } from './project/scaffold-project.js'

// Migrations
export { migrateUp, type MigrateUpOptions } from './migrate/migrate-up.js'
export { migrateDown, type MigrateDownOptions } from './migrate/migrate-down.js'
export { getMigrationStatus, type MigrationStatusReport, type MigrationStatusEntry } from './migrate/migration-status.js'
export { repairMigrations, type RepairOptions, type RepairResult, type RepairChange } from './migrate/repair-migrations.js'
export { baselineMigrations, type BaselineResult } from './migrate/baseline-migrations.js'
export { importDbmate, type ImportDbmateResult } from './migrate/import-dbmate.js'
export { generateMigration, type GenerateOptions, type GenerateResult } from './migrate/generate-migration.js'
export { MigrationFailedError, type MigrationLocation } from './migrate/migration-failed-error.js'
export {
  planMigrations,
  type MigrationPlan,
  type PlannedMigration,
  type PlannedStatement,
  type PlanMigrationsOptions,
} from './migrate/plan-migrations.js'
export { gradeStatement, type PlanGrade, type PlanLock, type StatementGrade } from './migrate/grade-plan.js'
export { savePlan, readPlanFile, assertPlanHolds, type PlanPin } from './migrate/plan-file.js'
export type { MigrationOptions, MigrationProgress, MigrationResult, MigrationRunResult } from './migrate/migration-runner.js'

// On call: health, pool, inspect
export {
  checkHealth,
  watchHealth,
  type HealthReport,
  type HealthComponentReport,
  type HealthResult,
  type HealthOptions,
  type WatchOptions,
} from './health/check-health.js'
export type { HealthSources, HealthSourceContext, MigrationSummary, BackupSummary } from './health/health-sources.js'
export { resolveThresholds, type HealthThresholds, type ThresholdName } from './health/health-thresholds.js'
export { checkPool, type PoolReport, type PoolOptions, type PoolClientReport, type PoolServerReport } from './health/check-pool.js'
export { inspectTables, type TablesReport } from './inspect/inspect-tables.js'
export { inspectTable, type TableReport } from './inspect/inspect-table.js'
export { inspectRows, type RowsReport, type RowsRequest, type RowFilter, type RowOrder } from './inspect/inspect-rows.js'

// Schema: models, the pure diff, SQL, drift
export type * from './schema/normalised-schema.js'
export { emptySchema } from './schema/normalised-schema.js'
export { modelsToSchema, type ModelsToSchemaOptions } from './schema/models-to-schema.js'
export { loadModels, type LoadedModels } from './schema/load-models.js'
export { diffSchemas, type RenameDecision, type DiffOptions } from './schema/diff-schemas.js'
export { summariseChange, invertChange, severityOf, type SchemaChange, type ColumnAspect } from './schema/schema-change.js'
export type { Severity } from './sql/severity.js'
export { renderSchemaSql, formatSqlScript, formatSqlStatements } from './schema/render-schema-sql.js'
export type { RenderedSql, SqlStep } from './dialects/schema-sql.js'
export {
  compareSchemas,
  pullModels,
  type CompareSchemasOptions,
  type SchemaComparison,
  type PulledModels,
} from './drift/compare-schemas.js'
export type { MigrationApplier } from './drift/replay-migrations.js'
export {
  generateMigrationFromModels,
  type GenerateFromModelsOptions,
  type GeneratedMigration,
} from './drift/generate-migration-from-models.js'

// Backups: create, list, verify, restore, prune; retention is a pure function.
export { createBackup, type CreateBackupOptions, type CreateBackupResult } from './backup/create-backup.js'
export { listBackups, type ListBackupsOptions } from './backup/list-backups.js'
export { type BackupEntry } from './backup/backup-directory.js'
export { verifyBackup, type VerifyOptions, type VerifyResult, type BackupSelector } from './backup/verify-backup.js'
export { restoreBackup, type RestoreOptions, type RestoreResult } from './backup/restore-backup.js'
export { pruneBackups, type PruneOptions, type PruneResult } from './backup/prune-backups.js'
export { planRetention, type RetentionPolicy, type RetentionCandidate, type RetentionDecision } from './backup/retention.js'
export { type BackupManifest, type ManifestVerification } from './backup/backup-manifest.js'
