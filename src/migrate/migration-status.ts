/**
 * `migrate status`: every migration, applied (when, how long), pending, changed, missing,
 * dirty, running (being applied by another run right now) or out of order, read without taking
 * the lock or creating anything.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { LockHolder } from '../dialects/dialect.js'
import { ExitCode } from '../errors.js'
import { type MigrationState, classifyMigrations } from './classify-migrations.js'
import type { MigrationInvalidIndex } from './invalid-indexes.js'
import { integrityProblems } from './migration-integrity.js'
import { type MigrationOptions, displayPath, indentedMarkerWarnings, readMigrationsDir, readRowsReadOnly } from './migration-runner.js'

/** One migration in the status report. */
export interface MigrationStatusEntry {
  version: string
  name: string
  status: MigrationState
  /** A pending migration older than the newest applied one. */
  out_of_order: boolean
  /** ISO-8601, for recorded migrations. */
  applied_at: string | null
  duration_ms: number | null
}

/** The run that holds the migration lock, as far as the system can tell. */
export interface MigrationRunnerReport {
  /** The process (SQLite) or server backend (PostgreSQL). */
  pid: number | null
  /** Its command line (SQLite) or `application_name` (PostgreSQL). */
  application_name: string | null
  client_address: string | null
  /** ISO-8601: when the process started (SQLite) or the session connected (PostgreSQL). */
  since: string | null
}

/** The status report (snake_case: it is the `--json` document). */
export interface MigrationStatusReport {
  database: string
  migrations_dir: string
  /** Greatest applied version, or null. */
  head: string | null
  migrations: MigrationStatusEntry[]
  summary: {
    applied: number
    pending: number
    changed: number
    missing: number
    dirty: number
    running: number
    out_of_order: number
  }
  /** Who applies the running migrations; null when none is running. */
  running_by: MigrationRunnerReport | null
  /** dbmate's history, when it manages the database and dbops does not yet. */
  dbmate: { versions: number } | null
  /**
   * Invalid indexes (a failed `CREATE INDEX CONCURRENTLY`) that a `CREATE INDEX` of the
   * migrations names, each with the statement that drops it.
   */
  invalid_indexes: MigrationInvalidIndex[]
  /** Files in the directory that are not migrations (no version prefix, other extension). */
  ignored_files: string[]
  /** One sentence per problem, with the command that resolves it. */
  problems: string[]
  /** Things to fix that are not problems yet, one per file (indented dbmate markers). */
  warnings: string[]
  /**
   * What `status --exit-code` exits with: 6 integrity (invalid indexes too), else 3 pending or running (not applied
   * yet, and no fault: it ends by itself), else 0.
   */
  exit_code: 0 | 3 | 6
}

/** A lock holder as `running_by` shows it (snake_case, nulls for what is unknown). */
export function runnerReport(holder: LockHolder): MigrationRunnerReport {
  return {
    pid: holder.pid ?? null,
    application_name: holder.applicationName ?? null,
    client_address: holder.clientAddress ?? null,
    since: holder.since?.toISOString() ?? null,
  }
}

/**
 * Compares the migrations directory with `dbops_migrations`. Read-only: no lock, no table
 * created; a SQLite file that does not exist reads as an empty database.
 *
 * @example
 * const status = await getMigrationStatus(config)
 * if (status.summary.pending > 0) console.log(`${status.summary.pending} pending`)
 */
export async function getMigrationStatus(config: ResolvedConfig, options: MigrationOptions = {}): Promise<MigrationStatusReport> {
  const discovered = readMigrationsDir(config)
  const state = await readRowsReadOnly(config, options, 'migrate status', discovered.files)
  const classification = classifyMigrations(discovered.files, state.rows, state.runner)
  const c = classification.counts
  const dbmate = !state.tableExists && state.dbmateVersions ? { versions: state.dbmateVersions.length } : null
  const problems = integrityProblems(classification, displayPath(config, discovered.dir), dbmate?.versions)
  // an invalid index blocks re-running its migration, as a dirty one does
  const exitCode =
    problems.length > 0 || state.invalidIndexes.length > 0
      ? ExitCode.integrity
      : c.pending + c.running > 0
        ? ExitCode.attention
        : ExitCode.ok
  const runner = c.running > 0 ? state.runner : undefined
  return {
    database: describeTarget(config.target),
    migrations_dir: displayPath(config, discovered.dir),
    head: classification.head ?? null,
    migrations: classification.migrations.map((m) => ({
      version: m.version,
      name: m.name,
      status: m.state,
      out_of_order: m.outOfOrder,
      applied_at: m.row?.appliedAt ?? null,
      duration_ms: m.row?.durationMs ?? null,
    })),
    summary: {
      applied: c.applied,
      pending: c.pending,
      changed: c.changed,
      missing: c.missing,
      dirty: c.dirty,
      running: c.running,
      out_of_order: c.outOfOrder,
    },
    running_by: runner ? runnerReport(runner) : null,
    dbmate,
    invalid_indexes: state.invalidIndexes,
    ignored_files: discovered.ignored,
    problems,
    warnings: indentedMarkerWarnings(config, discovered.files),
    exit_code: exitCode as 0 | 3 | 6,
  }
}
