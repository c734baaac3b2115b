/** Checks of column definitions: types to prefer, and defaults that rewrite the table. */
import type { LintTable } from '../../lint-port.js'
import { type StatementContext, report, tableName } from './lint-context.js'

const SERIALS = new Set(['serial', 'serial4', 'serial8', 'bigserial', 'smallserial', 'serial2'])

/**
 * Functions known to be volatile (a default calling one is evaluated per row, so adding the
 * column rewrites the table on every version). `now()` and `current_timestamp` are stable:
 * PostgreSQL 11+ stores their value once.
 */
const VOLATILE = new Set([
  'random',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'statement_timestamp',
  'gen_random_bytes',
  'setseed',
])

/** The type's last name, lower-cased: `int8`, `json`, `serial`. */
function typeNameOf(def: any): string | undefined {
  const names = def?.typeName?.names
  const last = names?.[names.length - 1]?.String?.sval
  return typeof last === 'string' ? last.toLowerCase() : undefined
}

/** Reports serial, json and timestamp columns among `defs`. */
export function checkColumnTypes(ctx: StatementContext, defs: any[], table: LintTable): void {
  for (const def of defs) {
    const type = typeNameOf(def)
    if (!type) continue
    const column = def.colname ? `${tableName(table)}.${def.colname}` : tableName(table)
    if (SERIALS.has(type)) report(ctx, 'prefer-identity', `${column} is ${type}`, [table])
    else if (type === 'json') report(ctx, 'prefer-jsonb', `${column} is json`, [table])
    else if (type === 'timestamp') report(ctx, 'prefer-timestamptz', `${column} is timestamp without time zone`, [table])
  }
}

/**
 * Why adding the column `def` rewrites the table on server version `version`, or undefined
 * when it does not: a serial type or a volatile default always does; any non-null default
 * before PostgreSQL 11.
 */
export function defaultIsRewriting(def: any, version: number): string | undefined {
  if (!def) return undefined
  const type = typeNameOf(def)
  if (type && SERIALS.has(type)) return `type ${type} (a nextval() default, volatile)`
  const expr = (def.constraints ?? []).map((c: any) => c.Constraint).find((c: any) => c?.contype === 'CONSTR_DEFAULT')?.raw_expr
  const generated = (def.constraints ?? []).some((c: any) => c.Constraint?.contype === 'CONSTR_GENERATED')
  if (generated) return 'a stored generated expression'
  if (!expr || isNullConstant(expr)) return undefined
  const volatile = volatileCall(expr)
  if (volatile) return `the volatile default ${volatile}()`
  if (version < 110000) return 'a default (before PostgreSQL 11 every default rewrites)'
  return undefined
}

function isNullConstant(expr: any): boolean {
  return expr?.A_Const?.isnull === true
}

/** The first volatile function `expr` calls, or undefined. */
function volatileCall(expr: any): string | undefined {
  let found: string | undefined
  const visit = (node: any): void => {
    if (found || node === null || typeof node !== 'object') return
    if (Array.isArray(node)) {
      for (const child of node) visit(child)
      return
    }
    const call = node.FuncCall
    if (call) {
      const names = call.funcname as any[]
      const name = names?.[names.length - 1]?.String?.sval
      if (typeof name === 'string' && VOLATILE.has(name.toLowerCase())) {
        found = name
        return
      }
    }
    for (const value of Object.values(node)) visit(value)
  }
  visit(expr)
  return found
}
