/**
 * What the gate of `migrate up` found, for stderr: each finding at its file, line and column
 * with its rule, the statement and the safe rewrite; a downgraded one says why; and, under
 * GitHub Actions, one annotation per finding on its line.
 */
import path from 'node:path'
import type { LintFinding } from '../dialects/lint-port.js'
import type { GateReport } from '../migrate/migration-gate.js'
import { isStanding } from '../migrate/migration-gate.js'
import { githubErrorAnnotation } from './github-annotation.js'
import type { Output } from './output.js'

/** A finding as lines: `file:line:col severity rule: message`, the statement, the hint or why it was downgraded. */
export function renderFinding(finding: LintFinding): string {
  const head = `${finding.file}:${finding.line}:${finding.column} ${finding.severity} ${finding.rule}: ${finding.message}`
  const lines = [head, `  ${finding.statement}`]
  if (finding.downgraded) lines.push(`  not blocking: ${finding.downgraded}`)
  else lines.push(`  hint: ${finding.hint}`)
  return lines.join('\n')
}

/**
 * Prints the gate's findings (ignored ones left out) on stderr, `--json` or not (its document
 * holds them too): standing errors and warnings, the `--allow-unsafe` notice, and GitHub
 * annotations when `GITHUB_ACTIONS=true`.
 */
export function reportGate(
  out: Output,
  gate: GateReport | undefined,
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): void {
  if (!gate) return
  const shown = gate.findings.filter((f) => !f.ignored)
  const standing = shown.filter(isStanding)
  for (const finding of shown) {
    const annotation = githubErrorAnnotation(
      {
        message: `${finding.message} ${finding.downgraded ? `(not blocking: ${finding.downgraded})` : finding.hint}`,
        file: path.resolve(cwd, finding.file),
        line: finding.line,
        column: finding.column,
        title: `dbops lint ${finding.rule}`,
        level: isStanding(finding) ? 'error' : 'warning',
      },
      env,
      cwd,
    )
    if (annotation) process.stderr.write(`${annotation}\n`)
    if (isStanding(finding)) out.info(renderFinding(finding))
    else out.warn(renderFinding(finding))
  }
  if (gate.allow_unsafe && standing.length > 0) {
    out.warn(
      `--allow-unsafe: applying ${standing.length} unsafe statement${standing.length === 1 ? '' : 's'} the lint stops (${[...new Set(standing.map((f) => f.rule))].join(', ')}); recorded in the history rows' allowed_unsafe`,
    )
  }
}
