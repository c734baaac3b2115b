/**
 * `backup list` and the data `health` reads: the backups in the backup directory with their
 * manifests, newest first.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection } from '../dialects/dialect.js'
import { type BackupEntry, resolveBackupDirectory, scanBackupDirectory } from './backup-directory.js'
import { resolveBackupOwner } from './backup-identity.js'

/** Options of {@link listBackups}. */
export interface ListBackupsOptions {
  /** Backup directory (default `BACKUP_DIR` / `backup.dir`). */
  dir?: string
  /**
   * Only the configured database's backups, by the identity their manifests record (default:
   * every database in the directory). PostgreSQL connects to read the identity unless `conn`
   * is given.
   */
  onlyThisDatabase?: boolean
  /** An open connection to the configured database, for its identity. */
  conn?: DbConnection
  /** How to connect without `conn` (the command's application name, echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>>
  signal?: AbortSignal
}

/**
 * The backups in the backup directory, newest first, each with its manifest's data (`null`
 * fields and a `status` saying why when the manifest is missing or invalid). A missing
 * directory lists nothing. Opens the database only to learn its identity, and only for
 * `onlyThisDatabase`.
 *
 * @example
 * const newestVerified = (await listBackups(config, { onlyThisDatabase: true }))
 *   .find((b) => b.verification_level !== 'none')
 */
export async function listBackups(config: ResolvedConfig, options: ListBackupsOptions = {}): Promise<BackupEntry[]> {
  const { dir } = resolveBackupDirectory(config, options.dir)
  const entries = scanBackupDirectory(dir)
  if (!options.onlyThisDatabase) return entries
  const owner = await resolveBackupOwner(config, { conn: options.conn, signal: options.signal, connect: options.connect })
  return entries.filter((e) => owner.owns(e))
}
