/**
 * The pool report as text: one screen saying who holds the connections, what waits on
 * what, and the statement that would end a blocker (printed for the operator, never run).
 * Pure; colours come from the caller's chalk instance.
 */
import type { ChalkInstance } from 'chalk'
import { dialectTraits } from '../dialects/index.js'
import type { PoolReport } from '../health/check-pool.js'
import { formatBytes, formatSeconds, truncate } from './format-details.js'
import { renderTable } from './render-table.js'

/** Characters of a query shown in a table cell. */
const QUERY_CELL = 60

function section(title: string, body: string, colours: ChalkInstance): string {
  return `\n\n${colours.bold(title)}\n${body}`
}

function renderClient(report: PoolReport, colours: ChalkInstance): string {
  const c = report.client
  if (!c) return ''
  const lines = [
    `pool max ${c.pool_max} (POOL_SIZE ${c.pool_size} + MAX_OVERFLOW ${c.max_overflow}), acquire timeout ${c.pool_timeout_seconds} s`,
    `acquired ${c.acquired} of ${c.connections} concurrently` +
      (c.acquire_ms ? ` · acquire p50 ${c.acquire_ms.p50} ms · p95 ${c.acquire_ms.p95} ms · max ${c.acquire_ms.max} ms` : '') +
      ` · failures ${c.failures === 0 ? 0 : colours.red(String(c.failures))}`,
  ]
  if (c.capped && c.cap_reason) lines.push(colours.yellow(c.cap_reason))
  for (const error of c.errors) lines.push(colours.red(`  ${error}`))
  if (c.fits !== null) lines.push(`a pool of ${c.pool_max} ${c.fits ? 'fits' : colours.yellow('does NOT fit')} in the free connections`)
  return section('client', lines.join('\n'), colours)
}

function renderFile(report: PoolReport, colours: ChalkInstance): string {
  const d = report.server.details
  const lock = d.write_lock as { acquired: boolean; waited_ms: number; busy_timeout_ms: number; error?: string }
  const checkpoint = d.checkpoint as { busy: number; log: number; checkpointed: number; complete: boolean } | null
  const holders = d.holders as Array<{ pid: number; command: string | null; files: string[]; self: boolean }> | null
  const lines = [
    `file ${String(d.file)} · journal mode ${String(d.journal_mode)} · WAL ${formatBytes(Number(d.wal_bytes ?? 0))}`,
    lock.acquired
      ? `write lock: acquired in ${lock.waited_ms} ms (busy timeout ${lock.busy_timeout_ms} ms), released at once`
      : colours.yellow(`write lock: NOT acquired after ${lock.waited_ms} ms: ${lock.error ?? 'busy'}`),
    checkpoint
      ? `passive checkpoint: busy ${checkpoint.busy} · log ${checkpoint.log} frames · checkpointed ${checkpoint.checkpointed}` +
        (checkpoint.complete ? '' : colours.yellow(' (incomplete: a reader holds old pages)'))
      : 'passive checkpoint: not in WAL mode',
  ]
  let text = section('sqlite', lines.join('\n'), colours)
  if (holders) {
    const rows = holders.map((h) => [String(h.pid), h.command ?? '?', h.files.join(','), h.self ? 'this dbops' : ''])
    text += section(
      'processes holding the file',
      rows.length > 0 ? renderTable(['PID', 'COMMAND', 'FILES', 'NOTE'], rows) : 'none',
      colours,
    )
  }
  if (d.holders_note) text += `\n${colours.dim(`(${String(d.holders_note)})`)}`
  return text
}

function renderServer(report: PoolReport, colours: ChalkInstance): string {
  const s = report.server
  let text = ''
  const blocked = s.blocked
  text += section(
    `blocked queries (${blocked.length})`,
    blocked.length === 0
      ? 'none'
      : renderTable(
          ['PID', 'WAITING', 'BLOCKED BY', 'USER', 'QUERY'],
          blocked.map((b) => [
            String(b.pid),
            b.waiting_seconds === null ? '?' : formatSeconds(b.waiting_seconds),
            b.blocked_by.join(', ') || '?',
            b.user ?? '?',
            truncate(b.query ?? '?', QUERY_CELL),
          ]),
        ) +
          `\n${colours.dim('to end a blocker (printed, not run; its transaction rolls back):')}\n` +
          [...new Set(blocked.flatMap((b) => b.terminate_blockers))].map((cmd) => `  ${cmd}`).join('\n'),
    colours,
  )
  const idle = s.idle_in_transaction
  text += section(
    `idle in transaction (${idle.length})`,
    idle.length === 0
      ? 'none'
      : renderTable(
          ['PID', 'USER', 'APPLICATION', 'IDLE', 'IN TRANSACTION', 'LAST QUERY'],
          idle.map((i) => [
            String(i.pid),
            i.user ?? '?',
            i.application_name ?? '?',
            formatSeconds(i.idle_seconds),
            i.transaction_seconds === null ? '?' : formatSeconds(i.transaction_seconds),
            truncate(i.last_query ?? '?', QUERY_CELL),
          ]),
        ) + `\n${colours.dim('to end one (rolls its transaction back):')}\n${idle.map((i) => `  ${i.terminate}`).join('\n')}`,
    colours,
  )
  if (s.by_application.length > 0) {
    const rows = s.by_application.map((g) => [g.application_name || '-', g.user || '-', g.state, String(g.count)])
    text += section(
      'sessions on this database by application, user and state',
      renderTable(['APPLICATION', 'USER', 'STATE', 'COUNT'], rows),
      colours,
    )
  }
  if (s.visibility) text += `\n${colours.yellow(s.visibility)}`
  return text
}

/** Renders `report` for a terminal (or a log). */
export function renderPoolReport(report: PoolReport, colours: ChalkInstance): string {
  const s = report.server
  const dialect = dialectTraits(report.dialect)
  const head = dialect.hasServerSessions
    ? `pool: ${s.used} of ${s.max_connections} connections used · ${s.free} free for this role and database (tightest limit: ${s.free_limited_by})` +
      (s.by_state.length > 0 ? `\n${s.by_state.map((b) => `${b.state} ${b.count}`).join(' · ')}` : '')
    : `pool: ${dialect.displayName} has no server connections; the file and its locks:`
  const body = dialect.hasServerSessions ? renderServer(report, colours) + renderClient(report, colours) : renderFile(report, colours)
  const attention = report.attention.length > 0 ? `\n\n${colours.yellow(`attention: ${report.attention.join('; ')}`)}` : ''
  return head + body + attention
}
