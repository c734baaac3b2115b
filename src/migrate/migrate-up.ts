/**
 * `migrate up`: applies pending migrations in version order, each in its own transaction
 * with its row, under the migration lock. Refuses (exit 6) when an applied migration changed,
 * went missing or is dirty, when a pending one is older than the newest applied one (unless
 * allowed), and when dbmate manages the database and dbops does not yet.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { UsageError } from '../errors.js'
import { type ClassifiedMigration, type Classification, classifyMigrations } from './classify-migrations.js'
import { compareVersions } from './discover-migrations.js'
import type { DbConnection } from '../dialects/dialect.js'
import { serverVersionNumber } from './lint-target.js'
import { type GateReport, UnsafeMigrationError, isStanding, runMigrationGate } from './migration-gate.js'
import { assertUpAllowed, dbmateManagedError } from './migration-integrity.js'
import {
  type MigrationOptions,
  type MigrationRunResult,
  displayPath,
  findMigration,
  indentedMarkerWarnings,
  readMigrationsDir,
  readRowsOn,
  usingMigrationSession,
  usingReadConnection,
} from './migration-runner.js'
import { type PlanPin, assertPlanHolds } from './plan-file.js'
import { type PreparedMigration, prepareMigrations } from './prepare-migrations.js'
import { withInvalidIndexesOf } from './invalid-indexes.js'
import { lockRetryPolicy } from './lock-retry.js'
import { headAfter, runMigrations } from './run-migrations.js'

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
  /** `--plan`: apply only if the pending migrations are exactly these (exit 6 otherwise). */
  plan?: PlanPin | undefined
  /**
   * Lint the pending `.sql` migrations first and stop (exit 3, nothing applied) on error-level
   * findings that the target does not make harmless (see `migration-gate.ts`). Default true.
   */
  lint?: boolean
  /** Apply despite error-level findings; each such migration's history row records them. */
  allowUnsafe?: boolean
  /** Called with the gate's verdict once it is known, before anything is applied (to print it then). */
  onGate?: (report: GateReport) => void
}

/** The result of {@link migrateUp}: a run's, and what its gate decided (undefined with `lint: false`). */
export interface MigrateUpResult extends MigrationRunResult {
  lint?: GateReport | undefined
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
export async function migrateUp(config: ResolvedConfig, options: MigrateUpOptions = {}): Promise<MigrateUpResult> {
  if (options.to !== undefined && options.step !== undefined) throw new UsageError('--to and --step cannot be used together')
  const discovered = readMigrationsDir(config)
  const dirLabel = displayPath(config, discovered.dir)
  const database = describeTarget(config.target)

  if (options.dryRun) {
    // one read connection for the rows and the gate's catalog reads
    const read = await usingReadConnection(config, options, 'migrate up', async (conn) => {
      const state = await readRowsOn(conn, config, options)
      if (!state.tableExists && state.dbmateVersions) throw dbmateManagedError(state.dbmateVersions)
      const classification = classifyMigrations(discovered.files, state.rows, state.runner)
      assertUpAllowed(classification, options, dirLabel)
      const plan = selectPending(classification, options, dirLabel)
      if (options.plan) assertPlanHolds(options.plan, plan)
      const prepared = await prepareMigrations(config, plan, 'up')
      return { classification, plan, prepared, lint: await gate(config, prepared, options, conn) }
    })
    const { classification, plan, prepared, lint } = read
    return {
      database,
      direction: 'up',
      dry_run: true,
      lint,
      results: prepared.map((p) => ({
        version: p.file.version,
        name: p.file.name,
        status: 'planned',
        duration_ms: null,
        transaction: p.preview.transaction,
        statements: p.preview.statements,
      })),
      head: classification.head ?? null,
      error: lint?.blocked ? new UnsafeMigrationError(lint.findings.filter(isStanding)) : undefined,
      warnings: indentedMarkerWarnings(
        config,
        plan.map((m) => m.file!),
      ),
    }
  }

  return usingMigrationSession(config, options, 'migrate up', async (session, store, conn, history) => {
    // dbmate's table and none of ours: adopt its history rather than re-run everything
    if (!history.exists) {
      const dbmate = await store.readDbmateVersions(session, history.dbmateExists)
      if (dbmate) throw dbmateManagedError(dbmate)
    }
    await store.ensureTable(session, history.exists)
    const classification = classifyMigrations(discovered.files, history.rows)
    assertUpAllowed(classification, options, dirLabel)
    const plan = selectPending(classification, options, dirLabel)
    if (options.plan) assertPlanHolds(options.plan, plan)
    const prepared = await prepareMigrations(config, plan, 'up')
    const lint = await gate(config, prepared, options, conn)
    if (lint?.blocked) {
      const results = prepared.map((p) => ({ version: p.file.version, name: p.file.name, status: 'not_run' as const, duration_ms: null }))
      const error = new UnsafeMigrationError(lint.findings.filter(isStanding))
      const warnings = indentedMarkerWarnings(
        config,
        plan.map((m) => m.file!),
      )
      return { database, direction: 'up', dry_run: false, results, head: classification.head ?? null, error, warnings, lint }
    }
    if (prepared.some((p) => p.step.row.allowedUnsafe !== undefined)) await store.ensureUnsafeColumn(session)
    const run = await runMigrations(session, prepared, 'up', options, lockRetryPolicy(config, options))
    const { results } = run
    const failed = prepared[results.findIndex((r) => r.status === 'failed')]
    // outside a transaction, a failed CREATE INDEX CONCURRENTLY leaves its index behind
    const error = run.error && failed && !failed.step.transaction ? await withInvalidIndexesOf(conn, run.error, failed.file) : run.error
    const head = await headAfter(session, store, history.rows, results, classification.head)
    const warnings = indentedMarkerWarnings(
      config,
      plan.map((m) => m.file!),
    )
    return { database, direction: 'up', dry_run: false, results, head, error, warnings, lint }
  })
}

/**
 * The gate over `prepared` (nothing to lint: undefined), with the target's facts from `conn`
 * (undefined: the database does not exist yet, so neither does any table).
 */
async function gate(
  config: ResolvedConfig,
  prepared: PreparedMigration[],
  options: MigrateUpOptions,
  conn: DbConnection | undefined,
): Promise<GateReport | undefined> {
  if (options.lint === false || prepared.length === 0) return undefined
  const report = await runMigrationGate(config, prepared, {
    allowUnsafe: options.allowUnsafe,
    serverVersionNum: conn ? serverVersionNumber(conn.serverVersion) : undefined,
    targetFacts: async (relations, factOptions) =>
      conn
        ? conn.dialect.createCatalog(conn).targetFacts(relations, factOptions)
        : { empty: true, relations: relations.map((r) => ({ ...r, exists: false, rows: 0, bytes: 0 })) },
  })
  options.onGate?.(report)
  return report
}

/** The pending migrations a run applies (or a plan traces), in order, cut by `to` or `step`. */
export function selectPending(classification: Classification, options: MigrateUpOptions, dirLabel: string): ClassifiedMigration[] {
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
