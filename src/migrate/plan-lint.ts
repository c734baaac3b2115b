/**
 * The plan's agreement with the static lint: the pending `.sql` files are linted in order, and
 * each finding is put beside the statement it is about. A finding about a lock that the trace
 * shows to be harmless (the statement graded `low`: its table was created in this plan, is small
 * on the target, or no lock that blocks reads or writes was taken) is downgraded to a warning,
 * with the trace's reason. Findings that are not about locks (a renamed or dropped column
 * breaks the running application whatever its size) stay as they are.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { LintFinding } from '../dialects/lint-port.js'
import { messageOf } from '../errors.js'
import { lintInputOf, lintMigrationFiles, sizeMattersRules } from './lint-migrations.js'
import { serverVersionNumber } from './lint-target.js'
import type { PlanGrade } from './grade-plan.js'
import type { PreparedMigration } from './prepare-migrations.js'

/** What of a planned migration the lint reads and fills in. */
interface LintedMigration {
  statements: Array<{ line: number | null; grade: PlanGrade; reason: string; lint: LintFinding[] }>
}

/** The index of the statement a finding at `line` belongs to: the last one starting at or before it. */
function statementAt(starts: Array<number | null>, line: number): number | undefined {
  let found: number | undefined
  starts.forEach((start, index) => {
    if (start !== null && start <= line) found = index
  })
  return found
}

/**
 * Lints the planned files and sets each statement's `lint` (findings, downgraded where the trace
 * disproves them). Returns a note when the lint could not run (the plan stands without it).
 */
export async function attachLintFindings(
  config: ResolvedConfig,
  migrations: LintedMigration[],
  prepared: readonly PreparedMigration[],
  serverVersion: string,
): Promise<string | undefined> {
  let findings: LintFinding[]
  let scaling: Set<string>
  try {
    const files = prepared.map((p) => lintInputOf(p.file, p.label))
    const lint = await lintMigrationFiles(files, {
      dialect: config.target.dialect,
      serverVersionNum: serverVersionNumber(serverVersion),
      config: config.lint,
    })
    findings = lint.findings
    scaling = sizeMattersRules(lint.rules)
  } catch (err) {
    return `the static lint did not run: ${messageOf(err)}`
  }
  prepared.forEach((item, index) => {
    const migration = migrations[index]!
    const file = item.label
    const starts = migration.statements.map((s) => s.line)
    for (const finding of findings.filter((f) => f.file === file)) {
      const at = statementAt(starts, finding.line)
      if (at === undefined) continue
      const statement = migration.statements[at]!
      const disproved = scaling.has(finding.rule) && statement.grade === 'low' && !finding.ignored
      statement.lint.push(disproved ? { ...finding, severity: 'warning', downgraded: `the trace disagrees: ${statement.reason}` } : finding)
    }
  })
  return undefined
}
