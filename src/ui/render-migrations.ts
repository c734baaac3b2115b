/**
 * Text views of migration results, for stdout (the JSON view is the object itself). Pure:
 * colours come in as a chalk instance.
 */
import type { ChalkInstance } from 'chalk'
import { invalidIndexLabel } from '../migrate/invalid-indexes.js'
import type { MigrationRunResult } from '../migrate/migration-runner.js'
import type { MigrationStatusReport } from '../migrate/migration-status.js'
import { printable } from '../printable-text.js'
import { formatDuration } from './migration-progress.js'
import { renderTable } from './render-table.js'

/** The closing line of `up` / `down`: what changed and where the head is. */
export function renderRunSummary(result: MigrationRunResult): string {
  const verb = result.direction === 'up' ? 'Applied' : 'Rolled back'
  const done = result.results.filter((r) => r.status === 'applied' || r.status === 'reverted')
  const skipped = result.results.filter((r) => r.status === 'skipped').length
  const head = `head is ${result.head ?? 'empty (nothing applied)'}`
  if (result.results.length === 0) return `Nothing to ${result.direction === 'up' ? 'apply' : 'roll back'}; ${head}.`
  const total = done.reduce((sum, r) => sum + (r.duration_ms ?? 0), 0)
  const skippedText = skipped > 0 ? ` (${skipped} already done by another run)` : ''
  return `${verb} ${done.length} migration${done.length === 1 ? '' : 's'}${done.length > 0 ? ` in ${formatDuration(total)}` : ''}${skippedText}; ${head}.`
}

/** `up --dry-run`: the plan and each `.sql` file's statements. */
export function renderPlan(result: MigrationRunResult, color: ChalkInstance): string {
  if (result.results.length === 0) return `Nothing to apply to ${printable(result.database)}; head is ${result.head ?? 'empty'}.`
  const lines = [
    `Would apply ${result.results.length} migration${result.results.length === 1 ? '' : 's'} to ${printable(result.database)} (dry run, nothing changed):`,
  ]
  for (const r of result.results) {
    lines.push('', color.bold(`${printable(r.name)}${r.transaction === false ? color.yellow('  [transaction:false]') : ''}`))
    for (const statement of r.statements ?? []) lines.push(...`${statement};`.split('\n').map((l) => `  ${printable(l)}`))
  }
  return lines.join('\n')
}

/** `status`: the table, then a summary line and one line per problem. */
export function renderStatus(report: MigrationStatusReport, color: ChalkInstance): string {
  const paint: Record<string, (t: string) => string> = {
    applied: color.green,
    pending: color.cyan,
    changed: color.red,
    missing: color.red,
    dirty: color.red,
    running: color.yellow,
  }
  const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const runner = report.running_by
  // "running (pid 1234, since 2025-01-01 10:00:00Z)": who to ask before calling it stuck
  const running = runner
    ? `running (${[`pid ${runner.pid ?? 'unknown'}`, runner.since ? `since ${time(runner.since)}` : undefined].filter(Boolean).join(', ')})`
    : 'running'
  const label = (m: MigrationStatusReport['migrations'][number]) =>
    m.status === 'running' ? running : m.out_of_order ? `${m.status} (out of order)` : m.status
  const rows = report.migrations.map((m) => [
    m.version,
    printable(m.name),
    (paint[m.status] ?? String)(label(m)),
    m.applied_at ? time(m.applied_at) : '',
    m.duration_ms === null ? '' : formatDuration(m.duration_ms),
  ])
  const lines: string[] = []
  lines.push(
    rows.length > 0
      ? renderTable(['VERSION', 'NAME', 'STATUS', 'APPLIED AT (UTC)', 'DURATION'], rows)
      : `No migrations in ${printable(report.migrations_dir)}.`,
  )
  const s = report.summary
  const parts = [`${s.applied} applied`, `${s.pending} pending`]
  if (s.running) parts.push(`${s.running} running`)
  if (s.changed) parts.push(`${s.changed} changed`)
  if (s.missing) parts.push(`${s.missing} missing`)
  if (s.dirty) parts.push(`${s.dirty} dirty`)
  if (s.out_of_order) parts.push(`${s.out_of_order} out of order`)
  lines.push('', `${parts.join(', ')}; head ${report.head ?? 'empty'}.`)
  for (const problem of report.problems) lines.push(color.red(`! ${printable(problem)}`))
  // a failed CREATE INDEX CONCURRENTLY: the index stays, unused, until dropped
  for (const index of report.invalid_indexes)
    lines.push(
      color.red(`! invalid index ${printable(invalidIndexLabel(index))} (from ${printable(index.migration)}): run ${printable(index.fix)}`),
    )
  if (report.ignored_files.length > 0)
    lines.push(color.dim(`Not migrations (no <version>_ prefix or other extension): ${report.ignored_files.map(printable).join(', ')}`))
  return lines.join('\n')
}
