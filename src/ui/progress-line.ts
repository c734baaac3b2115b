/**
 * A one-line progress display on a terminal (`backup create: 45% of 512 MB`), redrawn at most
 * five times a second and erased when done. Off unless stderr is a TTY: cron and CI logs get
 * no carriage-return noise.
 */
import { formatBytes } from '../backup/durable-file.js'

/** A progress line; `update` with bytes or pages done and the total (0: unknown). */
export interface ProgressLine {
  update(done: number, total: number): void
  /** Erases the line. */
  done(): void
}

const REDRAW_MS = 200

/**
 * Creates a progress line for `label` on `stream`, or a silent one when `enabled` is false.
 * `unit` says what `done` counts: `bytes` prints sizes, `pages` a percentage only.
 */
export function progressLine(
  stream: { write(text: string): unknown },
  enabled: boolean,
  label: string,
  unit: 'bytes' | 'pages',
): ProgressLine {
  if (!enabled) return { update() {}, done() {} }
  let last = 0
  let drawn = false
  return {
    update(done, total) {
      const now = Date.now()
      if (now - last < REDRAW_MS) return
      last = now
      drawn = true
      const percent = total > 0 ? `${Math.floor((done / total) * 100)}%` : ''
      const amount = unit === 'bytes' ? formatBytes(done) + (total > 0 ? ` of ${formatBytes(total)}` : '') : ''
      stream.write(`\r\u001b[K${label}: ${[percent, amount].filter(Boolean).join(' ')}`)
    },
    done() {
      if (drawn) stream.write('\r\u001b[K')
    },
  }
}
