/**
 * `backup list` and the data `health` reads: the backups in the backup directory with their
 * manifests, newest first.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { type BackupEntry, resolveBackupDirectory, scanBackupDirectory } from './backup-directory.js'
import { backupDatabaseName } from './backup-name.js'

/** Options of {@link listBackups}. */
export interface ListBackupsOptions {
  /** Backup directory (default `BACKUP_DIR` / `backup.dir`). */
  dir?: string
  /** Only the configured database's backups (default: every database in the directory). */
  onlyThisDatabase?: boolean
}

/**
 * The backups in the backup directory, newest first, each with its manifest's data (`null`
 * fields and a `status` saying why when the manifest is missing or invalid). Never opens the
 * database; a missing directory lists nothing.
 *
 * @example
 * const newestVerified = (await listBackups(config, { onlyThisDatabase: true }))
 *   .find((b) => b.verification_level !== 'none')
 */
export async function listBackups(config: ResolvedConfig, options: ListBackupsOptions = {}): Promise<BackupEntry[]> {
  const { dir } = resolveBackupDirectory(config, options.dir)
  const entries = scanBackupDirectory(dir)
  if (!options.onlyThisDatabase) return entries
  const database = backupDatabaseName(config)
  return entries.filter((e) => e.database === database)
}
