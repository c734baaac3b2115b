/**
 * Where `dbops health` gets its migration and backup findings: the one place to plug the
 * migrations and backups modules in.
 *
 * TODO(merge): when `getMigrationStatus(config)` (src/migrate) and `listBackups(config)`
 * (src/backup) land, replace the two minimal readers below with adapters, e.g.
 *   migrations: async (config) => toMigrationSummary(await getMigrationStatus(config)),
 *   backups: async (config) => toBackupSummary(await listBackups(config)),
 * and delete read-migration-summary.ts and read-backup-summary.ts. The summaries are
 * defined in check-health.ts; their fields map one to one onto those modules' results
 * (pending / changed / missing / dirty counts and the head; the newest manifest's
 * `created_at`, `verification` and file).
 */
import type { HealthSources } from './check-health.js'
import { readBackupSummary } from './read-backup-summary.js'
import { readMigrationSummary } from './read-migration-summary.js'

/** The sources the `health` command uses. */
export function defaultHealthSources(): HealthSources {
  return {
    migrations: readMigrationSummary,
    backups: readBackupSummary,
  }
}
