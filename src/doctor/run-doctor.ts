/**
 * `dbops doctor`: the checks an on-call engineer runs by hand, in one report. Each check has
 * an id, a status (ok, info, warn, fail), a one-line finding, its evidence (numbers) and the
 * fix (SQL or a setting: printed, never run). Read-only on-call session with a short
 * `statement_timeout`; the checks run concurrently on a few connections, never the last free
 * ones. Exit 0 all ok or info, 3 a warning, 1 a failure.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import type { DoctorReading } from '../dialects/doctor-port.js'
import { usingDatabase } from '../dialects/index.js'
import { roundMs } from '../dialects/run-probe.js'
import { closestMatch } from '../closest-match.js'
import { ExitCode, UsageError, errorCodeOf, messageOf } from '../errors.js'
import { DEFAULT_RESERVE } from '../health/check-pool.js'
import { onCallConnectOptions } from '../health/on-call-session.js'
import { DOCTOR_CHECKS, type DoctorStatus } from './doctor-checks.js'
import { type DoctorThresholds, resolveDoctorThresholds } from './doctor-thresholds.js'

/** Connections the doctor uses at most: enough to overlap the slow reads, few enough to be harmless. */
export const DOCTOR_CONNECTIONS = 3
/** Evidence items kept per check in the report (the count says how many there were). */
const ITEMS_SHOWN = 20

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Check ids to run (default all the database's). */
  only?: readonly string[] | undefined
  /** Check ids to leave out. */
  skip?: readonly string[] | undefined
  /** Run the checks that read everything (SQLite `integrity_check`). */
  deep?: boolean
  /** Default: the config file's `doctor.thresholds` over the documented defaults. */
  thresholds?: DoctorThresholds
  /** The command's connect options; the on-call session is added. */
  connect: ConnectOptions
}

/** One check in the JSON document. */
export interface DoctorCheckReport {
  id: string
  title: string
  status: DoctorStatus
  finding: string
  /** Numbers: the check's facts and the items found (`items`, at most 20; `items_total`). */
  evidence: Record<string, unknown>
  /** Statements or settings that fix the finding: printed, never run. */
  fix: string[]
  /** Why part of it could not be read (a privilege missing), or null. */
  partial: string | null
  duration_ms: number
}

/** The JSON document of `dbops doctor`. */
export interface DoctorReport {
  /** The worst status. */
  status: DoctorStatus
  checked_at: string
  dialect: string
  duration_ms: number
  /** Connections the checks ran on at once. */
  concurrency: number
  checks: DoctorCheckReport[]
  /** Checks not run, and why (`--skip`, a missing privilege, a statement timeout). */
  skipped: Array<{ id: string; reason: string }>
}

/** A doctor run: the report and its exit code. */
export interface DoctorResult {
  report: DoctorReport
  /** 0 ok or info, 3 a warning, 1 a failure. */
  exitCode: number
}

const ORDER: DoctorStatus[] = ['ok', 'info', 'warn', 'fail']

/** The exit code of a status: 1 fail, 3 warn, else 0. */
export function doctorExitCode(status: DoctorStatus): number {
  return status === 'fail' ? ExitCode.failed : status === 'warn' ? ExitCode.attention : ExitCode.ok
}

/** Splits `a,b , c` into ids and checks each is a known check (exit 2 with the closest match otherwise). */
export function parseCheckIds(flag: string, values: readonly string[] | undefined, known: readonly string[]): string[] | undefined {
  if (values === undefined) return undefined
  const ids = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
  for (const id of ids) {
    if (!known.includes(id)) {
      const near = closestMatch(id, [...known])
      throw new UsageError(`${flag}: unknown check "${id}"`, {
        code: 'DOCTOR_UNKNOWN_CHECK',
        hint: near ? `Did you mean ${near}? (\`dbops doctor --help\` lists the checks)` : `Known checks: ${known.join(', ')}.`,
      })
    }
  }
  return ids
}

function skipReason(err: unknown): string | undefined {
  const code = errorCodeOf(err)
  if (code === '42501') return `insufficient privilege: ${messageOf(err)}`
  if (code === '57014') return `cancelled by statement_timeout: ${messageOf(err)}`
  return undefined
}

/** Runs `tasks` with at most `limit` at a time, results in order. */
async function runLimited<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}

/**
 * Runs the doctor. Throws a usage error (exit 2) for an unknown id in `only`/`skip` (with the
 * closest match) or one this database has no such check for; connect failures throw as in
 * every command (exit 4 or 7). A check whose query fails is reported `fail`; one the role may
 * not run is listed in `skipped`.
 *
 * @example
 * const { report, exitCode } = await runDoctor(config, { connect: { mode: 'read', command: 'doctor' } })
 */
export async function runDoctor(config: ResolvedConfig, options: DoctorOptions): Promise<DoctorResult> {
  const allIds = Object.keys(DOCTOR_CHECKS)
  const only = parseCheckIds('--only', options.only, allIds)
  const skip = parseCheckIds('--skip', options.skip, allIds) ?? []
  const thresholds = options.thresholds ?? resolveDoctorThresholds(config.doctor.thresholds, config.configFile)
  const checkedAt = new Date()
  const started = performance.now()
  const connect = onCallConnectOptions(options.connect)
  // the doctor opens no transaction of its own; without this session value, `reset_val` shows
  // the idle-in-transaction timeout the application's sessions get (the settings check reads it)
  const { idle_in_transaction_session_timeout: _own, ...sessionSettings } = connect.sessionSettings ?? {}
  const poolConfig = { ...config, pool: { ...config.pool, size: DOCTOR_CONNECTIONS, maxOverflow: 0 } }
  return usingDatabase(poolConfig, { ...connect, sessionSettings, maxRetries: 0 }, async (conn) => {
    await conn.dialect.createCatalog(conn).enterReadOnly()
    const reader = await conn.dialect.openDoctor(conn, { maxConnections: DOCTOR_CONNECTIONS, reserve: DEFAULT_RESERVE })
    for (const id of only ?? []) {
      if (!reader.checkIds.includes(id)) {
        throw new UsageError(`--only: ${conn.dialect.displayName} has no check "${id}"`, {
          code: 'DOCTOR_UNKNOWN_CHECK',
          hint: `${conn.dialect.displayName} checks: ${reader.checkIds.join(', ')}.`,
        })
      }
    }
    const selected = reader.checkIds.filter((id) => (only === undefined || only.includes(id)) && !skip.includes(id))
    const skipped: DoctorReport['skipped'] = reader.checkIds.filter((id) => skip.includes(id)).map((id) => ({ id, reason: '--skip' }))
    const readOptions = { limits: thresholds, deep: options.deep ?? false }
    const outcomes = await runLimited(
      selected.map((id) => async () => {
        const t0 = performance.now()
        try {
          return { id, reading: await reader.read(id, readOptions), ms: performance.now() - t0 }
        } catch (err) {
          return { id, error: err, ms: performance.now() - t0 }
        }
      }),
      reader.concurrency,
    )
    const checks: DoctorCheckReport[] = []
    for (const outcome of outcomes) {
      const spec = DOCTOR_CHECKS[outcome.id]!
      const base = { id: outcome.id, title: spec.title, duration_ms: roundMs(outcome.ms) }
      if ('error' in outcome) {
        const reason = skipReason(outcome.error)
        if (reason) {
          skipped.push({ id: outcome.id, reason })
          continue
        }
        checks.push({
          ...base,
          status: 'fail',
          finding: `the check failed: ${messageOf(outcome.error)}`,
          evidence: {},
          fix: [],
          partial: null,
        })
        continue
      }
      checks.push({ ...base, ...judge(outcome.id, outcome.reading!, thresholds) })
    }
    const status = checks.reduce<DoctorStatus>((worst, c) => (ORDER.indexOf(c.status) > ORDER.indexOf(worst) ? c.status : worst), 'ok')
    const report: DoctorReport = {
      status,
      checked_at: checkedAt.toISOString(),
      dialect: conn.dialect.name,
      duration_ms: roundMs(performance.now() - started),
      concurrency: reader.concurrency,
      checks,
      skipped,
    }
    return { report, exitCode: doctorExitCode(status) }
  })
}

function judge(id: string, reading: DoctorReading, thresholds: DoctorThresholds): Omit<DoctorCheckReport, 'id' | 'title' | 'duration_ms'> {
  const verdict = DOCTOR_CHECKS[id]!.judge(reading, thresholds)
  const offending = verdict.offending ?? reading.items
  // a check that names no offending object (too little traffic, a count) has nothing to fix
  const general = verdict.offending === undefined || verdict.offending.length > 0 ? (reading.fixes ?? []) : []
  const fix = verdict.status === 'ok' ? [] : [...new Set([...offending.flatMap((i) => (i.fix ? [i.fix] : [])), ...general])]
  const items = reading.items.slice(0, ITEMS_SHOWN).map((i) => ({ subject: i.subject, ...i.values }))
  return {
    status: verdict.status,
    finding: verdict.finding,
    evidence: { ...reading.facts, items, items_total: reading.items.length },
    fix,
    partial: reading.partial ?? null,
  }
}
