/**
 * What a PostgreSQL lint check sees of one statement: its parsed node, where it is, the
 * section's transaction and the state carried across statements and files; and how it reports.
 */
import type { LintFinding, LintSection, LintState, LintTable, LintTarget } from '../../lint-port.js'
import { POSTGRES_LINT_RULES } from './postgres-lint-rules.js'

/** A RangeVar of the parse tree, as far as the checks read it. */
export interface RangeVarNode {
  schemaname?: string
  relname: string
}

/** What one section carries from statement to statement. */
export interface SectionState {
  /** The first existing table an ACCESS EXCLUSIVE lock was taken on, in a transactional section. */
  accessExclusive: LintTable | undefined
  /** `table.constraint` keys added NOT VALID in this section. */
  notValidAdded: Set<string>
}

/** One statement being checked. */
export interface StatementContext {
  section: LintSection
  state: LintState
  sectionState: SectionState
  target: LintTarget
  /** Its position in the file and one-line excerpt. */
  line: number
  column: number
  excerpt: string
  findings: LintFinding[]
}

const RULES = new Map(POSTGRES_LINT_RULES.map((r) => [r.id, r]))

/** The server version the rules judge by: the target's, else the newest. */
export function versionOf(ctx: StatementContext): number {
  return ctx.target.serverVersionNum ?? 180000
}

/** Reports `rule` on the statement; `detail` is the first part of the message, before the rule's why. */
export function report(ctx: StatementContext, ruleId: string, detail: string, tables: LintTable[]): void {
  const rule = RULES.get(ruleId)
  if (!rule) throw new TypeError(`Unknown lint rule ${ruleId}`)
  ctx.findings.push({
    rule: rule.id,
    severity: rule.severity,
    file: ctx.section.file,
    line: ctx.line,
    column: ctx.column,
    message: `${detail}: ${rule.why}`,
    hint: rule.hint,
    statement: ctx.excerpt,
    tables,
  })
}

/** The table a RangeVar names. */
export function tableOf(rv: RangeVarNode): LintTable {
  return rv.schemaname ? { schema: rv.schemaname, name: rv.relname } : { name: rv.relname }
}

/** `schema.name` or `name`, for messages. */
export function tableName(t: LintTable): string {
  return t.schema ? `${t.schema}.${t.name}` : t.name
}

/** The key a table is remembered by in {@link LintState}. */
export function tableKey(t: LintTable): string {
  return (t.schema ? `${t.schema}.${t.name}` : t.name).toLowerCase()
}

/** Remembers `t` as created by the migrations linted. */
export function markCreated(ctx: StatementContext, t: LintTable): void {
  ctx.state.createdTables.add(tableKey(t))
}

/**
 * Whether `t` was created earlier in the migrations linted (so it is new and empty). An
 * unqualified name matches a qualified one of the same name, and the other way round.
 */
export function isNew(ctx: StatementContext, t: LintTable): boolean {
  const key = tableKey(t)
  if (ctx.state.createdTables.has(key)) return true
  const bare = t.name.toLowerCase()
  for (const created of ctx.state.createdTables) {
    const dot = created.lastIndexOf('.')
    const createdBare = dot === -1 ? created : created.slice(dot + 1)
    if (createdBare === bare && (dot === -1 || !t.schema)) return true
  }
  return false
}
