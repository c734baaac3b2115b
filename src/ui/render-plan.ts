/** Rendering a migration plan: per migration, per statement, its locks, rewrites, what it blocks, and the grade. */
import type { ChalkInstance } from 'chalk'
import type { PlanGrade, PlanLock } from '../migrate/grade-plan.js'
import type { MigrationPlan, PlannedStatement } from '../migrate/plan-migrations.js'
import { printable } from '../printable-text.js'

function paintGrade(grade: PlanGrade, color: ChalkInstance): string {
  const paint = grade === 'high' ? color.red.bold : grade === 'medium' ? color.yellow : color.green
  return paint(grade.toUpperCase())
}

function lockList(locks: PlanLock[]): string {
  return locks.length === 0 ? 'none' : locks.map((l) => `${l.label} on ${printable(l.relation)}`).join(', ')
}

function statementLines(s: PlannedStatement, color: ChalkInstance): string[] {
  const where = s.line === null ? '' : `line ${s.line}: `
  const taken = s.locks.filter((l) => !l.held_before)
  const held = s.locks.length - taken.length
  const lines = [
    `  ${paintGrade(s.grade, color)}  ${where}${printable(s.sql)}`,
    `        takes: ${lockList(taken)}${held > 0 ? ` (and still holds ${held} lock${held === 1 ? '' : 's'} from earlier statements)` : ''}`,
  ]
  const changes = [
    ...s.rewritten.map((r) => `rewrites ${r}`),
    ...s.validated.map((v) => `validates ${v}`),
    ...s.not_null_checked.map((c) => `scans for NOT NULL ${c}`),
    ...s.indexes_built.map((i) => `builds ${i}`),
  ]
  if (changes.length > 0) lines.push(`        ${printable(changes.join(', '))}`)
  lines.push(`        ${printable(s.reason)}`)
  for (const f of s.lint) {
    const severity = f.ignored ? `ignored: ${f.ignored.reason}` : f.downgraded ? `warning, downgraded: ${f.downgraded}` : f.severity
    lines.push(`        lint ${f.rule} (${printable(severity)}): ${printable(f.message)}`)
  }
  return lines
}

/** The plan as text (stdout). */
export function renderMigrationPlan(plan: MigrationPlan, color: ChalkInstance): string {
  if (plan.migrations.length === 0) return `Nothing pending on ${printable(plan.database)}: nothing to plan.`
  const lines = [
    `Plan for ${plan.migrations.length} pending migration${plan.migrations.length === 1 ? '' : 's'} on ${printable(plan.database)}, traced in a schema copy (nothing applied):`,
  ]
  for (const m of plan.migrations) {
    const how = m.transaction ? 'one transaction' : 'transaction:false, each statement on its own'
    lines.push('', `${color.bold(printable(m.name))}  ${paintGrade(m.grade, color)}  (${how})`)
    if (m.traced === 'whole') lines.push('  a module: traced as one step (its queries are not split)')
    for (const s of m.statements) lines.push(...statementLines(s, color))
    if (m.commit_locks) lines.push(`  held until COMMIT: ${lockList(m.commit_locks)}`)
  }
  if (plan.lint_note) lines.push('', printable(plan.lint_note))
  lines.push('', `Overall: ${paintGrade(plan.grade, color)}`)
  return lines.join('\n')
}
