/**
 * The views of a fleet run: the live progress line on a terminal (done / running / failed /
 * pending), the one table of targets, the summary line, and `migrate status --fleet`'s
 * grouping by head ("412 at 20260101000000, 3 at 20251201000000, 1 dirty").
 */
import type { ChalkInstance } from 'chalk'
import type { FleetProgress, FleetRow } from '../fleet/run-fleet.js'
import { renderTable } from './render-table.js'

/** One column of the fleet table: its header and how a row fills it. */
export interface FleetColumn<D> {
  header: string
  cell: (row: FleetRow<D>) => string
}

/** The progress counts as one line: `fleet: 12/50 done, 4 running, 1 failed, 33 pending`. */
export function renderFleetProgress(p: FleetProgress): string {
  return `fleet: ${p.done}/${p.total} done, ${p.running} running, ${p.failed} failed, ${p.pending} pending`
}

/**
 * A live progress line on `stream` (a terminal), redrawn at most five times a second and
 * erased by `done`; a no-op when `enabled` is false (cron and CI logs get the table only).
 */
export function fleetProgressView(stream: { write(text: string): unknown }, enabled: boolean) {
  let last = 0
  let drawn = false
  return {
    update(p: FleetProgress) {
      const now = Date.now()
      if (!enabled || (now - last < 200 && p.done < p.total)) return
      last = now
      drawn = true
      stream.write(`\r\u001b[K${renderFleetProgress(p)}`)
    },
    done() {
      if (drawn) stream.write('\r\u001b[K')
    },
  }
}

/** The table: target, the command's columns, time, status (with the exit code when not 0), error. */
export function renderFleetTable<D>(rows: Array<FleetRow<D>>, columns: Array<FleetColumn<D>>, chalk: ChalkInstance): string {
  const status = (row: FleetRow<D>) => {
    const text = row.exit_code && row.exit_code !== 0 ? `${row.status} (${row.exit_code})` : row.status
    return row.status === 'ok'
      ? row.exit_code === 3
        ? chalk.yellow(text)
        : chalk.green(text)
      : row.status === 'not_run'
        ? chalk.dim(text)
        : chalk.red(text)
  }
  return renderTable(
    ['TARGET', ...columns.map((c) => c.header), 'TIME', 'STATUS', 'ERROR'],
    rows.map((row) => [
      row.target,
      // a target that never got as far as the command (not run, not reached) has no values
      ...columns.map((c) => (row.status === 'not_run' || (row.error && !hasDetails(row)) ? '' : c.cell(row))),
      row.duration_ms === null ? '' : `${row.duration_ms} ms`,
      status(row),
      row.error ? `${row.error.code}: ${firstLine(row.error.message)}` : '',
    ]),
  )
}

/** `50 targets: 47 ok, 2 failed, 1 not run` */
export function renderFleetSummary<D>(rows: Array<FleetRow<D>>): string {
  const counts = new Map<string, number>()
  for (const row of rows) counts.set(row.status.replace('_', ' '), (counts.get(row.status.replace('_', ' ')) ?? 0) + 1)
  return `${rows.length} target${rows.length === 1 ? '' : 's'}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`
}

/** What grouping by head reads of a status row (the row itself, or its JSON). */
export interface StatusRowLike {
  status: string
  exit_code: number | null
  error: unknown
  head?: string | null | undefined
  dirty?: number | undefined
}

/** The group a status row belongs to: `at HEAD`, `dirty`, `unreachable`, … */
export function statusGroupOf(row: StatusRowLike): string {
  if (row.error !== null && row.error !== undefined)
    return row.exit_code === 4 ? 'unreachable' : row.exit_code === 7 ? 'no access' : row.exit_code === 130 ? 'interrupted' : 'failed'
  if (row.status === 'not_run') return 'not checked'
  if ((row.dirty ?? 0) > 0) return 'dirty'
  return `at ${row.head ?? 'nothing applied'}`
}

/**
 * Targets grouped by head, largest group first: `{ group: 'at 20260101000000', targets: 412 }`;
 * as text, "412 at 20260101000000, 3 at 20251201000000, 1 dirty".
 */
export function groupFleetStatus(rows: readonly StatusRowLike[]): Array<{ group: string; targets: number }> {
  const groups = new Map<string, number>()
  for (const row of rows) groups.set(statusGroupOf(row), (groups.get(statusGroupOf(row)) ?? 0) + 1)
  return [...groups].map(([group, targets]) => ({ group, targets })).sort((a, b) => b.targets - a.targets || a.group.localeCompare(b.group))
}

const ROW_KEYS = new Set(['target', 'status', 'exit_code', 'duration_ms', 'error'])

function hasDetails(row: object): boolean {
  return Object.keys(row).some((key) => !ROW_KEYS.has(key))
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 120 ? `${line.slice(0, 117)}...` : line
}
