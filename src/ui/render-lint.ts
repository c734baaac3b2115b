/**
 * How `dbops migrate lint` prints: text (a line per finding, its hint under it, a summary),
 * GitHub workflow annotations, and the JSON document. SARIF is in `lint-sarif.ts`. Pure.
 */
import type { ChalkInstance } from 'chalk'
import type { LintFinding, LintSeverity } from '../dialects/lint-port.js'
import { githubAnnotation } from './github-annotation.js'

/** What the renderers read of a lint. */
export interface LintReportView {
  findings: readonly LintFinding[]
  notes: readonly string[]
  files: number
  failOn: LintSeverity
}

/** Counts of findings: errors and warnings that are not ignored, and ignored ones. */
export function lintCounts(findings: readonly LintFinding[]): { errors: number; warnings: number; ignored: number } {
  const live = findings.filter((f) => !f.ignored)
  return {
    errors: live.filter((f) => f.severity === 'error').length,
    warnings: live.filter((f) => f.severity === 'warning').length,
    ignored: findings.length - live.length,
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/**
 * The text report: `file:line:column  severity  rule  message`, the hint indented under it,
 * ignored findings dimmed with their reason, then one summary line.
 */
export function renderLintText(view: LintReportView, color: ChalkInstance): string {
  const lines: string[] = []
  for (const f of view.findings) {
    const where = `${f.file}:${f.line}:${f.column}`
    if (f.ignored) {
      lines.push(color.dim(`${where}  ignored  ${f.rule}  (${f.ignored.reason})`))
      continue
    }
    const severity = f.severity === 'error' ? color.red('error') : color.yellow('warning')
    lines.push(`${color.bold(where)}  ${severity}  ${f.rule}  ${f.message}`)
    lines.push(color.dim(`  ${f.statement}`))
    lines.push(`  hint: ${f.hint}`)
    if (f.downgraded) lines.push(color.dim(`  downgraded: ${f.downgraded}`))
  }
  const c = lintCounts(view.findings)
  const parts = [plural(c.errors, 'error'), plural(c.warnings, 'warning')]
  if (c.ignored > 0) parts.push(`${c.ignored} ignored`)
  const summary =
    c.errors + c.warnings === 0
      ? `No findings in ${plural(view.files, 'migration')}`
      : `${parts.join(', ')} in ${plural(view.files, 'migration')}`
  if (lines.length > 0) lines.push('')
  lines.push(summary + (c.ignored > 0 && c.errors + c.warnings === 0 ? ` (${c.ignored} ignored)` : ''))
  return lines.join('\n')
}

/** One workflow annotation per finding that is not ignored (`--format github`), files relative to `root`. */
export function renderLintGithub(view: LintReportView, root: string): string {
  return view.findings
    .filter((f) => !f.ignored)
    .map((f) =>
      githubAnnotation(
        { file: f.file, line: f.line, column: f.column, title: `dbops lint: ${f.rule}`, message: `${f.message}\nhint: ${f.hint}` },
        f.severity,
        root,
      ),
    )
    .join('\n')
}

/** The `--json` document of a lint. */
export function lintJson(
  view: LintReportView & { selection: string; serverVersionNum: number | undefined; offline: string | undefined; dialect: string },
  exitCode: number,
): Record<string, unknown> {
  const c = lintCounts(view.findings)
  return {
    dialect: view.dialect,
    selection: view.selection,
    server_version_num: view.serverVersionNum ?? null,
    offline: view.offline ?? null,
    files: view.files,
    fail_on: view.failOn,
    findings: view.findings,
    notes: view.notes,
    summary: c,
    exit_code: exitCode,
  }
}
