/**
 * `migrate import-dbmate`: adopts a database that dbmate manages. Each version in dbmate's
 * `schema_migrations` (in the history table's schema) whose file is in the migrations
 * directory is recorded in the history table as applied (with the file's checksum), so `up` continues where dbmate
 * stopped instead of re-running everything. dbmate's table is left in place.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, ExitCode } from '../errors.js'
import { dbopsVersion } from '../package-root.js'
import { classifyMigrations } from './classify-migrations.js'
import { compareVersions } from './discover-migrations.js'
import { type MigrationOptions, readMigrationsDir, usingMigrationSession } from './migration-runner.js'

/** The result of `migrate import-dbmate`. */
export interface ImportDbmateResult {
  database: string
  /** Versions recorded as applied. */
  imported: Array<{ version: string; name: string }>
  /** dbmate versions already in dbops_migrations. */
  already_recorded: string[]
  /** dbmate versions with no file in the directory (not recorded). */
  without_file: string[]
  head: string | null
}

/**
 * Records dbmate's applied versions, in one transaction under the migration lock. Throws
 * (exit 1) when there is no `schema_migrations` table.
 */
export async function importDbmate(config: ResolvedConfig, options: MigrationOptions = {}): Promise<ImportDbmateResult> {
  const discovered = readMigrationsDir(config)
  return usingMigrationSession(
    config,
    options,
    'migrate import-dbmate',
    async (session, store, _conn, history) => {
      const versions = await store.readDbmateVersions(session, history.dbmateExists)
      if (!versions) {
        throw new DbopsError('DBMATE_NOT_FOUND', ExitCode.failed, `No dbmate schema_migrations table in ${describeTarget(config.target)}`, {
          hint: 'Check --url, and on PostgreSQL the schema dbmate used: dbops looks beside its history table (DBOPS_MIGRATIONS_TABLE, default dbops_migrations in DATABASE_SCHEMA).',
        })
      }
      await store.ensureTable(session, history.exists)
      const before = classifyMigrations(discovered.files, history.rows)
      const recorded = new Set(before.migrations.filter((m) => m.row).map((m) => m.version))
      const imported: Array<{ version: string; name: string }> = []
      const alreadyRecorded: string[] = []
      const withoutFile: string[] = []
      for (const version of versions) {
        const file = discovered.files.find((f) => compareVersions(f.version, version) === 0)
        if (!file) withoutFile.push(version)
        else if (recorded.has(file.version)) alreadyRecorded.push(version)
        else imported.push({ version: file.version, name: file.name })
      }
      await store.changeRows(
        session,
        imported.map((m) => {
          const file = discovered.files.find((f) => f.version === m.version)!
          return {
            kind: 'insert' as const,
            row: {
              version: file.version,
              name: file.name,
              checksum: file.checksum,
              dbopsVersion: dbopsVersion(),
            },
          }
        }),
      )
      const after = classifyMigrations(discovered.files, await store.readRows(session))
      return {
        database: describeTarget(config.target),
        imported,
        already_recorded: alreadyRecorded,
        without_file: withoutFile,
        head: after.head ?? null,
      }
    },
    'read',
  )
}
