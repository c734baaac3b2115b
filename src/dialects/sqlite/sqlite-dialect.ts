/**
 * SQLite through better-sqlite3: the dialect object, assembled from one module per role
 * (connect, catalog, introspector, migration lock, health, pool, shadow database, backup,
 * restore, identity). Nothing in this folder imports this module.
 */
import type { ResolvedConfig } from '../../config/resolve-config.js'
import type { ConnectOptions, Dialect } from '../dialect.js'
import { createSqliteBackup, prepareSqliteBackup, verifySqliteBackup } from './sqlite-backup.js'
import { createSqliteCatalog } from './sqlite-catalog.js'
import { connectSqlite } from './sqlite-connect.js'
import type { SqliteConnection } from './sqlite-connection.js'
import { sqliteFileIdentity, sqliteIdentityOfRecordedSource } from './sqlite-identity.js'
import { restoreSqliteBackup } from './sqlite-restore.js'
import { sqliteMigrationTable } from './sqlite-migration-table.js'
import { sqliteTraits } from './sqlite-traits.js'

/** SQLite: no schemas; migrations serialised by a lock file and the write lock. */
export const sqliteDialect: Dialect = {
  ...sqliteTraits,
  migrationTable: sqliteMigrationTable,
  supportsSchemas: false,

  connect(config: ResolvedConfig, options: ConnectOptions): Promise<SqliteConnection> {
    return connectSqlite(sqliteDialect, config, options)
  },

  createCatalog: (conn) => createSqliteCatalog(conn),
  async introspect(conn, options) {
    return (await import('./sqlite-introspector.js')).introspectSqlite(conn, options)
  },
  async acquireMigrationLock(conn, options) {
    return (await import('./sqlite-migration-lock.js')).acquireSqliteMigrationLock(conn as SqliteConnection, options)
  },
  async migrationLockHolder(conn) {
    return (await import('./sqlite-migration-lock.js')).findSqliteMigrationLockHolder(conn as SqliteConnection)
  },
  backupExtension: ({ gzip }) => (gzip ? 'db.gz' : 'db'),
  prepareBackup: (conn, _scope, options) => prepareSqliteBackup(conn as SqliteConnection, options),
  createBackup: (request) => createSqliteBackup(request),
  restoreBackup: (scope, request) => restoreSqliteBackup(scope.target, request),
  verifyBackup: (_scope, request) => verifySqliteBackup(request),
  async readBackupIdentity(scope, conn) {
    const target = conn?.target ?? scope.target
    if (target.dialect !== 'sqlite') throw new TypeError('sqliteDialect.readBackupIdentity needs a SQLite target')
    return sqliteFileIdentity(target.path)
  },
  identityOfRecordedSource: (source) => sqliteIdentityOfRecordedSource(source),
  async probeHealth(conn, options) {
    return (await import('./sqlite-health.js')).probeSqliteHealth(conn, options)
  },
  async probePool(conn) {
    return (await import('./sqlite-pool.js')).probeSqlitePool(conn)
  },
  async openDoctor(conn) {
    return (await import('./sqlite-doctor.js')).openSqliteDoctor(conn)
  },
  async createShadowDatabase(config) {
    return (await import('./sqlite-shadow-database.js')).createSqliteShadow(config)
  },
}
