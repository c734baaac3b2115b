/**
 * `migrate baseline --to VERSION`: records every migration up to and including VERSION as
 * applied without running it, for a database whose schema already matches them (created
 * before dbops, or restored from elsewhere).
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { dbopsVersion } from '../package-root.js'
import { classifyMigrations } from './classify-migrations.js'
import { compareVersions } from './discover-migrations.js'
import { type MigrationOptions, displayPath, findMigration, readMigrationsDir, usingMigrationSession } from './migration-runner.js'

/** The result of `migrate baseline`. */
export interface BaselineResult {
  database: string
  /** The migrations recorded as applied (without running them). */
  recorded: Array<{ version: string; name: string }>
  head: string | null
}

/**
 * Marks the migrations up to `to` (version or file name) applied, in one transaction under
 * the migration lock. Migrations already recorded are left as they are.
 *
 * @example
 * await baselineMigrations(config, { to: '20250101120000' })
 */
export async function baselineMigrations(config: ResolvedConfig, options: MigrationOptions & { to: string }): Promise<BaselineResult> {
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  return usingMigrationSession(
    config,
    options,
    'migrate baseline',
    async (session, store, _conn, history) => {
      await store.ensureTable(session, history.exists)
      const classification = classifyMigrations(discovered.files, history.rows)
      const target = findMigration(options.to, discovered.files, dirLabel)
      const toRecord = classification.migrations.filter((m) => m.state === 'pending' && compareVersions(m.version, target.version) <= 0)
      await store.changeRows(
        session,
        toRecord.map((m) => ({
          kind: 'insert',
          row: {
            version: m.version,
            name: m.file!.name,
            checksum: m.file!.checksum,
            dbopsVersion: dbopsVersion(),
          },
        })),
      )
      const after = classifyMigrations(discovered.files, await store.readRows(session))
      return {
        database: describeTarget(config.target),
        recorded: toRecord.map((m) => ({ version: m.version, name: m.name })),
        head: after.head ?? null,
      }
    },
    'read',
  )
}
