/**
 * What each fleet command does to one target, as a {@link FleetTaskOutcome}: `migrate up`
 * (before → after head, applied count), `migrate status` (head, pending, dirty), `health`
 * (status) and `backup create` (file, size). Each calls the single-database core with the
 * target's own configuration: its own connection, lock and result.
 */
import fs from 'node:fs'
import path from 'node:path'
import { prepareBackupDirectory, resolveBackupDirectory } from '../backup/backup-directory.js'
import { type CreateBackupOptions, createBackup } from '../backup/create-backup.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { ExitCode } from '../errors.js'
import { type HealthOptions, checkHealth } from '../health/check-health.js'
import { type MigrateUpOptions, migrateUp } from '../migrate/migrate-up.js'
import { readMigrationsDir } from '../migrate/migration-runner.js'
import { getMigrationStatus } from '../migrate/migration-status.js'
import type { FleetTarget } from './fleet-targets.js'
import type { FleetTaskOutcome } from './run-fleet.js'

/** A `migrate up --fleet` row's own columns. */
export interface FleetMigrateDetails {
  before: string | null
  after: string | null
  applied: number
}

/** A target's options, given its connect options (so each has its own signal and echo). */
type PerTarget<O> = (target: FleetTarget, signal: AbortSignal | undefined) => O

/** `migrate up` on one target. A failing migration is exit 1 with the ones before it applied. */
export function migrateUpTask(options: PerTarget<MigrateUpOptions>) {
  return async (target: FleetTarget, signal: AbortSignal | undefined): Promise<FleetTaskOutcome<FleetMigrateDetails>> => {
    const result = await migrateUp(target.config, options(target, signal))
    const versions = readMigrationsDir(target.config).files.map((f) => f.version)
    const applied = result.results.filter((r) => r.status === 'applied')
    const first = result.results[0]
    const at = first ? versions.indexOf(first.version) : -1
    const before = first ? (at > 0 ? versions[at - 1]! : null) : result.head
    const exitCode = result.error?.exitCode ?? ExitCode.ok
    return {
      exitCode,
      failed: result.error !== undefined,
      details: { before, after: result.head, applied: applied.length },
      error: result.error,
    }
  }
}

/** A `migrate status --fleet` row's own columns. */
export interface FleetStatusDetails {
  head: string | null
  pending: number
  dirty: number
  /** One of the integrity problems, when there are any. */
  problem: string | null
}

/** `migrate status` on one target: exit 3 when behind, 6 on an integrity problem (neither is a failure of the run). */
export function statusTask(options: PerTarget<{ signal?: AbortSignal | undefined; connect: ConnectOptions }>) {
  return async (target: FleetTarget, signal: AbortSignal | undefined): Promise<FleetTaskOutcome<FleetStatusDetails>> => {
    const report = await getMigrationStatus(target.config, options(target, signal))
    return {
      exitCode: report.exit_code,
      failed: false,
      details: {
        head: report.head,
        pending: report.summary.pending,
        dirty: report.summary.dirty,
        problem: report.problems[0] ?? null,
      },
    }
  }
}

/** A `health --fleet` row's own columns. */
export interface FleetHealthDetails {
  health: 'ok' | 'warn' | 'fail' | null
  /** The components that are not ok, by name. */
  findings: string[]
}

/** `health` on one target: 0 ok, 3 warn, 1 fail, 4/7 not reached. */
export function healthTask(options: PerTarget<HealthOptions>) {
  return async (target: FleetTarget, signal: AbortSignal | undefined): Promise<FleetTaskOutcome<FleetHealthDetails>> => {
    const result = await checkHealth(target.config, options(target, signal))
    return {
      exitCode: result.exitCode,
      failed: result.exitCode !== ExitCode.ok && result.exitCode !== ExitCode.attention,
      details: {
        health: result.error ? null : result.report.status,
        findings: result.report.components.filter((c) => c.status !== 'ok').map((c) => `${c.name}: ${c.status}`),
      },
      error: result.error,
    }
  }
}

/** A `backup create --fleet` row's own columns. */
export interface FleetBackupDetails {
  file: string | null
  size_bytes: number | null
}

/**
 * `backup create` on one target, into its own subdirectory of the backup directory (named
 * after the target), so that retention and locks are per target and two servers' databases
 * of one name never meet.
 */
export function backupTask(dir: string | undefined, options: PerTarget<CreateBackupOptions>) {
  return async (target: FleetTarget, signal: AbortSignal | undefined): Promise<FleetTaskOutcome<FleetBackupDetails>> => {
    // the root as for one database (a chosen one must exist); the target's own directory is made
    const where = resolveBackupDirectory(target.config, dir)
    prepareBackupDirectory(where)
    const own = path.join(where.dir, fleetDirectoryName(target.label))
    fs.mkdirSync(own, { recursive: true, mode: 0o700 })
    const result = await createBackup(target.config, { ...options(target, signal), dir: own })
    return { exitCode: ExitCode.ok, failed: false, details: { file: result.path, size_bytes: result.size_bytes } }
  }
}

/** A target's label as one directory name: `db.example.com_5432_tenant_1`. */
export function fleetDirectoryName(label: string): string {
  return label
    .replace(/\.(db|sqlite3?)$/i, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._]+|_+$/g, '')
}
