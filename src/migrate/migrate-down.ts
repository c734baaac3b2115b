/**
 * `migrate down`: rolls back applied migrations, newest first, each in its own transaction
 * with the deletion of its row. One step by default; `to` names the migration to stay at
 * (it remains applied and becomes the head), `to: '0'` rolls back everything. Every
 * migration to roll back must have a down section, checked before anything runs.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { UsageError } from '../errors.js'
import { type ClassifiedMigration, type Classification, classifyMigrations } from './classify-migrations.js'
import { compareVersions } from './discover-migrations.js'
import { assertNotDirty, assertRollbackMatches } from './migration-integrity.js'
import {
  type MigrationOptions,
  type MigrationRunResult,
  displayPath,
  findMigration,
  indentedMarkerWarnings,
  readMigrationsDir,
  usingMigrationSession,
} from './migration-runner.js'
import { prepareMigrations } from './prepare-migrations.js'
import { lockRetryPolicy } from './lock-retry.js'
import { headAfter, runMigrations } from './run-migrations.js'

/** Options of {@link migrateDown}. */
export interface MigrateDownOptions extends MigrationOptions {
  /** Stay at this migration (version or file name; it remains applied), or `'0'` for none. */
  to?: string
  /** Roll back this many (default 1). */
  step?: number
  /** Confirms a rollback on a production or protected database. */
  yes?: boolean
}

/**
 * Rolls back migrations. Refuses without `yes` in production (exit 2), on a dirty database,
 * and when a migration to roll back changed or is missing (exit 6).
 *
 * @example
 * await migrateDown(config, { step: 2 })
 */
export async function migrateDown(config: ResolvedConfig, options: MigrateDownOptions = {}): Promise<MigrationRunResult> {
  if (options.to !== undefined && options.step !== undefined) throw new UsageError('--to and --step cannot be used together')
  assertDestructiveAllowed(config, { yes: Boolean(options.yes), action: 'roll back migrations' })
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  const database = describeTarget(config.target)
  return usingMigrationSession(
    config,
    options,
    'migrate down',
    async (session, store, _conn, history) => {
      const classification = classifyMigrations(discovered.files, history.rows)
      const plan = selectApplied(classification, options, dirLabel)
      const prepared = await prepareMigrations(config, plan, 'down')
      const { results, error } = await runMigrations(session, prepared, 'down', options, lockRetryPolicy(config, options))
      const head = await headAfter(session, store, history.rows, results, classification.head)
      const warnings = indentedMarkerWarnings(
        config,
        plan.map((m) => m.file!),
      )
      return { database, direction: 'down', dry_run: false, results, head, error, warnings }
    },
    'read',
  )
}

function selectApplied(classification: Classification, options: MigrateDownOptions, dirLabel: string): ClassifiedMigration[] {
  assertNotDirty(classification, 'down')
  const recorded = classification.migrations.filter((m) => m.row).reverse() // newest first
  let plan: ClassifiedMigration[]
  if (options.to !== undefined) {
    if (options.to.trim() === '0') plan = recorded
    else {
      const target = findMigration(options.to, classification.migrations, dirLabel)
      if (!recorded.some((m) => m.version === target.version)) {
        throw new UsageError(`${target.name} is not applied, so it cannot be the migration to stay at`, {
          hint: 'Name an applied migration, or use --to 0 to roll back everything.',
        })
      }
      plan = recorded.filter((m) => compareVersions(m.version, target.version) > 0)
    }
  } else {
    const step = options.step ?? 1
    if (!Number.isInteger(step) || step < 1) throw new UsageError('--step must be a whole number ≥ 1')
    plan = recorded.slice(0, step)
  }
  assertRollbackMatches(plan, dirLabel)
  return plan
}
