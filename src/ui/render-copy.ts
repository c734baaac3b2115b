/**
 * `dbops copy` on screen: progress on stderr (a redrawn line per table with rows, rate and
 * ETA on a terminal; one line per finished table otherwise), and the verification table.
 */
import type { CopyProgress, CopyResult } from '../copy/copy-database.js'
import { renderTable } from './render-table.js'

const REDRAW_MS = 200

function rate(rows: number, ms: number): string {
  return ms > 0 ? `${Math.round((rows * 1000) / ms).toLocaleString('en-US')} rows/s` : ''
}

/** A progress reporter writing to `stream`: redrawn on a TTY, a line per table otherwise. */
export function copyProgressReporter(stream: { write(text: string): unknown }, tty: boolean): (event: CopyProgress) => void {
  let last = 0
  return (event) => {
    if (event.phase === 'done') {
      if (tty) stream.write('\r\u001b[K')
      stream.write(
        `copied ${event.table}: ${event.rows.toLocaleString('en-US')} rows in ${(event.elapsedMs / 1000).toFixed(1)} s (${rate(event.rows, event.elapsedMs)})\n`,
      )
      return
    }
    if (!tty) return
    const now = Date.now()
    if (now - last < REDRAW_MS) return
    last = now
    const perMs = event.elapsedMs > 0 ? event.rows / event.elapsedMs : 0
    const eta = event.total > event.rows && perMs > 0 ? `, ETA ${Math.ceil((event.total - event.rows) / perMs / 1000)} s` : ''
    const of = event.total > 0 ? ` of ${event.total.toLocaleString('en-US')}` : ''
    stream.write(`\r\u001b[K${event.table}: ${event.rows.toLocaleString('en-US')}${of} rows, ${rate(event.rows, event.elapsedMs)}${eta}`)
  }
}

/** The verification table and what was not copied. */
export function renderCopyResult(result: CopyResult): string {
  const rows = result.tables.map((t) => [
    t.name,
    String(t.rows),
    String(t.targetRows),
    t.sourceChecksum.slice(0, 16),
    t.match ? 'ok' : 'MISMATCH',
  ])
  const lines = [
    `copied ${result.from} → ${result.to}: ${result.tables.length} table${result.tables.length === 1 ? '' : 's'}, ${result.rows.toLocaleString('en-US')} rows in ${(result.durationMs / 1000).toFixed(1)} s`,
    '',
    renderTable(['table', 'source rows', 'target rows', 'checksum', 'verified'], rows),
  ]
  if (result.notCopied.length > 0) {
    lines.push('', 'not copied:')
    for (const n of result.notCopied) lines.push(`  ${n.kind.replace('_', ' ')} ${n.name}: ${n.reason}`)
  }
  lines.push(
    '',
    result.history.rows > 0
      ? `history: ${result.history.rows} migration${result.history.rows === 1 ? '' : 's'} recorded in the target, head ${result.history.head ?? 'none'}`
      : 'history: the source has no migration history',
  )
  return lines.join('\n')
}
