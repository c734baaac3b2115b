/**
 * What the gate of `migrate up` found, on stderr: the findings as `migrate lint` prints them
 * (a downgraded one says why), the `--allow-unsafe` notice, and, under GitHub Actions, one
 * annotation per finding on its line.
 */
import type { GateReport } from '../migrate/migration-gate.js'
import { isStanding } from '../migrate/migration-gate.js'
import type { Output } from './output.js'
import { renderLintGithub, renderLintText } from './render-lint.js'

/**
 * Prints the gate's findings on stderr, `--json` or not (its document holds them too): the
 * lint's text report, the `--allow-unsafe` notice, and GitHub annotations when
 * `GITHUB_ACTIONS=true` (files relative to `GITHUB_WORKSPACE`, else `cwd`).
 */
export function reportGate(
  out: Output,
  gate: GateReport | undefined,
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): void {
  if (!gate || gate.findings.length === 0) return
  const view = { findings: gate.findings, notes: gate.notes, files: gate.files, failOn: 'error' as const }
  if (env.GITHUB_ACTIONS === 'true') process.stderr.write(`${renderLintGithub(view, env.GITHUB_WORKSPACE || cwd)}\n`)
  out.info(renderLintText(view, out.err))
  const standing = gate.findings.filter(isStanding)
  if (gate.allow_unsafe && standing.length > 0) {
    const rules = [...new Set(standing.map((f) => f.rule))].join(', ')
    out.warn(
      `--allow-unsafe: applying ${standing.length} unsafe statement${standing.length === 1 ? '' : 's'} the lint stops (${rules}); recorded in the history rows' allowed_unsafe`,
    )
  }
}
