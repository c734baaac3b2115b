/**
 * `migrate repair [NAME]`: the user's decision about an integrity problem, recorded. For an
 * edited applied file it records the file's new checksum (accepting the file as it is now);
 * for a missing file it forgets the row; for a dirty migration it deletes the `started` row,
 * so the migration is pending again. Guarded in production; says exactly what it changed.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { UsageError } from '../errors.js'
import { classifyMigrations } from './classify-migrations.js'
import { type MigrationOptions, displayPath, findMigration, readMigrationsDir, usingMigrationSession } from './migration-runner.js'
import type { RowChange } from './migration-store.js'

/** Options of {@link repairMigrations}. */
export interface RepairOptions extends MigrationOptions {
  /** Repair only this migration (version or file name); default: every problem. */
  name?: string
  /** Confirms the repair on a production or protected database. */
  yes?: boolean
}

/** One change `repair` made. */
export interface RepairChange {
  version: string
  name: string
  action: 'accepted_checksum' | 'forgot_missing' | 'cleared_dirty'
  /** What it means, in a sentence. */
  detail: string
}

/** The result of `migrate repair`. */
export interface RepairResult {
  database: string
  changes: RepairChange[]
}

/**
 * Repairs changed, missing and dirty migrations (all of them, or `options.name`), in one
 * transaction under the migration lock.
 *
 * @example
 * const { changes } = await repairMigrations(config, { name: '20250101120000', yes: true })
 */
export async function repairMigrations(config: ResolvedConfig, options: RepairOptions = {}): Promise<RepairResult> {
  assertDestructiveAllowed(config, {
    yes: Boolean(options.yes),
    action: 'repair migration records',
  })
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  return usingMigrationSession(
    config,
    options,
    'migrate repair',
    async (session, store, _conn, history) => {
      const classification = classifyMigrations(discovered.files, history.rows)
      let candidates = classification.migrations
      if (options.name !== undefined) {
        const target = findMigration(options.name, classification.migrations, dirLabel)
        candidates = candidates.filter((m) => m.version === target.version)
      }
      const changes: RowChange[] = []
      const report: RepairChange[] = []
      for (const m of candidates) {
        if (m.state === 'dirty') {
          changes.push({ kind: 'delete', version: m.version })
          report.push({
            version: m.version,
            name: m.name,
            action: 'cleared_dirty',
            detail: `cleared the dirty record of ${m.name}; it is pending again and \`dbops migrate up\` will run it from the start`,
          })
        } else if (m.state === 'changed') {
          changes.push({
            kind: 'set-checksum',
            version: m.version,
            checksum: m.file!.checksum,
            name: m.file!.name,
          })
          report.push({
            version: m.version,
            name: m.name,
            action: 'accepted_checksum',
            detail: `accepted ${m.name} as it is now (checksum ${m.row!.checksum.slice(0, 12)}… → ${m.file!.checksum.slice(0, 12)}…); nothing was run`,
          })
        } else if (m.state === 'missing') {
          changes.push({ kind: 'delete', version: m.version })
          report.push({
            version: m.version,
            name: m.name,
            action: 'forgot_missing',
            detail: `forgot ${m.name}, which is no longer in ${dirLabel}; its changes stay in the database`,
          })
        }
      }
      if (options.name !== undefined && changes.length === 0) {
        const m = candidates[0]
        throw new UsageError(`Nothing to repair for ${m?.name ?? options.name}: it is ${m?.state ?? 'unknown'}`, {
          code: 'NOTHING_TO_REPAIR',
          hint: 'repair handles changed, missing and dirty migrations; `dbops migrate status` lists them.',
        })
      }
      if (changes.length > 0) await store.changeRows(session, changes)
      return { database: describeTarget(config.target), changes: report }
    },
    'read',
  )
}
