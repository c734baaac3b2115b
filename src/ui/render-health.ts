/**
 * The health report as a table: one line per check with its status, latency and a summary
 * of its details. Pure; colours come from the caller's chalk instance.
 */
import type { ChalkInstance } from 'chalk'
import type { HealthReport } from '../health/check-health.js'
import { formatDetails } from './format-details.js'
import { renderTable } from './render-table.js'

/** Colours a status word: ok green, warn yellow, fail red. */
export function colourStatus(status: string, colours: ChalkInstance): string {
  if (status === 'ok') return colours.green(status)
  if (status === 'warn') return colours.yellow(status)
  if (status === 'fail') return colours.red.bold(status)
  return status
}

/** Renders `report` for a terminal (or a log). */
export function renderHealthReport(report: HealthReport, colours: ChalkInstance): string {
  const rows = report.components.map((component) => [
    component.name,
    colourStatus(component.status, colours),
    component.latency_ms === null ? '' : `${component.latency_ms} ms`,
    formatDetails(component.details),
  ])
  const heading = `health: ${colourStatus(report.status, colours)} at ${report.checked_at}`
  return `${heading}\n${renderTable(['CHECK', 'STATUS', 'LATENCY', 'DETAILS'], rows)}`
}
