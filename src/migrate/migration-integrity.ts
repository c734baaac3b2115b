/**
 * The integrity problems of a database's migrations: dirty, changed, missing, out of order,
 * and a database dbmate manages. `migrate status` lists them as sentences; `up` and `down`
 * refuse them (exit 6) with the command that resolves them. Every message about them is here.
 */
import { DbopsError, ExitCode, IntegrityError } from '../errors.js'
import type { ClassifiedMigration, Classification, MigrationState } from './classify-migrations.js'

function named(classification: Classification, state: MigrationState): string[] {
  return classification.migrations.filter((m) => m.state === state).map((m) => m.name)
}

function outOfOrder(classification: Classification): string[] {
  return classification.migrations.filter((m) => m.outOfOrder).map((m) => m.name)
}

/**
 * One sentence per problem, with the command that resolves it, as `migrate status` reports
 * them; `dbmateVersions`: the versions dbmate recorded when it manages the database instead.
 */
export function integrityProblems(classification: Classification, dirLabel: string, dbmateVersions: number | undefined): string[] {
  const problems: string[] = []
  const dirty = named(classification, 'dirty')
  const changed = named(classification, 'changed')
  const missing = named(classification, 'missing')
  const late = outOfOrder(classification)
  if (dirty.length > 0)
    problems.push(`dirty (started outside a transaction, never finished): ${dirty.join(', ')}; sort it out, then \`dbops migrate repair\``)
  if (changed.length > 0)
    problems.push(`changed since applied: ${changed.join(', ')}; restore the files, or accept them with \`dbops migrate repair\``)
  if (missing.length > 0)
    problems.push(
      `applied but missing from ${dirLabel}: ${missing.join(', ')}; restore the files, or forget them with \`dbops migrate repair\``,
    )
  if (late.length > 0)
    problems.push(
      `pending but older than the head ${classification.head}: ${late.join(', ')}; give them newer versions, or \`dbops migrate up --allow-out-of-order\``,
    )
  if (dbmateVersions !== undefined)
    problems.push(`managed by dbmate (schema_migrations has ${dbmateVersions} versions); adopt it with \`dbops migrate import-dbmate\``)
  return problems
}

/**
 * Refuses a run (exit 6) while a migration is dirty, naming it and what to do before `up`
 * (it becomes pending again) or `down` can run.
 */
export function assertNotDirty(classification: Classification, direction: 'up' | 'down'): void {
  const dirty = named(classification, 'dirty')
  if (dirty.length === 0) return
  const repair = `\`dbops migrate repair ${dirty[0]}\``
  throw new IntegrityError('MIGRATION_DIRTY', `Migration ${dirty.join(', ')} is dirty: it ran outside a transaction and did not finish`, {
    hint:
      direction === 'up'
        ? `Check what it changed and finish or undo it by hand, then run ${repair} (it becomes pending again).`
        : `Sort it out by hand, then run ${repair} before rolling back.`,
  })
}

/**
 * Throws {@link IntegrityError} (exit 6) when `up` must not run: a dirty migration, an applied
 * one changed or missing, or a pending one older than the head (unless `allowOutOfOrder`).
 */
export function assertUpAllowed(
  classification: Classification,
  options: { allowOutOfOrder?: boolean | undefined },
  dirLabel: string,
): void {
  assertNotDirty(classification, 'up')
  const changed = named(classification, 'changed')
  const missing = named(classification, 'missing')
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
  const late = outOfOrder(classification)
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

/** Refuses (exit 6) to roll back a migration of `plan` that changed or is missing: its down section may not fit. */
export function assertRollbackMatches(plan: ClassifiedMigration[], dirLabel: string): void {
  const blocked = plan.filter((m) => m.state !== 'applied')
  if (blocked.length === 0) return
  const list = blocked
    .map((m) => `${m.name} (${m.state === 'missing' ? `missing from ${dirLabel}` : 'changed since it was applied'})`)
    .join(', ')
  throw new IntegrityError('MIGRATION_CHANGED', `Cannot roll back ${list}: its down section may not match what was applied`, {
    hint: 'Restore the file as it was applied (git checkout), or accept it with `dbops migrate repair` first.',
  })
}

/** The refusal when dbmate manages the database and dbops does not yet (exit 6). */
export function dbmateManagedError(versions: string[]): DbopsError {
  return new DbopsError(
    'DBMATE_MANAGED',
    ExitCode.integrity,
    `This database is managed by dbmate (schema_migrations holds ${versions.length} version${versions.length === 1 ? '' : 's'}) and has no dbops_migrations table`,
    {
      hint: 'Run `dbops migrate import-dbmate` to adopt dbmate’s history; `up` will not re-run what dbmate applied.',
    },
  )
}
