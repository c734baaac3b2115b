/**
 * Which database a backup belongs to. A file name says little: two SQLite files called
 * `app.db` in different directories, or two PostgreSQL databases called `app` on different
 * servers, back up under the same name. So every manifest records the identity of its source
 * (`source_identity`, see `Dialect.readBackupIdentity`: a SQLite file's real path; a
 * PostgreSQL cluster's system identifier and the database name), and everything that picks
 * "this database's backups" — `restore --latest`, `verify --latest`, retention, `list --mine`,
 * `health` — compares identities, never names. File names carry a short tag of the identity
 * too (`app-3f2a91c0-20250101T030000.000Z.db`), so two same-named databases never share a
 * name, a lock or a temporary file.
 *
 * Manifests written before identities existed: where the recorded `source` names the database
 * unambiguously (a SQLite file's absolute path) the identity is derived from it; otherwise
 * (PostgreSQL: a host name can reach different clusters) the backup's source is unknown: it is
 * listed, but never chosen by `--latest`, never pruned, and restoring it over data needs
 * `--from-other-database`, like any backup of another database.
 */
import { createHash } from 'node:crypto'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection, Dialect, DialectName } from '../dialects/dialect.js'
import { connectionScope, loadDialect } from '../dialects/index.js'
import type { BackupEntry } from './backup-directory.js'
import { backupDatabaseName, parseBackupFileName } from './backup-name.js'

/** The database whose backups a command works on. */
export interface BackupOwner {
  /** Its identity (`sqlite:/srv/app/data/app.db`, `postgres:7715536473959485580/app`). */
  identity: string
  /** The database part of its backups' names (`app`; see `backupDatabaseName`). */
  database: string
  dialect: DialectName
  /** The prefix of its backup file names: the database part and the identity's tag (`app-3f2a91c0`). */
  series: string
  /** Whether a listed backup is one of this database's, by the identity its manifest records. */
  owns(entry: BackupEntry): boolean
  /** Whether a listed backup carries this database's series in its name (whatever its manifest says). */
  isNamedAsOwn(entry: BackupEntry): boolean
  /** The identity a listed backup's manifest records or implies; undefined when unknown. */
  identityOf(entry: BackupEntry): string | undefined
}

/** Options of {@link resolveBackupOwner}. */
export interface ResolveOwnerOptions {
  /** An open connection to the database (PostgreSQL connects otherwise, to read the identity). */
  conn?: DbConnection | undefined
  signal?: AbortSignal | undefined
  /** How PostgreSQL connects without `conn` (the command's application name, echo, retries). */
  connect?: Partial<Omit<ConnectOptions, 'mode'>> | undefined
}

/** The 8 hex digits of an identity's sha256 that backup file names carry. */
export function identityTag(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 8)
}

/**
 * The prefix of a database's backup file names: `app` and an identity → `app-3f2a91c0`.
 *
 * @example backupSeriesName('app', 'sqlite:/srv/a/app.db') // 'app-<8 hex digits>'
 */
export function backupSeriesName(database: string, identity: string): string {
  return `${database}-${identityTag(identity)}`
}

/** The identity of the configured database (PostgreSQL: reads the cluster's, connecting unless `conn` is given). */
export async function resolveBackupIdentity(config: ResolvedConfig, options: ResolveOwnerOptions = {}): Promise<string> {
  const dialect = await loadDialect(config.target.dialect)
  const scope = connectionScope(config, { command: 'backup', signal: options.signal, ...options.connect, mode: 'read' })
  return dialect.readBackupIdentity(scope, options.conn)
}

/** The configured database as the owner of backups (see {@link BackupOwner}). */
export async function resolveBackupOwner(config: ResolvedConfig, options: ResolveOwnerOptions = {}): Promise<BackupOwner> {
  const dialect = await loadDialect(config.target.dialect)
  return backupOwner(backupDatabaseName(config), await resolveBackupIdentity(config, options), dialect)
}

/** The owner of backups with this `identity`, named `database`, of `dialect`. */
export function backupOwner(database: string, identity: string, dialect: Dialect): BackupOwner {
  const series = backupSeriesName(database, identity)
  const identityOf = (entry: BackupEntry): string | undefined => {
    const manifest = entry.manifest
    if (manifest === null) return undefined
    if (manifest.source_identity !== undefined) return manifest.source_identity
    return manifest.dialect === dialect.name && typeof manifest.source === 'string'
      ? dialect.identityOfRecordedSource(manifest.source)
      : undefined
  }
  return {
    identity,
    database,
    dialect: dialect.name,
    series,
    identityOf,
    owns: (entry) => identityOf(entry) === identity,
    isNamedAsOwn: (entry) => parseBackupFileName(entry.file)?.database === series,
  }
}
