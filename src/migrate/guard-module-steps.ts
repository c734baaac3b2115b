/**
 * Watching `.ts` / `.js` migrations for two mistakes that Node would otherwise turn into an
 * exit that says nothing about the migration:
 *
 * - `up()` / `down()` returns a promise that never settles (it awaits something nothing will
 *   resolve). With nothing left to run, Node drains its event loop and ends the process with
 *   exit 13, mid-migration. Node emits `beforeExit` when the loop has drained; while a body
 *   runs, that can only mean its promise waits on nothing, so the body fails then, and the
 *   session rolls its transaction back (or leaves a non-transactional one dirty). A session
 *   whose connection holds the process open must let go of it between queries while a body
 *   runs (the PostgreSQL session does), or the run would hang instead.
 * - a promise rejects and nothing awaits it (`Promise.reject()`, a query without `await`):
 *   Node prints the raw stack and exits. While a run is on, `unhandledRejection` is caught: the
 *   body running fails with it once it settles (so nothing of it is committed), and one that
 *   arrives between migrations stops the run before the next.
 */
import { DbopsError, ExitCode, messageOf } from '../errors.js'
import type { MigrationStep } from '../dialects/migration-port.js'

/** A body's promise that can never settle. The message is the sentence the user sees. */
export class NeverSettledError extends Error {
  constructor(direction: 'up' | 'down') {
    super(`${direction}() never settled: its promise neither resolved nor rejected (a missing await, or a promise nothing resolves)`)
    this.name = 'NeverSettledError'
  }
}

/**
 * A rejection nothing handled while a body ran. It carries the original's stack, so the
 * failure is located in the migration's file and `--verbose` shows where it came from.
 */
export class UnawaitedRejectionError extends Error {
  constructor(direction: 'up' | 'down', reason: unknown) {
    super(`a promise in ${direction}() rejected and nothing awaited it: ${messageOf(reason)}`)
    this.name = 'UnawaitedRejectionError'
    if (reason instanceof Error && reason.stack) this.stack = reason.stack
  }
}

/** What {@link guardModuleSteps} hands the runner. */
export interface ModuleStepGuard {
  /** `step` with a module body supervised as described above; a `.sql` step unchanged. */
  supervise(step: MigrationStep, name: string): MigrationStep
  /** Throws a rejection that arrived outside any body (between migrations), if one did. */
  throwStray(): void
  /** At the end of the run: lets pending rejections be reported, then {@link throwStray}. */
  finish(): Promise<void>
  /** Stops listening. */
  dispose(): void
}

/**
 * Starts watching for unhandled rejections, for one run. Call `dispose()` when it ends.
 *
 * @example
 * const guard = guardModuleSteps()
 * try { await session.run(guard.supervise(step, name)) } finally { guard.dispose() }
 */
export function guardModuleSteps(): ModuleStepGuard {
  let running: { rejection?: { reason: unknown } } | undefined
  let stray: { reason: unknown } | undefined
  let lastModule: string | undefined
  const onRejection = (reason: unknown) => {
    if (running) running.rejection ??= { reason }
    else stray ??= { reason }
  }
  process.on('unhandledRejection', onRejection)

  const supervise = (step: MigrationStep, name: string): MigrationStep => {
    const body = step.body
    if (body.kind !== 'function') return step
    const run: typeof body.run = async (db) => {
      const watch: { rejection?: { reason: unknown } } = {}
      running = watch
      lastModule = name
      let onBeforeExit: (() => void) | undefined
      try {
        const result = await new Promise<unknown>((resolve, reject) => {
          onBeforeExit = () =>
            reject(
              watch.rejection ? new UnawaitedRejectionError(step.direction, watch.rejection.reason) : new NeverSettledError(step.direction),
            )
          process.once('beforeExit', onBeforeExit)
          Promise.resolve()
            .then(() => body.run(db))
            .then(resolve, reject)
        })
        // a promise rejected just before the body returned is reported after this tick
        await new Promise((resolve) => setImmediate(resolve))
        if (watch.rejection) throw new UnawaitedRejectionError(step.direction, watch.rejection.reason)
        return result
      } finally {
        if (onBeforeExit) process.off('beforeExit', onBeforeExit)
        if (running === watch) running = undefined
      }
    }
    return { ...step, body: { kind: 'function', run } }
  }

  const throwStray = () => {
    if (!stray) return
    const { reason } = stray
    stray = undefined
    throw new DbopsError(
      'MIGRATION_FAILED',
      ExitCode.failed,
      lastModule
        ? `After migration ${lastModule} returned, a promise it left behind rejected and nothing awaited it: ${messageOf(reason)}`
        : `A promise rejected during the run and nothing awaited it: ${messageOf(reason)}`,
      {
        hint: `${lastModule ? `${lastModule} stays as it finished; ` : ''}the migrations after it were not run. Await every promise in up()/down(), then run the command again.`,
        cause: reason,
      },
    )
  }

  return {
    supervise,
    throwStray,
    async finish() {
      await new Promise((resolve) => setImmediate(resolve))
      throwStray()
    },
    dispose() {
      process.off('unhandledRejection', onRejection)
    },
  }
}
