/**
 * Ignore comments of the migration lint: `-- dbops:lint-ignore <rule-id> <reason>` on the
 * line(s) directly above a statement marks that statement's findings of the rule as ignored,
 * with the reason. A comment without a reason, or naming a rule the dialect does not have,
 * is an error (exit 2) naming file and line. Pure.
 */
import type { LintFinding } from '../dialects/lint-port.js'
import { DbopsError, ExitCode } from '../errors.js'

const IGNORE = /^\s*--\s*dbops:lint-ignore\b(.*)$/

interface IgnoreComment {
  line: number
  rule: string
  reason: string
}

/** Reads the ignore comments of `text`; throws for a malformed one. */
function readIgnoreComments(file: string, lines: string[], known: ReadonlySet<string>): Map<number, IgnoreComment[]> {
  const byLine = new Map<number, IgnoreComment[]>()
  lines.forEach((text, index) => {
    const match = IGNORE.exec(text)
    if (!match) return
    const line = index + 1
    const [rule, ...words] = match[1]!.trim().split(/\s+/).filter(Boolean)
    if (!rule || !known.has(rule)) {
      throw new DbopsError(
        'LINT_IGNORE',
        ExitCode.usage,
        `${file}:${line}: ${rule ? `unknown lint rule \`${rule}\`` : 'no rule'} in dbops:lint-ignore`,
        { hint: 'Write `-- dbops:lint-ignore <rule-id> <reason>`; `dbops migrate lint --help` and docs/lint.md list the rule ids.' },
      )
    }
    if (words.length === 0) {
      throw new DbopsError('LINT_IGNORE', ExitCode.usage, `${file}:${line}: dbops:lint-ignore ${rule} without a reason`, {
        hint: `Say why it is safe: \`-- dbops:lint-ignore ${rule} the table has 40 rows\`.`,
      })
    }
    byLine.set(line, [{ line, rule, reason: words.join(' ') }])
  })
  return byLine
}

/**
 * `findings` of `file` with those covered by an ignore comment marked `ignored`. The comments
 * that cover a statement are those on the comment lines directly above its first line.
 */
export function applyIgnoreComments(file: string, text: string, findings: LintFinding[], known: ReadonlySet<string>): LintFinding[] {
  const lines = text.split(/\r?\n/)
  const comments = readIgnoreComments(file, lines, known)
  if (comments.size === 0) return findings
  return findings.map((finding) => {
    for (let line = finding.line - 1; line >= 1 && /^\s*--/.test(lines[line - 1]!); line--) {
      const hit = comments.get(line)?.find((c) => c.rule === finding.rule)
      if (hit) return { ...finding, ignored: { reason: hit.reason } }
    }
    return finding
  })
}
