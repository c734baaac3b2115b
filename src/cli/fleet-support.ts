/**
 * What the `--fleet` commands share once a command runs as a fleet: resolving the targets, capping the
 * concurrency by the servers' free connections (said on stderr), the live progress view, the
 * table and the JSON document, and the exit code (the worst of the targets').
 */
import { DEFAULT_FLEET_CONCURRENCY, type FleetFlagValues } from './fleet-flags.js'
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { UsageError } from '../errors.js'
import { fleetHeadroom } from '../fleet/fleet-headroom.js'
import { type FleetTarget, resolveFleetTargets } from '../fleet/fleet-targets.js'
import { type FleetRow, type FleetRun, type FleetTaskOutcome, runFleet } from '../fleet/run-fleet.js'
import { errorJson, type Output } from '../ui/output.js'
import { type FleetColumn, fleetProgressView, renderFleetSummary, renderFleetTable } from '../ui/render-fleet.js'

/** What a command hands to {@link runFleetCommand}. */
export interface FleetCommandContext {
  out: Output
  flags: FleetFlagValues
  signal: AbortSignal
  connect: (config: ResolvedConfig, mode: 'read' | 'write') => ConnectOptions
  mode: 'read' | 'write'
}

/** The `--json` document of a fleet command. */
export interface FleetJson<D> {
  fleet: string | null
  schemas: string | null
  concurrency: number
  capped: string | null
  stopped: FleetRun<D>['stopped']
  exit_code: number
  targets: Array<Omit<FleetRow<D>, 'error'> & { error: ReturnType<typeof errorJson>['error'] | null }>
}

/**
 * Resolves the targets, runs `task` on each (showing progress on a terminal), prints the
 * table and summary (not under `--json`), and returns the JSON document. The caller sets the
 * exit code from `exit_code` (status does so only with `--exit-code`).
 */
export async function runFleetCommand<D>(
  ctx: FleetCommandContext,
  task: (target: FleetTarget, signal: AbortSignal | undefined) => Promise<FleetTaskOutcome<D>>,
  columns: Array<FleetColumn<D>>,
  incompatible: string[] = [],
): Promise<FleetJson<D>> {
  const { out, flags } = ctx
  const env = process.env
  if (flags.fleet !== undefined && (flags.url !== undefined || flags.db !== undefined))
    throw new UsageError('--fleet cannot be combined with --url or --db', {
      hint: 'The fleet names its databases; use --schemas with --url or --db.',
    })
  if (incompatible.length > 0) throw new UsageError(`${incompatible.join(', ')} cannot be used with --fleet or --schemas`)
  const config = await resolveConfig({ env: baseEnv(env), flags: { url: flags.url, db: flags.db, config: flags.config } })
  const targets = await resolveFleetTargets(config, {
    fleet: flags.fleet,
    schemas: flags.schemas,
    configPath: flags.config,
    env,
    connect: ctx.connect(config, 'read'),
  })
  const requested = flags.concurrency ?? (flags.fleet ? config.fleets[flags.fleet]?.concurrency : undefined) ?? DEFAULT_FLEET_CONCURRENCY
  const headroom = await fleetHeadroom(targets, requested, ctx.connect(config, 'read'))
  if (headroom.capped) out.warn(headroom.capped)
  const name = flags.fleet ? `fleet ${flags.fleet}` : `schemas ${flags.schemas}`
  out.info(out.err.dim(`→ ${name}: ${targets.length} target${targets.length === 1 ? '' : 's'}, ${headroom.concurrency} at a time`))

  const progress = fleetProgressView(process.stderr, out.stderrIsTTY && !out.mode.json && !out.mode.quiet)
  let run: FleetRun<D>
  try {
    run = await runFleet(targets, task, {
      concurrency: headroom.concurrency,
      failFast: flags['fail-fast'],
      canary: flags.canary,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    })
  } finally {
    progress.done()
  }
  out.result(renderFleetTable(run.rows, columns, out.out))
  out.result('')
  out.result(renderFleetSummary(run.rows))
  if (run.stopped === 'canary')
    out.warn(`a canary target failed: the other ${run.rows.filter((r) => r.status === 'not_run').length} were not run`)
  if (run.stopped === 'fail_fast') out.warn('--fail-fast: stopped after the first failure; the targets not run are left as they were')
  if (run.stopped === 'interrupted')
    out.warn('interrupted: running targets finished or rolled back their current migration; the rest were not started')
  return {
    fleet: flags.fleet ?? null,
    schemas: flags.schemas ?? null,
    concurrency: headroom.concurrency,
    capped: headroom.capped,
    stopped: run.stopped,
    exit_code: run.exitCode,
    targets: run.rows.map((row) => ({ ...row, error: row.error ? errorJson(row.error).error : null })),
  }
}

/**
 * The environment the fleet's base settings are resolved from: `DATABASE_PASSWORD` alone (no
 * `DATABASE_HOST`) is the fleet's password, not a half-described default database.
 */
function baseEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (env.DATABASE_PASSWORD === undefined || env.DATABASE_HOST !== undefined) return env
  const { DATABASE_PASSWORD: _password, ...rest } = env
  return rest
}
