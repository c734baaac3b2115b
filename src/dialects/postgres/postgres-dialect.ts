/**
 * PostgreSQL through pg: the dialect object, assembled from one module per role (connect,
 * catalog, introspector, migration session, health, pool, shadow database, backup, restore,
 * identity). Nothing in this folder imports this module.
 */
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { UsageError } from '../../errors.js'
import type { ConnectOptions, Dialect } from '../dialect.js'
import { createPostgresBackup, preparePostgresBackup, verifyPostgresBackup } from './postgres-backup.js'
import { createPostgresCatalog } from './postgres-catalog.js'
import { connectPostgres } from './postgres-connect.js'
import type { PostgresConnection } from './postgres-connection.js'
import { readPostgresBackupIdentity } from './postgres-identity.js'
import { restorePostgresBackup } from './postgres-restore.js'
import { postgresMigrationTable } from './postgres-migration-table.js'
import { postgresPlanner } from './plan/postgres-planner.js'
import { postgresTraits } from './postgres-traits.js'

/** PostgreSQL: schemas; migrations serialised by a session-level advisory lock. */
export const postgresDialect: Dialect = {
  ...postgresTraits,
  migrationTable: postgresMigrationTable,
  supportsSchemas: true,

  connect(config: ResolvedConfig, options: ConnectOptions): Promise<PostgresConnection> {
    if (config.target.dialect !== 'postgres') throw new TypeError('postgresDialect.connect needs a PostgreSQL target')
    return connectPostgres(postgresDialect, config, config.target, options)
  },

  createCatalog: (conn) => createPostgresCatalog(conn),

  async introspect(conn, options) {
    return (await import('./postgres-introspector.js')).introspectPostgres(conn, options)
  },
  async acquireMigrationLock(conn, options) {
    return (await import('./postgres-migration-lock.js')).acquirePostgresMigrationLock(conn as PostgresConnection, options)
  },
  async migrationLockHolder(conn, options) {
    return (await import('./postgres-migration-lock.js')).findPostgresMigrationLockHolder(conn as PostgresConnection, options.table)
  },
  backupExtension({ gzip }) {
    if (gzip) {
      throw new UsageError('--gzip applies to SQLite backups: pg_dump --format=custom is compressed already', {
        code: 'BACKUP_GZIP_UNSUPPORTED',
      })
    }
    return 'dump'
  },
  prepareBackup: (conn, scope, options) => preparePostgresBackup(conn as PostgresConnection, scope, options),
  createBackup: (request) => createPostgresBackup(request),
  restoreBackup: (scope, request) => restorePostgresBackup(scope, request),
  verifyBackup: (scope, request) => verifyPostgresBackup(scope, request),
  readBackupIdentity: (scope, conn) => readPostgresBackupIdentity(scope, conn as PostgresConnection | undefined),
  // a host name can reach different clusters: a manifest that recorded only the address names no database for sure
  identityOfRecordedSource: () => undefined,
  async probeHealth(conn, options) {
    return (await import('./postgres-health.js')).probePostgresHealth(conn, options)
  },
  async probePool(conn) {
    return (await import('./postgres-pool.js')).probePostgresPool(conn)
  },
  async openDoctor(conn, options) {
    return (await import('./postgres-doctor.js')).openPostgresDoctor(conn, options)
  },
  async createShadowDatabase(config, options) {
    return (await import('./postgres-shadow-database.js')).openPostgresShadow(postgresDialect, config, options)
  },
  planner: postgresPlanner,
}
