/**
 * The fleet runner: one task per target, up to `concurrency` at once, each with its own
 * connection, lock and result. One target's failure does not stop the others unless
 * `failFast`; `canary` runs that many targets first and stops if any of them fails. On abort
 * (SIGINT) no new target starts, the running ones finish or roll back their current step, and
 * the result still lists every target. The exit code is the worst of the targets'.
 */
import { type DbopsError, ExitCode, InterruptedError, isDbopsError, messageOf, DbopsError as BaseError } from '../errors.js'
import type { FleetTarget } from './fleet-targets.js'

/** What a task made of one target. */
export interface FleetTaskOutcome<D> {
  /** From the exit-code table: 0 ok, 3 attention, 1 failed, 4 unreachable… */
  exitCode: number
  /** Whether this counts as a failure for `failFast` and `canary` (a target behind is not one). */
  failed: boolean
  details: D
  error?: DbopsError | undefined
}

/** How a target ended: ran (`ok`: exit 0 or 3), `failed`, `interrupted`, or `not_run` (never started). */
export type FleetRowStatus = 'ok' | 'failed' | 'interrupted' | 'not_run'

/** One target's row: the table and the JSON (snake_case) are two views of it. */
export type FleetRow<D> = {
  target: string
  status: FleetRowStatus
  exit_code: number | null
  duration_ms: number | null
  error: DbopsError | undefined
} & Partial<D>

/** The result of {@link runFleet}. */
export interface FleetRun<D> {
  rows: Array<FleetRow<D>>
  /** The worst of the targets' exit codes (see {@link worstExitCode}). */
  exitCode: number
  /** Why targets were left not run: `fail_fast`, `canary`, `interrupted`, or null. */
  stopped: 'fail_fast' | 'canary' | 'interrupted' | null
}

/** Counts for the live progress view. */
export interface FleetProgress {
  total: number
  done: number
  running: number
  failed: number
  pending: number
}

/** Options of {@link runFleet}. */
export interface RunFleetOptions {
  /** Targets at once (at least 1). */
  concurrency: number
  /** Stop starting targets after the first failure. */
  failFast?: boolean | undefined
  /** Run this many targets first; stop if any fails. */
  canary?: number | undefined
  signal?: AbortSignal | undefined
  onProgress?: (progress: FleetProgress) => void
}

// worst first: interrupted, then what no retry fixes, then what a retry may, then attention
const SEVERITY = [
  ExitCode.sigterm,
  ExitCode.sigint,
  ExitCode.integrity,
  ExitCode.access,
  ExitCode.failed,
  ExitCode.usage,
  ExitCode.lockTimeout,
  ExitCode.unreachable,
  ExitCode.attention,
]

/** The worst of `codes` by the exit-code table (130 > 6 > 7 > 1 > 2 > 5 > 4 > 3 > 0). */
export function worstExitCode(codes: Iterable<number>): number {
  let worst: number = ExitCode.ok
  const rank = (code: number) => {
    const i = SEVERITY.indexOf(code as (typeof SEVERITY)[number])
    return i < 0 ? (code === 0 ? SEVERITY.length : -1) : i
  }
  for (const code of codes) if (rank(code) < rank(worst)) worst = code
  return worst
}

/**
 * Runs `task` on every target. `task` gets the target and the abort signal; a throw is that
 * target's failure (its error's exit code), never the run's.
 *
 * @example
 * const run = await runFleet(targets, (t, signal) => statusOf(t, signal), { concurrency: 4 })
 */
export async function runFleet<D>(
  targets: readonly FleetTarget[],
  task: (target: FleetTarget, signal: AbortSignal | undefined) => Promise<FleetTaskOutcome<D>>,
  options: RunFleetOptions,
): Promise<FleetRun<D>> {
  const rows: Array<FleetRow<D>> = targets.map(
    (t) => ({ target: t.label, status: 'not_run', exit_code: null, duration_ms: null, error: undefined }) as FleetRow<D>,
  )
  const progress: FleetProgress = { total: targets.length, done: 0, running: 0, failed: 0, pending: targets.length }
  let stopped: FleetRun<D>['stopped'] = null
  const report = () => options.onProgress?.({ ...progress })

  const runOne = async (index: number) => {
    const target = targets[index]!
    progress.pending--
    progress.running++
    report()
    const started = performance.now()
    let outcome: FleetTaskOutcome<D>
    try {
      outcome = await task(target, options.signal)
    } catch (err) {
      const error = isDbopsError(err) ? err : new BaseError('INTERNAL', ExitCode.failed, messageOf(err), { cause: err })
      outcome = { exitCode: error.exitCode, failed: true, details: {} as D, error }
    }
    const interrupted = outcome.error instanceof InterruptedError
    rows[index] = {
      ...outcome.details,
      target: target.label,
      status: interrupted ? 'interrupted' : outcome.failed ? 'failed' : 'ok',
      exit_code: outcome.exitCode,
      duration_ms: Math.round(performance.now() - started),
      error: outcome.error,
    }
    progress.running--
    progress.done++
    if (outcome.failed) progress.failed++
    report()
    return outcome.failed
  }

  // the workers share one queue; a stop leaves the rest not run
  const pool = async (indexes: number[], concurrency: number, stopOnFailure: 'fail_fast' | 'canary' | null) => {
    let next = 0
    const worker = async () => {
      while (next < indexes.length && stopped === null) {
        if (options.signal?.aborted) {
          stopped = 'interrupted'
          return
        }
        const failed = await runOne(indexes[next++]!)
        if (options.signal?.aborted) stopped = 'interrupted'
        else if (failed && stopOnFailure) stopped = stopOnFailure
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, indexes.length) }, worker))
  }

  const all = targets.map((_, i) => i)
  const canary = Math.min(options.canary ?? 0, targets.length)
  report()
  if (canary > 0) await pool(all.slice(0, canary), Math.max(1, options.concurrency), 'canary')
  if (stopped === null) await pool(all.slice(canary), Math.max(1, options.concurrency), options.failFast ? 'fail_fast' : null)
  if (options.signal?.aborted) stopped = 'interrupted'

  const codes = rows.flatMap((r) => (r.exit_code === null ? [] : [r.exit_code]))
  const reason = options.signal?.reason
  if (stopped === 'interrupted') codes.push(reason instanceof InterruptedError ? reason.exitCode : ExitCode.sigint)
  return { rows, exitCode: worstExitCode(codes), stopped }
}
