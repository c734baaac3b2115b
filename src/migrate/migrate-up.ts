/**
 * `migrate up`: applies pending migrations in version order, each in its own transaction
 * with its row, under the migration lock. Refuses (exit 6) when an applied migration changed,
 * went missing or is dirty, when a pending one is older than the newest applied one (unless
 * allowed), and when dbmate manages the database and dbops does not yet.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { IntegrityError, UsageError } from '../errors.js'
import { type ClassifiedMigration, type Classification, classifyMigrations } from './classify-migrations.js'
import { compareVersions } from './discover-migrations.js'
import {
  type MigrationOptions,
  type MigrationRunResult,
  dbmateManagedError,
  displayPath,
  findMigration,
  prepareMigrations,
  readMigrationsDir,
  readRowsReadOnly,
  runMigrations,
  usingMigrationSession,
} from './migration-runner.js'

/** Options of {@link migrateUp}. */
export interface MigrateUpOptions extends MigrationOptions {
  /** Apply up to and including this migration (version or file name). */
  to?: string
  /** Apply at most this many. */
  step?: number
  /** Print the plan (and the statements of `.sql` files); change nothing, take no lock. */
  dryRun?: boolean
  /** Apply pending migrations older than the newest applied one instead of refusing. */
  allowOutOfOrder?: boolean
}

/**
 * Applies pending migrations. Integrity problems and lock timeouts throw (nothing ran); a
 * migration that fails is reported in the result's `error`, with the migrations before it
 * applied.
 *
 * @example
 * const result = await migrateUp(await resolveConfig(), { step: 1 })
 * if (result.error) throw result.error
 */
export async function migrateUp(config: ResolvedConfig, options: MigrateUpOptions = {}): Promise<MigrationRunResult> {
  if (options.to !== undefined && options.step !== undefined) throw new UsageError('--to and --step cannot be used together')
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  const database = describeTarget(config.target)

  if (options.dryRun) {
    const state = await readRowsReadOnly(config, options, 'migrate up')
    if (!state.tableExists && state.dbmateVersions) throw dbmateManagedError(state.dbmateVersions)
    const classification = classifyMigrations(discovered.files, state.rows, state.runner)
    assertUpAllowed(classification, options, dirLabel)
    const plan = selectPending(classification, options, dirLabel)
    const prepared = await prepareMigrations(config, plan, 'up', state.flavour)
    return {
      database,
      direction: 'up',
      dry_run: true,
      results: prepared.map((p) => ({
        version: p.file.version,
        name: p.file.name,
        status: 'planned',
        duration_ms: null,
        transaction: p.preview.transaction,
        statements: p.preview.statements,
      })),
      head: classification.head ?? null,
      error: undefined,
    }
  }

  return usingMigrationSession(config, options, 'migrate up', async (session, conn) => {
    // dbmate's table and none of ours: adopt its history rather than re-run everything
    if (!(await session.tableExists())) {
      const dbmate = await session.readDbmateVersions()
      if (dbmate) throw dbmateManagedError(dbmate)
    }
    await session.ensureTable()
    const classification = classifyMigrations(discovered.files, await session.readRows())
    assertUpAllowed(classification, options, dirLabel)
    const plan = selectPending(classification, options, dirLabel)
    const prepared = await prepareMigrations(config, plan, 'up', conn.dialect.name)
    const { results, error } = await runMigrations(config, session, classification, prepared, 'up', options)
    const head = await session
      .readRows()
      .then((rows) => classifyMigrations(discovered.files, rows).head ?? null)
      .catch(() => classification.head ?? null)
    return { database, direction: 'up', dry_run: false, results, head, error }
  })
}

/** Throws {@link IntegrityError} (exit 6) naming the files and the command that resolves it. */
export function assertUpAllowed(
  classification: Classification,
  options: { allowOutOfOrder?: boolean | undefined },
  dirLabel: string,
): void {
  const named = (state: ClassifiedMigration['state']) => classification.migrations.filter((m) => m.state === state).map((m) => m.name)
  const dirty = named('dirty')
  if (dirty.length > 0) {
    throw new IntegrityError('MIGRATION_DIRTY', `Migration ${dirty.join(', ')} is dirty: it ran outside a transaction and did not finish`, {
      hint: `Check what it changed and finish or undo it by hand, then run \`dbops migrate repair ${dirty[0]}\` (it becomes pending again).`,
    })
  }
  const changed = named('changed')
  const missing = named('missing')
  if (changed.length > 0 || missing.length > 0) {
    const parts = [
      changed.length > 0 ? `changed since they were applied: ${changed.join(', ')}` : undefined,
      missing.length > 0 ? `applied but missing from ${dirLabel}: ${missing.join(', ')}` : undefined,
    ].filter(Boolean)
    throw new IntegrityError(
      changed.length > 0 ? 'MIGRATION_CHANGED' : 'MIGRATION_MISSING',
      `Applied migrations do not match ${dirLabel}: ${parts.join('; ')}`,
      {
        hint:
          'Restore the files as they were applied (git checkout), or accept them as they are with `dbops migrate repair` ' +
          '(records the new checksums, forgets missing ones). Put new changes in a new migration.',
      },
    )
  }
  const late = classification.migrations.filter((m) => m.outOfOrder).map((m) => m.name)
  if (late.length > 0 && !options.allowOutOfOrder) {
    throw new IntegrityError(
      'MIGRATION_OUT_OF_ORDER',
      `Pending migration${late.length === 1 ? '' : 's'} older than the newest applied one (${classification.head}): ${late.join(', ')}`,
      {
        hint: 'Give it a newer version (rename it with a later timestamp), or apply it anyway with `dbops migrate up --allow-out-of-order`.',
      },
    )
  }
}

/** The pending migrations a run applies, in order, cut by `to` or `step`. */
function selectPending(classification: Classification, options: MigrateUpOptions, dirLabel: string): ClassifiedMigration[] {
  const pending = classification.migrations.filter((m) => m.state === 'pending')
  if (options.to !== undefined) {
    const target = findMigration(options.to, classification.migrations, dirLabel)
    return pending.filter((m) => compareVersions(m.version, target.version) <= 0)
  }
  if (options.step !== undefined) {
    if (!Number.isInteger(options.step) || options.step < 1) throw new UsageError('--step must be a whole number ≥ 1')
    return pending.slice(0, options.step)
  }
  return pending
}
