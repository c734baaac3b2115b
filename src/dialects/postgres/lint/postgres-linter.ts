/**
 * PostgreSQL's migration linter: each statement parsed by PostgreSQL's own parser
 * (libpg-query, its WebAssembly build), then checked by the rules of this folder.
 */
import { loadModule, parseSync } from 'libpg-query'
import {
  type LintFinding,
  type LintSection,
  type LintState,
  LintSyntaxError,
  type LintTarget,
  type MigrationLinter,
} from '../../lint-port.js'
import { lineStarts, locate } from '../../../sql/text-position.js'
import { checkAlterTable } from './alter-table-checks.js'
import { checkColumnTypes } from './column-checks.js'
import {
  type RangeVarNode,
  type SectionState,
  type StatementContext,
  isNew,
  markCreated,
  report,
  tableName,
  tableOf,
} from './lint-context.js'
import { POSTGRES_LINT_RULES } from './postgres-lint-rules.js'

let loaded: Promise<void> | undefined

/** The PostgreSQL linter, once its parser is loaded. */
export async function loadPostgresLinter(): Promise<MigrationLinter> {
  loaded ??= loadModule()
  await loaded
  return { rules: POSTGRES_LINT_RULES, lintSection }
}

/** A statement cut to one line of at most 100 characters. */
function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 100 ? `${line.slice(0, 99)}…` : line
}

function lintSection(section: LintSection, state: LintState, target: LintTarget): LintFinding[] {
  const findings: LintFinding[] = []
  const sectionState: SectionState = { accessExclusive: undefined, notValidAdded: new Set() }
  const starts = lineStarts(section.fileText)
  for (const statement of section.statements) {
    let stmts: any[]
    try {
      stmts = (parseSync(statement.text) as any).stmts ?? []
    } catch (err) {
      const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
      // the cursor is a byte offset into the statement
      const cursor =
        details?.cursorPosition === undefined ? 0 : Buffer.from(statement.text).subarray(0, details.cursorPosition).toString().length
      const { line, column } = locate(starts, statement.offset + cursor)
      throw new LintSyntaxError((err as Error).message, line, column)
    }
    for (const raw of stmts) {
      const ctx: StatementContext = {
        section,
        state,
        sectionState,
        target,
        line: statement.line,
        column: statement.column,
        excerpt: excerptOf(statement.text),
        findings,
      }
      checkStatement(ctx, raw.stmt)
    }
  }
  return findings
}

/** The tables an existing-table statement locks, for `lock-after-access-exclusive`; [] when none. */
function lockedTables(ctx: StatementContext, kind: string, node: any): RangeVarNode[] {
  const rels: RangeVarNode[] = []
  if (kind === 'AlterTableStmt' || kind === 'IndexStmt' || kind === 'RenameStmt' || kind === 'ClusterStmt') {
    if (node.relation) rels.push(node.relation)
  } else if (kind === 'InsertStmt' || kind === 'UpdateStmt' || kind === 'DeleteStmt') rels.push(node.relation)
  else if (kind === 'LockStmt' || kind === 'TruncateStmt') rels.push(...(node.relations ?? []).map((r: any) => r.RangeVar))
  else if (kind === 'VacuumStmt') rels.push(...(node.rels ?? []).map((r: any) => r.VacuumRelation?.relation).filter(Boolean))
  return rels.filter((r) => r && !isNew(ctx, tableOf(r)))
}

function checkStatement(ctx: StatementContext, stmt: any): void {
  const kind = Object.keys(stmt)[0]!
  const node = stmt[kind]
  const held = ctx.section.transaction ? ctx.sectionState.accessExclusive : undefined
  const rels = held ? lockedTables(ctx, kind, node) : []
  const exclusive = checkByKind(ctx, kind, node)
  if (held && rels.length > 0)
    report(
      ctx,
      'lock-after-access-exclusive',
      `locks ${rels.map((r) => tableName(tableOf(r))).join(', ')} while ${tableName(held)} is held ACCESS EXCLUSIVE`,
      [held, ...rels.map(tableOf)],
    )
  if (exclusive && ctx.section.transaction) ctx.sectionState.accessExclusive ??= exclusive
}

/** Runs the checks of one statement; returns the existing table it took ACCESS EXCLUSIVE on, if any. */
function checkByKind(ctx: StatementContext, kind: string, node: any): ReturnType<typeof tableOf> | undefined {
  switch (kind) {
    case 'CreateStmt': {
      const table = tableOf(node.relation)
      checkColumnTypes(ctx, (node.tableElts ?? []).map((e: any) => e.ColumnDef).filter(Boolean), table)
      markCreated(ctx, table)
      return undefined
    }
    case 'CreateTableAsStmt':
      if (node.into?.rel) markCreated(ctx, tableOf(node.into.rel))
      return undefined
    case 'AlterTableStmt':
      return checkAlterTable(ctx, node) ? tableOf(node.relation) : undefined
    case 'IndexStmt':
      return checkIndex(ctx, node)
    case 'DropStmt':
      return checkDrop(ctx, node)
    case 'RenameStmt':
      return checkRename(ctx, node)
    case 'VacuumStmt':
      return checkVacuum(ctx, node)
    case 'ClusterStmt': {
      const table = node.relation ? tableOf(node.relation) : undefined
      if (table && isNew(ctx, table)) return undefined
      report(ctx, 'cluster', table ? `CLUSTER ${tableName(table)}` : 'CLUSTER of every clustered table', table ? [table] : [])
      return table
    }
    case 'ReindexStmt':
      return checkReindex(ctx, node)
    case 'VariableSetStmt':
      checkSet(ctx, node)
      return undefined
    case 'LockStmt': {
      const tables = (node.relations ?? []).map((r: any) => tableOf(r.RangeVar)).filter((t: any) => !isNew(ctx, t))
      return node.mode === 8 ? tables[0] : undefined
    }
    case 'TruncateStmt':
      return (node.relations ?? []).map((r: any) => tableOf(r.RangeVar)).find((t: any) => !isNew(ctx, t))
    default:
      return undefined
  }
}

function isConcurrent(ctx: StatementContext, what: string): boolean {
  if (ctx.section.transaction) report(ctx, 'concurrently-in-transaction', `${what} CONCURRENTLY in a transactional section`, [])
  return true
}

function checkIndex(ctx: StatementContext, node: any): undefined {
  const table = tableOf(node.relation)
  if (node.concurrent) {
    if (ctx.section.transaction)
      report(ctx, 'concurrently-in-transaction', `CREATE INDEX CONCURRENTLY on ${tableName(table)} in a transactional section`, [table])
    return undefined
  }
  if (isNew(ctx, table)) {
    if (node.idxname) ctx.state.createdTables.add(`index:${String(node.idxname).toLowerCase()}`)
  } else
    report(
      ctx,
      'create-index-non-concurrently',
      `CREATE ${node.unique ? 'UNIQUE ' : ''}INDEX ${node.idxname ?? ''} on ${tableName(table)}`.replace('  ', ' '),
      [table],
    )
  return undefined
}

function namesOf(node: any): Array<{ schema?: string; name: string }> {
  return (node.objects ?? []).map((o: any) => {
    const parts = (o.List?.items ?? []).map((i: any) => i.String?.sval as string)
    return parts.length > 1 ? { schema: parts[parts.length - 2], name: parts[parts.length - 1] } : { name: parts[0] }
  })
}

function checkDrop(ctx: StatementContext, node: any): ReturnType<typeof tableOf> | undefined {
  if (node.removeType === 'OBJECT_TABLE') {
    const existing = namesOf(node).filter((t) => !isNew(ctx, t))
    if (existing.length > 0) report(ctx, 'drop-table', `table ${existing.map(tableName).join(', ')} dropped`, existing)
    return existing[0]
  }
  if (node.removeType === 'OBJECT_INDEX') {
    const indexes = namesOf(node)
    if (node.concurrent) isConcurrent(ctx, 'DROP INDEX')
    else if (!indexes.every((i) => ctx.state.createdTables.has(`index:${tableName(i).toLowerCase()}`)))
      report(ctx, 'drop-index-non-concurrently', `DROP INDEX ${indexes.map(tableName).join(', ')}`, indexes)
  }
  return undefined
}

function checkRename(ctx: StatementContext, node: any): ReturnType<typeof tableOf> | undefined {
  if (!node.relation) return undefined
  const table = tableOf(node.relation)
  if (isNew(ctx, table)) {
    if (node.renameType === 'OBJECT_TABLE')
      markCreated(ctx, table.schema ? { schema: table.schema, name: node.newname } : { name: node.newname })
    return undefined
  }
  if (node.renameType === 'OBJECT_COLUMN')
    report(ctx, 'rename-column', `column ${tableName(table)}.${node.subname} renamed to ${node.newname}`, [table])
  else if (node.renameType === 'OBJECT_TABLE') report(ctx, 'rename-table', `table ${tableName(table)} renamed to ${node.newname}`, [table])
  else return undefined
  return table
}

function checkVacuum(ctx: StatementContext, node: any): ReturnType<typeof tableOf> | undefined {
  const full = (node.options ?? []).some((o: any) => o.DefElem?.defname === 'full' && o.DefElem?.arg?.Boolean?.boolval !== false)
  if (!full || !node.is_vacuumcmd) return undefined
  const tables = (node.rels ?? []).map((r: any) => tableOf(r.VacuumRelation.relation)).filter((t: any) => !isNew(ctx, t))
  if (tables.length === 0 && (node.rels ?? []).length > 0) return undefined
  report(
    ctx,
    'vacuum-full',
    tables.length > 0 ? `VACUUM FULL ${tables.map(tableName).join(', ')}` : 'VACUUM FULL of the whole database',
    tables,
  )
  return tables[0]
}

function checkReindex(ctx: StatementContext, node: any): undefined {
  const concurrent = (node.params ?? []).some((p: any) => p.DefElem?.defname === 'concurrently')
  const target = node.relation ? [tableOf(node.relation)] : []
  if (concurrent) isConcurrent(ctx, 'REINDEX')
  else if (!(node.kind === 'REINDEX_OBJECT_TABLE' && target.length > 0 && isNew(ctx, target[0]!)))
    report(ctx, 'reindex-non-concurrently', `REINDEX ${target.map(tableName).join(', ') || node.name || ''}`.trim(), target)
  return undefined
}

function checkSet(ctx: StatementContext, node: any): void {
  if (String(node.name).toLowerCase() !== 'lock_timeout') return
  if (node.kind === 'VAR_RESET' || node.kind === 'VAR_SET_DEFAULT') {
    report(ctx, 'lock-timeout-disabled', 'lock_timeout reset to the server default (dbops’ own is dropped)', [])
    return
  }
  const arg = node.args?.[0]?.A_Const
  const value = arg?.sval?.sval ?? (arg?.ival ? String(arg.ival.ival ?? 0) : undefined)
  if (value !== undefined && /^\s*0+\s*(ms|s|min|h|d)?\s*$/i.test(value))
    report(ctx, 'lock-timeout-disabled', 'lock_timeout set to 0 (no limit)', [])
}
