/**
 * Checks of `ALTER TABLE`: constraints, NOT NULL, type changes, defaults, keys, dropped
 * columns; and which of its subcommands take an ACCESS EXCLUSIVE lock.
 */
import { type RangeVarNode, type StatementContext, isNew, report, tableKey, tableName, tableOf, versionOf } from './lint-context.js'
import { checkColumnTypes, defaultIsRewriting } from './column-checks.js'

/** Subcommands that take less than ACCESS EXCLUSIVE. */
const WEAKER_LOCK = new Set([
  'AT_ValidateConstraint',
  'AT_SetStatistics',
  'AT_SetOptions',
  'AT_ResetOptions',
  'AT_ClusterOn',
  'AT_DropCluster',
  'AT_AttachPartition',
  'AT_EnableTrig',
  'AT_DisableTrig',
  'AT_EnableTrigAll',
  'AT_DisableTrigAll',
  'AT_EnableTrigUser',
  'AT_DisableTrigUser',
])

/** Whether `cmd` takes an ACCESS EXCLUSIVE lock on its table. */
function takesAccessExclusive(cmd: any): boolean {
  if (WEAKER_LOCK.has(cmd.subtype)) return false
  // a foreign key takes SHARE ROW EXCLUSIVE
  if (cmd.subtype === 'AT_AddConstraint' && cmd.def?.Constraint?.contype === 'CONSTR_FOREIGN') return false
  return true
}

/** Checks one `ALTER TABLE`; returns whether it took an ACCESS EXCLUSIVE lock on an existing table. */
export function checkAlterTable(ctx: StatementContext, node: any): boolean {
  if (node.objtype && node.objtype !== 'OBJECT_TABLE') return false
  const table = tableOf(node.relation as RangeVarNode)
  const fresh = isNew(ctx, table)
  const name = tableName(table)
  let exclusive = false
  for (const item of node.cmds ?? []) {
    const cmd = item.AlterTableCmd
    if (!cmd) continue
    if (!fresh && takesAccessExclusive(cmd)) exclusive = true
    if (cmd.subtype === 'AT_AddColumn' || cmd.subtype === 'AT_AlterColumnType') checkColumnTypes(ctx, [cmd.def?.ColumnDef], table)
    if (cmd.subtype === 'AT_AddConstraint') addConstraint(ctx, cmd.def?.Constraint, table, fresh)
    else if (cmd.subtype === 'AT_ValidateConstraint') validateConstraint(ctx, cmd.name, table)
    if (fresh) continue
    switch (cmd.subtype) {
      case 'AT_SetNotNull':
        if (!(versionOf(ctx) >= 120000 && ctx.state.notNullChecks.has(`${tableKey(table)}.${String(cmd.name).toLowerCase()}`)))
          report(ctx, 'set-not-null-unsafe', `SET NOT NULL on ${name}.${cmd.name}`, [table])
        break
      case 'AT_AlterColumnType':
        report(ctx, 'column-type-rewrite', `type of ${name}.${cmd.name} changed`, [table])
        break
      case 'AT_AddColumn': {
        const rewrite = defaultIsRewriting(cmd.def?.ColumnDef, versionOf(ctx))
        if (rewrite)
          report(ctx, 'add-column-volatile-default', `column ${cmd.def.ColumnDef.colname} added to ${name} with ${rewrite}`, [table])
        // inline UNIQUE / PRIMARY KEY / CHECK / REFERENCES behave as the table constraints they are
        for (const c of cmd.def?.ColumnDef?.constraints ?? []) addConstraint(ctx, c.Constraint, table, fresh)
        break
      }
      case 'AT_DropColumn':
        report(ctx, 'drop-column', `column ${name}.${cmd.name} dropped`, [table])
        break
    }
  }
  return exclusive
}

function addConstraint(ctx: StatementContext, constraint: any, table: ReturnType<typeof tableOf>, fresh: boolean): void {
  if (!constraint) return
  const name = tableName(table)
  const key = `${tableKey(table)}.${String(constraint.conname ?? '').toLowerCase()}`
  const notValid = constraint.skip_validation === true
  if (constraint.contype === 'CONSTR_CHECK') {
    const column = notNullColumn(constraint.raw_expr)
    if (notValid) {
      ctx.sectionState.notValidAdded.add(key)
      if (column) ctx.state.pendingNotNullChecks.set(key, `${tableKey(table)}.${column}`)
    } else if (column) ctx.state.notNullChecks.add(`${tableKey(table)}.${column}`)
  }
  if (constraint.contype === 'CONSTR_FOREIGN' && notValid) ctx.sectionState.notValidAdded.add(key)
  if (fresh) return
  if ((constraint.contype === 'CONSTR_CHECK' || constraint.contype === 'CONSTR_FOREIGN') && !notValid) {
    const tables = [table]
    if (constraint.pktable) tables.push(tableOf(constraint.pktable))
    const kind = constraint.contype === 'CONSTR_CHECK' ? 'CHECK' : 'FOREIGN KEY'
    report(
      ctx,
      'constraint-not-valid-missing',
      `${kind} ${constraint.conname ?? ''} added to ${name} and validated at once`.replace('  ', ' '),
      tables,
    )
  }
  if ((constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE') && !constraint.indexname) {
    const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'
    report(ctx, 'unique-without-index', `${kind} added to ${name} without USING INDEX`, [table])
  }
}

function validateConstraint(ctx: StatementContext, constraintName: string, table: ReturnType<typeof tableOf>): void {
  const key = `${tableKey(table)}.${String(constraintName).toLowerCase()}`
  const column = ctx.state.pendingNotNullChecks.get(key)
  if (column) ctx.state.notNullChecks.add(column)
  if (ctx.section.transaction && ctx.sectionState.notValidAdded.has(key))
    report(
      ctx,
      'validate-same-transaction',
      `VALIDATE CONSTRAINT ${constraintName} on ${tableName(table)} in the transaction that added it`,
      [table],
    )
}

/** The column of a `col IS NOT NULL` expression, lower-cased, or undefined. */
function notNullColumn(expr: any): string | undefined {
  const test = expr?.NullTest
  if (!test || test.nulltesttype !== 'IS_NOT_NULL') return undefined
  const fields = test.arg?.ColumnRef?.fields
  const last = fields?.[fields.length - 1]?.String?.sval
  return typeof last === 'string' ? last.toLowerCase() : undefined
}
