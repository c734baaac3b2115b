/**
 * `migrate plan`: what the pending migrations will really lock, measured. The target's schema
 * is copied (schema only) into a throwaway database, each pending migration runs there as
 * `migrate up` would run it, traced statement by statement by the dialect's planner, and each
 * statement is graded by the target's real sizes. The target is only read; the copy is dropped
 * whatever happens (a failure, SIGINT/SIGTERM).
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connectionScope, loadDialect } from '../dialects/index.js'
import type { LintFinding } from '../dialects/lint-port.js'
import type { MigrationTrace, MigrationTracer } from '../dialects/plan-port.js'
import { MigrationStepError } from '../dialects/migration-port.js'
import { DbopsError, ExitCode, UsageError } from '../errors.js'
import { classifyMigrations } from './classify-migrations.js'
import { type PlanGrade, type PlanLock, gradeStatement, worseGrade } from './grade-plan.js'
import { selectPending } from './migrate-up.js'
import { attachLintFindings } from './plan-lint.js'
import { assertUpAllowed, dbmateManagedError } from './migration-integrity.js'
import { MigrationFailedError, describeLocation } from './migration-failed-error.js'
import { type MigrationOptions, displayPath, readMigrationsDir, readRowsReadOnly } from './migration-runner.js'
import { type PreparedMigration, prepareMigrations } from './prepare-migrations.js'

/** One statement of the plan (snake_case: it is the `--json` document and the plan file). */
export interface PlannedStatement {
  /** Where it starts in the file; null for a module traced as one step. */
  line: number | null
  column: number | null
  /** The statement on one line, shortened. */
  sql: string
  locks: PlanLock[]
  rewritten: string[]
  validated: string[]
  not_null_checked: string[]
  indexes_built: string[]
  created: string[]
  /** What it blocks on tables of the target. */
  blocks: { reads: boolean; writes: boolean; ddl: boolean }
  grade: PlanGrade
  reason: string
  /** The static lint's findings on this statement, downgraded where the trace disproves them. */
  lint: LintFinding[]
}

/** One pending migration of the plan. */
export interface PlannedMigration {
  version: string
  name: string
  /** The file's checksum when planned: `migrate up --plan` refuses a file changed since. */
  checksum: string
  transaction: boolean
  /** `statements`, or `whole` for a module traced as one step (its queries are not split). */
  traced: 'statements' | 'whole'
  statements: PlannedStatement[]
  /** Transactional migrations: every lock held at its commit. */
  commit_locks: PlanLock[] | null
  grade: PlanGrade
}

/** The plan: the `--json` document, and what `--out` saves. */
export interface MigrationPlan {
  format: 'dbops-plan/1'
  database: string
  created_at: string
  /** Where the trace ran. */
  copy: string | null
  migrations: PlannedMigration[]
  /** The worst statement's grade; `low` when nothing is pending. */
  grade: PlanGrade
  /** Set when the static lint could not run beside the trace. */
  lint_note?: string
}

/** Options of {@link planMigrations}. */
export interface PlanMigrationsOptions extends MigrationOptions {
  to?: string
  step?: number
  allowOutOfOrder?: boolean
  onNote?: (text: string) => void
}

/** One line, at most `max` characters: `ALTER TABLE orders ALTER COLUMN amount TYPE bigint`. */
export function sqlExcerpt(text: string, max = 100): string {
  const line = text.replace(/\s+/g, ' ').trim().replace(/;$/, '')
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/**
 * Plans the pending migrations of `config` (see the module comment). A database whose dialect
 * cannot trace (SQLite): exit 2, pointing at `migrate lint`. A migration that fails in the copy:
 * {@link MigrationFailedError} (exit 1) naming the file and line.
 *
 * @example
 * const plan = await planMigrations(await resolveConfig(), { signal })
 * for (const m of plan.migrations) console.log(m.name, m.grade)
 */
export async function planMigrations(config: ResolvedConfig, options: PlanMigrationsOptions = {}): Promise<MigrationPlan> {
  const dialect = await loadDialect(config.target.dialect)
  const planner = dialect.planner
  if (!planner) {
    throw new UsageError(
      `migrate plan needs PostgreSQL (this database is ${dialect.displayName}): run \`dbops migrate lint\` for the static checks`,
      { code: 'PLAN_UNSUPPORTED' },
    )
  }
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  const state = await readRowsReadOnly(config, options, 'migrate plan')
  if (!state.tableExists && state.dbmateVersions) throw dbmateManagedError(state.dbmateVersions)
  const classification = classifyMigrations(discovered.files, state.rows, state.runner)
  assertUpAllowed(classification, options, dirLabel)
  const prepared = await prepareMigrations(config, selectPending(classification, options, dirLabel), 'up')
  const plan: MigrationPlan = {
    format: 'dbops-plan/1',
    database: describeTarget(config.target),
    created_at: new Date().toISOString(),
    copy: null,
    migrations: [],
    grade: 'low',
  }
  if (prepared.length === 0) return plan

  const scope = connectionScope(config, { command: 'migrate plan', signal: options.signal, ...options.connect, mode: 'read' })
  const target = await scope.connect()
  try {
    const copy = await planner.copySchema(scope, { config, shadowUrl: config.shadowUrl, signal: options.signal, onNote: options.onNote })
    plan.copy = copy.description
    try {
      const tracer = await planner.openTracer(copy, {
        schema: config.schema,
        statementLockTimeoutMs: options.statementLockTimeoutMs ?? config.statementLockTimeoutSeconds * 1000,
        signal: options.signal,
      })
      let traces: MigrationTrace[]
      try {
        traces = await traceAll(tracer, prepared, options)
      } finally {
        await tracer.close()
      }
      const relations = new Set(traces.flatMap((t) => t.statements.flatMap((s) => s.locks.map((l) => l.table ?? l.relation))))
      const sizes = await planner.relationSizes(
        target,
        [...relations].filter((r) => tracer.existing.has(r)),
      )
      const context = { existing: tracer.existing, sizes, lockEffect: planner.lockEffect, smallTable: config.lint.smallTable }
      plan.migrations = prepared.map((item, index) => {
        const trace = traces[index]!
        let heldBefore = new Set<string>()
        const statements = trace.statements.map((s): PlannedStatement => {
          const graded = gradeStatement(s, context)
          const locks = graded.locks.map((l) => ({ ...l, held_before: heldBefore.has(`${l.relation} ${l.mode}`) }))
          if (item.step.transaction) heldBefore = new Set(locks.map((l) => `${l.relation} ${l.mode}`))
          return {
            line: s.line ?? null,
            column: s.column ?? null,
            sql: sqlExcerpt(s.sql),
            locks,
            rewritten: s.rewritten,
            validated: s.validated,
            not_null_checked: s.notNullChecked,
            indexes_built: s.indexesBuilt,
            created: s.created,
            blocks: graded.blocks,
            grade: graded.grade,
            reason: graded.reason,
            lint: [],
          }
        })
        return {
          version: item.file.version,
          name: item.file.name,
          checksum: item.file.checksum,
          transaction: item.step.transaction,
          traced: trace.granularity,
          statements,
          commit_locks: trace.commitLocks?.map((lock) => ({ ...lock, ...planner.lockEffect(lock.mode) })) ?? null,
          grade: statements.reduce<PlanGrade>((worst, s) => worseGrade(worst, s.grade), 'low'),
        }
      })
      const lintNote = await attachLintFindings(config, plan.migrations, prepared, target.serverVersion)
      if (lintNote) plan.lint_note = lintNote
      plan.grade = plan.migrations.reduce<PlanGrade>((worst, m) => worseGrade(worst, m.grade), 'low')
      return plan
    } finally {
      await copy.dispose()
    }
  } finally {
    await target.close()
  }
}

/** Traces each migration in order; the first failure becomes the error the user sees. */
async function traceAll(tracer: MigrationTracer, prepared: PreparedMigration[], options: PlanMigrationsOptions): Promise<MigrationTrace[]> {
  const traces: MigrationTrace[] = []
  for (const item of prepared) {
    if (options.signal?.aborted) throw options.signal.reason
    try {
      traces.push(await tracer.trace(item.step))
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason
      throw failedInCopy(err, item)
    }
  }
  return traces
}

function failedInCopy(err: unknown, item: PreparedMigration): DbopsError {
  if (err instanceof DbopsError) return err
  const details = err instanceof MigrationStepError ? err.details : undefined
  const location = { file: item.file.path, line: details?.line, column: details?.column }
  const sqlstate = details?.sqlstate
  const message = err instanceof Error ? err.message : String(err)
  return new MigrationFailedError(
    'MIGRATION_FAILED',
    ExitCode.failed,
    `Migration ${item.label} failed in the schema copy${describeLocation(location)}: ${message}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`,
    location,
    {
      hint: 'Nothing was applied to the target, and the copy was dropped. Fix the migration and run `dbops migrate plan` again.',
      cause: err,
      sqlstate,
    },
  )
}
