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
