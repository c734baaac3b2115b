/**
 * Progress of a migration run on stderr: a listr2 task per migration, with its duration,
 * when stderr is a terminal (and `CI` is not set); one plain line per migration otherwise;
 * nothing under `--json` or `--quiet`. The renderer choice is `taskListOptions`'s.
 */
import type { MigrationProgress } from '../migrate/migration-runner.js'
import { printable } from '../printable-text.js'
import type { Output } from './output.js'
import { taskListOptions } from './task-list-options.js'

/** What a command hands the core, and awaits before printing its result. */
export interface MigrationProgressView {
  onProgress: (event: MigrationProgress) => void
  onWait: (message: string) => void
  /** Waits until the task list has drawn its last frame. */
  finish(): Promise<void>
}

interface Deferred {
  promise: Promise<{ status: string; durationMs: number }>
  resolve: (value: { status: string; durationMs: number }) => void
  reject: (err: Error) => void
}

function defer(): Deferred {
  let resolve!: Deferred['resolve']
  let reject!: Deferred['reject']
  const promise = new Promise<{ status: string; durationMs: number }>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined) // the task awaits it; a rejection before it starts is not "unhandled"
  return { promise, resolve, reject }
}

/** "0.4 ms", "12 ms", "1.4 s"; whole milliseconds (as `dbops_migrations` records them) without a decimal. */
export function formatDuration(ms: number): string {
  if (ms < 9.95) return Number.isInteger(ms) ? `${ms} ms` : `${ms.toFixed(1)} ms`
  return ms < 999.5 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/**
 * Creates the progress view for `out`. Await it before the run: the task list module is
 * loaded only when a terminal will show it.
 */
export async function createMigrationProgress(
  out: Output,
  env: Record<string, string | undefined> = process.env,
): Promise<MigrationProgressView> {
  const options = taskListOptions(out.mode, env, out.stderrIsTTY)
  if (options.renderer === 'silent') {
    return { onProgress: () => undefined, onWait: () => undefined, finish: async () => undefined }
  }
  if (options.renderer !== 'default') return plainProgress(out)

  const { Listr, ListrLogger, ProcessOutput, Spinner } = await import('listr2')
  // the spinner's timer must not keep the process alive: a module migration that awaits
  // nothing is detected when the event loop drains (guard-module-steps.ts), which a running
  // interval would prevent, leaving the terminal spinning for ever
  class BackgroundSpinner extends Spinner {
    private timer: NodeJS.Timeout | undefined
    override start(cb?: () => void, interval = 100): void {
      this.timer = setInterval(() => {
        this.spin()
        cb?.()
      }, interval).unref()
    }
    override stop(): void {
      clearInterval(this.timer)
      this.timer = undefined
    }
    override isRunning(): boolean {
      return this.timer !== undefined
    }
  }
  const deferred = new Map<string, Deferred>()
  let running: Promise<unknown> | undefined
  return {
    onWait: (message) => out.info(out.err.dim(message)),
    onProgress(event) {
      if (event.type === 'plan') {
        if (event.migrations.length === 0) return
        const verb = event.direction === 'up' ? 'apply' : 'roll back'
        const tasks = event.migrations.map((m) => {
          const d = defer()
          deferred.set(m.name, d)
          const name = printable(m.name)
          return {
            title: name,
            task: async (_ctx: unknown, task: { title: string; skip: (message?: string) => void }) => {
              const outcome = await d.promise
              if (outcome.status === 'skipped')
                task.skip(`${name} (already ${event.direction === 'up' ? 'applied' : 'rolled back'} by another run)`)
              else task.title = `${name} ${out.err.dim(`(${formatDuration(outcome.durationMs)})`)}`
            },
          }
        })
        const logger = new ListrLogger({
          useIcons: true,
          processOutput: new ProcessOutput(process.stderr, process.stderr),
        })
        const list = new Listr(tasks, {
          renderer: 'default',
          fallbackRendererCondition: false,
          exitOnError: true,
          collapseErrors: false,
          registerSignalListeners: false, // SIGINT/SIGTERM are the command's: cancel, roll back, exit 130/143
          rendererOptions: {
            collapseErrors: false,
            collapseSubtasks: false,
            showErrorMessage: true,
            spinner: new BackgroundSpinner(),
            logger,
          },
        } as never)
        out.info(out.err.dim(`${verb} ${event.migrations.length} migration${event.migrations.length === 1 ? '' : 's'}`))
        running = list.run().catch(() => undefined)
      } else if (event.type === 'done') {
        deferred.get(event.name)?.resolve({ status: event.status, durationMs: event.durationMs })
      } else if (event.type === 'retry') {
        out.info(out.err.yellow(retryLine(event)))
      } else if (event.type === 'failed') {
        // listr2 shows the message under the task: printable, as every error dbops prints
        deferred.get(event.name)?.reject(new Error(printable(event.error.message)))
      }
    },
    async finish() {
      await running
    },
  }
}

/** "20250101_add.sql hit lock_timeout (SQLSTATE 55P03); it was rolled back, retry 1 of 3 in 612 ms" */
export function retryLine(event: Extract<MigrationProgress, { type: 'retry' }>): string {
  const { retry } = event
  return `${printable(event.name)} hit lock_timeout (SQLSTATE ${retry.sqlstate}); it was rolled back, retry ${retry.attempt} of ${event.of} in ${formatDuration(retry.delay_ms)}`
}

function plainProgress(out: Output): MigrationProgressView {
  return {
    onWait: (message) => out.info(message),
    onProgress(event) {
      if (event.type === 'plan') return
      const name = printable(event.name)
      if (event.type === 'done') {
        const what =
          event.status === 'skipped'
            ? `skipped ${name} (done by another run)`
            : `${event.status} ${name} (${formatDuration(event.durationMs)})`
        out.info(what)
      } else if (event.type === 'retry') {
        out.info(retryLine(event))
      } else if (event.type === 'failed') {
        out.info(event.error.code === 'INTERRUPTED' ? `interrupted ${name}` : `failed ${name}`)
      }
    },
    finish: async () => undefined,
  }
}
