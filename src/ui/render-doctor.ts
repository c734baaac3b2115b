/**
 * The doctor's report for a terminal: one line per check (status and finding), then the
 * fixes of the checks that need one (printed, never run), then what was skipped or only
 * partly read, and why. Pure; colours come from the caller's chalk instance.
 */
import type { ChalkInstance } from 'chalk'
import type { DoctorReport } from '../doctor/run-doctor.js'
import { colourStatus } from './render-health.js'
import { renderTable } from './render-table.js'

function colourDoctorStatus(status: string, colours: ChalkInstance): string {
  return status === 'info' ? colours.cyan(status) : colourStatus(status, colours)
}

/** Renders `report`. */
export function renderDoctorReport(report: DoctorReport, colours: ChalkInstance): string {
  const heading = `doctor: ${colourDoctorStatus(report.status, colours)} at ${report.checked_at} (${report.dialect}, ${report.checks.length} checks in ${report.duration_ms} ms)`
  const rows = report.checks.map((c) => [c.id, colourDoctorStatus(c.status, colours), c.finding])
  const lines = [heading, renderTable(['CHECK', 'STATUS', 'FINDING'], rows)]
  const withFix = report.checks.filter((c) => c.fix.length > 0)
  if (withFix.length > 0) {
    lines.push('', colours.bold('Fixes (printed, never run):'))
    for (const check of withFix) {
      lines.push(`  ${check.id}:`)
      for (const fix of check.fix.slice(0, 10)) lines.push(`    ${fix}`)
      if (check.fix.length > 10) lines.push(colours.dim(`    … ${check.fix.length - 10} more (--json lists them all)`))
    }
  }
  const partial = report.checks.filter((c) => c.partial !== null)
  if (partial.length > 0 || report.skipped.length > 0) lines.push('')
  for (const check of partial) lines.push(colours.dim(`partly read: ${check.id}: ${check.partial}`))
  for (const s of report.skipped) lines.push(colours.dim(`skipped: ${s.id}: ${s.reason}`))
  return lines.join('\n')
}
