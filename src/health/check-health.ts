/**
 * `dbops health`: one report of every check, each with a status (ok, warn, fail), a latency
 * and snake_case details, in the JSON shape
 * `{status, checked_at, components: [{name, status, latency_ms, details}]}`.
 *
 * The database's own checks come from its dialect (`Dialect.probeHealth`); migrations and
 * backups come from {@link HealthSources}, narrow inputs (see health-sources.ts) that default
 * to the migrations and backup modules' own readers and that a caller may replace. The
 * session is the on-call one: read-only, short timeouts, one connect attempt.
 */
import { whyBackupsAreExpected } from '../backup/backup-directory.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection, HealthComponent } from '../dialects/dialect.js'
import { connect } from '../dialects/index.js'
import { roundMs, runProbe } from '../dialects/run-probe.js'
import { sleep } from '../dialects/retry-within-deadline.js'
import { DbopsError, ExitCode, InterruptedError } from '../errors.js'
import { invalidIndexLabel } from '../migrate/invalid-indexes.js'
import { describeConnectStep } from './connect-step.js'
import { type HealthSourceContext, type HealthSources, type OffsiteSummary, defaultHealthSources } from './health-sources.js'
import type { HealthThresholds } from './health-thresholds.js'
import { onCallConnectOptions } from './on-call-session.js'

/** Options of {@link checkHealth}. */
export interface HealthOptions {
  /** Also run checks that read everything (SQLite `quick_check`). Default false. */
  deep?: boolean
  thresholds: HealthThresholds
  /** Connect options (application name, signal, SQL echo); the on-call session is added. */
  connect: ConnectOptions
}

/** One component in the JSON document. */
export interface HealthComponentReport {
  name: string
  status: 'ok' | 'warn' | 'fail'
  latency_ms: number | null
  details: Record<string, unknown>
}

/** The JSON document of `dbops health`. */
export interface HealthReport {
  /** The worst component status. */
  status: 'ok' | 'warn' | 'fail'
  /** ISO 8601, UTC. */
  checked_at: string
  components: HealthComponentReport[]
}

/** A health run: the report, its exit code, and the connect failure if there was one. */
export interface HealthResult {
  report: HealthReport
  /** 0 all ok, 3 a warning, 1 a failed check, 2 bad configuration, 4 unreachable, 7 access. */
  exitCode: number
  /** Why the database could not be reached or refused us. */
  error: DbopsError | undefined
}

/** The exit code of a report without a connect failure: 1 any fail, 3 any warn, else 0. */
export function healthExitCode(status: HealthReport['status']): number {
  if (status === 'fail') return ExitCode.failed
  if (status === 'warn') return ExitCode.attention
  return ExitCode.ok
}

function toReport(component: HealthComponent): HealthComponentReport {
  return { name: component.name, status: component.status, latency_ms: component.latencyMs ?? null, details: component.details }
}

function worst(components: HealthComponentReport[]): HealthReport['status'] {
  if (components.some((c) => c.status === 'fail')) return 'fail'
  if (components.some((c) => c.status === 'warn')) return 'warn'
  return 'ok'
}

function migrationsComponent(config: ResolvedConfig, sources: HealthSources, context: HealthSourceContext): Promise<HealthComponent> {
  return runProbe('migrations', async () => {
    const summary = await sources.migrations!(config, context)
    const broken = summary.changed + summary.missing + summary.dirty
    const details: Record<string, unknown> = {
      applied: summary.applied,
      pending: summary.pending,
      changed: summary.changed,
      missing: summary.missing,
      dirty: summary.dirty,
      running: summary.running,
      ...(summary.runningBy ? { running_by: summary.runningBy } : {}),
      head: summary.head ?? null,
    }
    if (broken > 0) details.hint = '`dbops migrate status` lists them; `dbops migrate repair` once you have decided'
    else if (summary.running > 0) details.hint = `a migration run (pid ${summary.runningBy?.pid ?? 'unknown'}) is applying them now`
    else if (summary.pending > 0) details.hint = '`dbops migrate up` applies them'
    const invalid = summary.invalidIndexes ?? []
    if (invalid.length > 0) {
      const drop = `invalid index${invalid.length === 1 ? '' : 'es'} left by a failed CREATE INDEX CONCURRENTLY: ${invalid.map((i) => i.fix).join(' ')}`
      const hint = details.hint ? `${String(details.hint)}; ${drop}` : drop
      delete details.hint // last, after what it is about
      Object.assign(details, { invalid_indexes: invalid.map(invalidIndexLabel), hint })
    }
    const warn = summary.pending + summary.running + invalid.length > 0
    return { status: broken > 0 ? 'fail' : warn ? 'warn' : 'ok', details }
  })
}

function backupsComponent(
  config: ResolvedConfig,
  sources: HealthSources,
  context: HealthSourceContext,
  maxAgeHours: number,
  now: Date,
): Promise<HealthComponent> {
  return runProbe('backups', async () => {
    const summary = await sources.backups!(config, context)
    if (summary.newestAt === undefined) {
      const expected = whyBackupsAreExpected(config)
      if (expected === undefined) {
        return {
          status: 'ok',
          details: {
            dir: config.backup.dir,
            count: 0,
            note: 'no backups configured',
            hint: '`dbops backup create` makes one; missing backups warn once the backup directory exists, retention is set or ENV=production',
          },
        }
      }
      return { status: 'warn', details: { dir: config.backup.dir, count: 0, problem: `no backups in ${config.backup.dir} (${expected})` } }
    }
    const ageHours = Math.round(((now.getTime() - summary.newestAt.getTime()) / 3_600_000) * 10) / 10
    const problems: string[] = []
    if (ageHours > maxAgeHours)
      problems.push(`the newest backup is ${ageHours} h old (threshold ${maxAgeHours} h): has the backup job stopped?`)
    if (summary.level === 'none' || summary.level === undefined)
      problems.push('the newest backup was never verified (`dbops backup verify --latest`)')
    return {
      status: problems.length > 0 ? 'warn' : 'ok',
      details: {
        dir: config.backup.dir,
        count: summary.count,
        newest_file: summary.file ?? null,
        newest_at: summary.newestAt.toISOString(),
        age_hours: ageHours,
        verification: summary.level ?? 'none',
        ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
      },
    }
  })
}

/** Hours between `then` and `now`, one decimal. */
function hoursSince(then: Date, now: Date): number {
  return Math.round(((now.getTime() - then.getTime()) / 3_600_000) * 10) / 10
}

/** `offsite_backups`: the newest backup on the remote and the newest restore drill, against their thresholds. */
function offsiteComponent(
  read: () => Promise<OffsiteSummary | undefined>,
  limits: { maxAgeHours: number; maxDrillAgeHours: number },
  now: Date,
): Promise<HealthComponent> {
  return runProbe('offsite_backups', async () => {
    let summary: OffsiteSummary
    try {
      summary = (await read())!
    } catch (err) {
      // the database is as healthy as it was; the off-site copies cannot be seen from here
      if (!(err instanceof DbopsError)) throw err
      return { status: 'warn', details: { error_code: err.code, problem: err.message, hint: err.hint ?? null } }
    }
    const { maxAgeHours, maxDrillAgeHours } = limits
    const ageHours = summary.newestAt ? hoursSince(summary.newestAt, now) : null
    const drillHours = summary.newestDrillAt ? hoursSince(summary.newestDrillAt, now) : null
    const problems: string[] = []
    if (ageHours === null) problems.push(`no backup of this database at ${summary.remote}`)
    else if (ageHours > maxAgeHours) problems.push(`the newest off-site backup is ${ageHours} h old (threshold ${maxAgeHours} h)`)
    if (drillHours === null) problems.push('no restore drill recorded (`dbops backup verify --remote --latest --level restore`)')
    else if (drillHours > maxDrillAgeHours)
      problems.push(`the newest restore drill is ${drillHours} h old (threshold ${maxDrillAgeHours} h)`)
    return {
      status: problems.length > 0 ? 'warn' : 'ok',
      details: {
        remote: summary.remote,
        count: summary.count,
        newest_file: summary.newestFile ?? null,
        age_hours: ageHours,
        newest_drill_file: summary.newestDrillFile ?? null,
        drill_age_hours: drillHours,
        ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
      },
    }
  })
}

/**
 * Runs every check once. Never throws for an unhealthy database: a connect failure becomes a
 * failed `connection` component naming the step (exit 2, 4 or 7), a failing check a failed
 * component. Throws only on interruption (SIGINT/SIGTERM through `options.connect.signal`).
 * `sources` default to what `dbops health` reads (the migrations table and files, the
 * backup directory); a source left out of a given object is a check not run.
 *
 * @example
 * const { report, exitCode } = await checkHealth(config, { thresholds: resolveThresholds(), connect: { mode: 'read', command: 'health' } })
 */
export async function checkHealth(
  config: ResolvedConfig,
  options: HealthOptions,
  sources: HealthSources = defaultHealthSources(),
): Promise<HealthResult> {
  const checkedAt = new Date()
  const signal = options.connect.signal
  const started = performance.now()
  let conn: DbConnection
  try {
    // one attempt within the deadline: health reports what is, it does not wait for better
    conn = await connect(config, { ...onCallConnectOptions(options.connect), maxRetries: 0 })
  } catch (err) {
    if (signal?.aborted) throw signal.reason instanceof InterruptedError ? signal.reason : err
    if (!(err instanceof DbopsError)) throw err
    const step = await describeConnectStep(err, config.target)
    const component: HealthComponentReport = {
      name: 'connection',
      status: 'fail',
      latency_ms: roundMs(performance.now() - started),
      details: { step, error_code: err.code, error: err.message, hint: err.hint ?? null },
    }
    // the same code the failure has in every other command (2: a certificate file that is not there)
    const passedOn: number[] = [ExitCode.usage, ExitCode.unreachable, ExitCode.access]
    const exitCode = passedOn.includes(err.exitCode) ? err.exitCode : ExitCode.failed
    return { report: { status: 'fail', checked_at: checkedAt.toISOString(), components: [component] }, exitCode, error: err }
  }
  try {
    await conn.dialect.createCatalog(conn).enterReadOnly()
    const probed = await conn.dialect.probeHealth(conn, { deep: options.deep ?? false, thresholds: options.thresholds })
    const context: HealthSourceContext = { conn, signal }
    const fromSources: HealthComponent[] = []
    if (sources.migrations) fromSources.push(await migrationsComponent(config, sources, context))
    if (sources.backups && Number.isFinite(options.thresholds.backup_age_hours)) {
      fromSources.push(await backupsComponent(config, sources, context, options.thresholds.backup_age_hours, checkedAt))
    }
    if (sources.offsite && config.backup.offsite.remote && Number.isFinite(options.thresholds.backup_age_hours)) {
      const limits = { maxAgeHours: options.thresholds.backup_age_hours, maxDrillAgeHours: config.backup.offsite.maxDrillAgeHours }
      fromSources.push(await offsiteComponent(() => sources.offsite!(config, context), limits, checkedAt))
    }
    // connection first, then what on-call asks next (migrations, backups), then the rest
    const [first, ...rest] = probed
    const components = [...(first ? [first] : []), ...fromSources, ...rest].map(toReport)
    const status = worst(components)
    return { report: { status, checked_at: checkedAt.toISOString(), components }, exitCode: healthExitCode(status), error: undefined }
  } finally {
    await conn.close()
  }
}

/** Options of {@link watchHealth}. */
export interface WatchOptions extends HealthOptions {
  /** Seconds between the starts of two checks. */
  intervalSeconds: number
}

/**
 * Runs {@link checkHealth} every `intervalSeconds` and hands each result to `onResult`, until
 * the signal aborts (SIGINT/SIGTERM), then rejects with the interruption. A check that is
 * interrupted is never reported half done. A fresh connection each round: a watch must see a
 * server that stops accepting logins.
 */
export async function watchHealth(
  config: ResolvedConfig,
  options: WatchOptions,
  onResult: (result: HealthResult) => void,
  sources: HealthSources = defaultHealthSources(),
): Promise<never> {
  const signal = options.connect.signal
  for (;;) {
    const roundStarted = performance.now()
    const result = await checkHealth(config, options, sources)
    if (signal?.aborted) break
    onResult(result)
    const wait = Math.max(0, options.intervalSeconds * 1000 - (performance.now() - roundStarted))
    await sleep(wait, signal)
  }
  throw signal?.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
}
