/**
 * Where `dbops health` gets its migration and backup findings: the narrow contract health
 * reads them through, and its default readers, the migrations module (the same
 * classification `migrate status` uses, read over health's own read-only connection) and the
 * backups module (the same listing `backup list` shows).
 */
import fs from 'node:fs'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { classifyMigrations } from '../migrate/classify-migrations.js'
import { discoverMigrations } from '../migrate/discover-migrations.js'
import { type MigrationInvalidIndex, readMigrationInvalidIndexes } from '../migrate/invalid-indexes.js'
import { type MigrationRunnerReport, runnerReport } from '../migrate/migration-status.js'
import { assertHistoryHere } from '../migrate/history-guard.js'
import { MigrationStore, withMigrationRunner } from '../migrate/migration-store.js'
import { listBackups } from '../backup/list-backups.js'
import { type OffsiteSummary, readOffsiteSummary } from '../backup/offsite-backup.js'

export type { OffsiteSummary }
import type { DbConnection } from '../dialects/dialect.js'

/** What health needs to know about migrations. */
export interface MigrationSummary {
  /** Migrations recorded as applied. */
  applied: number
  /** Files not applied yet (warn). */
  pending: number
  /** Applied migrations whose file changed since (fail). */
  changed: number
  /** Applied migrations whose file is gone (fail). */
  missing: number
  /** Started and never finished: a crash during a non-transactional migration (fail). */
  dirty: number
  /** Started, and a run holding the migration lock is applying it right now (warn). */
  running: number
  /** Who applies them (`migrate status --json`'s `running_by`), when any is running. */
  runningBy: MigrationRunnerReport | undefined
  /** The latest applied migration, `<version>_<name>`. */
  head: string | undefined
  /** Invalid indexes a failed `CREATE INDEX CONCURRENTLY` of the migrations left (warn). */
  invalidIndexes?: MigrationInvalidIndex[]
}

/** What health needs to know about backups. */
export interface BackupSummary {
  /** When the newest backup was taken; undefined when there is none. */
  newestAt: Date | undefined
  /** Its verification level. */
  level: 'none' | 'hash' | 'read' | 'restore' | undefined
  /** Its file. */
  file: string | undefined
  /** How many backups there are. */
  count: number
}

/** What a source gets besides the config: the open on-call connection. */
export interface HealthSourceContext {
  conn: DbConnection
  signal?: AbortSignal | undefined
}

/**
 * The inputs health takes from other modules. Each is optional: a missing source means its
 * check is not run.
 */
export interface HealthSources {
  migrations?: (config: ResolvedConfig, context: HealthSourceContext) => Promise<MigrationSummary>
  backups?: (config: ResolvedConfig, context: HealthSourceContext) => Promise<BackupSummary>
  /** The newest off-site backup and restore drill; undefined when no remote is configured. */
  offsite?: (config: ResolvedConfig, context: HealthSourceContext) => Promise<OffsiteSummary | undefined>
}

/**
 * Pending, changed, missing, dirty and running migrations, and the head, as `migrate status`
 * counts them. A project without a migrations directory has nothing pending. A history kept
 * elsewhere than the settings say throws, as in `migrate status`, and fails the check.
 */
export async function readMigrationSummary(config: ResolvedConfig, context: HealthSourceContext): Promise<MigrationSummary> {
  const { conn } = context
  const files = fs.existsSync(config.migrationsDir) ? discoverMigrations(config.migrationsDir).files : []
  const store = new MigrationStore(conn.dialect.migrationTable, config.migrationsTable)
  await assertHistoryHere(store, conn, config.historySiblings)
  const { rows, runner } = await withMigrationRunner(conn, store, await store.readRows(conn))
  const { counts, head, migrations } = classifyMigrations(files, rows, runner)
  return {
    applied: counts.applied + counts.changed + counts.missing,
    pending: counts.pending,
    changed: counts.changed,
    missing: counts.missing,
    dirty: counts.dirty,
    running: counts.running,
    runningBy: runner && counts.running > 0 ? runnerReport(runner) : undefined,
    head: migrations.find((m) => m.version === head)?.name,
    invalidIndexes: await readMigrationInvalidIndexes(conn, files),
  }
}

/**
 * The newest backup of this database in the backup directory (its age and verification
 * level), as `backup list --mine` shows it: matched by the identity of the database on the
 * open connection, so a newer backup of another database with the same name does not count.
 * A manifest whose file is gone does not count.
 */
export async function readBackupSummary(config: ResolvedConfig, context: HealthSourceContext): Promise<BackupSummary> {
  const entries = (await listBackups(config, { onlyThisDatabase: true, conn: context.conn, signal: context.signal })).filter(
    (e) => e.status !== 'file missing',
  )
  const newest = entries[0]
  return {
    newestAt: newest ? new Date(newest.created_at) : undefined,
    level: newest?.verification_level,
    file: newest?.path,
    count: entries.length,
  }
}

/** The sources `dbops health` reads: `checkHealth`'s default. */
export function defaultHealthSources(): HealthSources {
  return {
    migrations: readMigrationSummary,
    backups: readBackupSummary,
    offsite: readOffsiteSummary,
  }
}
