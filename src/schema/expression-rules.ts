/**
 * The rewrites that make spellings of one expression one tree, applied while parsing (see
 * `canonical-expression.ts`): casts dropped, `= ANY (ARRAY[…])` as `IN (…)`, numbers in
 * one spelling, the "now" functions as one keyword.
 */
import { type Expr } from './expression-tree.js'

const NUMERIC_TYPES = /^(?:int|integer|int2|int4|int8|smallint|bigint|numeric|decimal|real|float|float4|float8|double precision|double)\b/
/** Functions that mean "the transaction's timestamp". */
const NOW_FUNCTIONS = new Set(['now', 'transaction_timestamp'])

/** Drops a cast; a numeric string cast to a numeric type becomes a number (`'-1'::integer`). */
export function castTo(expr: Expr, type: string): Expr {
  if (
    expr.t === 'lit' &&
    expr.kind === 'string' &&
    NUMERIC_TYPES.test(type) &&
    /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(expr.value)
  ) {
    return { t: 'lit', kind: 'number', value: normaliseNumber(expr.value.trim()) }
  }
  if (expr.t === 'lit' && expr.kind === 'string' && type === 'boolean') {
    const v = expr.value.toLowerCase()
    if (['t', 'true', 'yes', 'on', '1'].includes(v)) return { t: 'lit', kind: 'true', value: 'true' }
    if (['f', 'false', 'no', 'off', '0'].includes(v)) return { t: 'lit', kind: 'false', value: 'false' }
  }
  return expr
}

/** `x = ANY (ARRAY[a, b])` is `x IN (a, b)`; `x <> ALL (ARRAY[…])` is `x NOT IN (…)`. */
export function anyToIn(node: Extract<Expr, { t: 'any' }>): Expr {
  let items: Expr[] | undefined
  if (node.right.t === 'array') items = node.right.items
  else if (node.right.t === 'lit' && node.right.kind === 'string' && /^\{.*\}$/s.test(node.right.value)) {
    items = parseArrayLiteral(node.right.value)
  }
  if (items) {
    if (node.op === '=' && node.quantifier === 'any') return { t: 'in', expr: node.left, not: false, list: items }
    if (node.op === '<>' && node.quantifier === 'all') return { t: 'in', expr: node.left, not: true, list: items }
  }
  return node
}

/** PostgreSQL's array literal text `{a,"b c"}` as string literals. */
function parseArrayLiteral(text: string): Expr[] {
  const inner = text.slice(1, -1)
  if (inner === '') return []
  const items: Expr[] = []
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy
  let m: RegExpExecArray | null
  while (re.lastIndex < inner.length && (m = re.exec(inner)) !== null) {
    const value = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim()
    if (m[1] === undefined && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(value))
      items.push({ t: 'lit', kind: 'number', value: normaliseNumber(value) })
    else items.push({ t: 'lit', kind: 'string', value })
    if (m[0] === '') break
  }
  return items
}

/** `-x` of a number as written: `1` → `-1`, `-1` → `1`. */
export function negate(value: string): string {
  return value.startsWith('-') ? value.slice(1) : `-${value}`
}

/** `1.50` → `1.5`, `10.0` → `10`, `007` → `7`; hex and exponents stay as written. */
export function normaliseNumber(text: string): string {
  let value = text.replace(/^\+/, '')
  const negative = value.startsWith('-')
  if (negative) value = value.slice(1)
  if (/^\d+(\.\d*)?$|^\.\d+$/.test(value)) {
    let [int = '', frac = ''] = value.split('.')
    int = int.replace(/^0+(?=\d)/, '') || '0'
    frac = frac.replace(/0+$/, '')
    value = frac === '' ? int : `${int}.${frac}`
  }
  return negative && value !== '0' ? `-${value}` : value
}

/**
 * A function call, with the calls that mean "now" made one keyword: `now()`,
 * `transaction_timestamp()` and SQLite's `datetime('now')` are `current_timestamp`,
 * `date('now')` and `time('now')` are `current_date` and `current_time`.
 */
export function callTo(name: string, args: Expr[], star: boolean, distinct: boolean): Expr {
  if (NOW_FUNCTIONS.has(name) && args.length === 0) return { t: 'kw', name: 'current_timestamp' }
  if ((name === 'datetime' || name === 'date' || name === 'time') && args.length === 1) {
    const arg = args[0]!
    if (arg.t === 'lit' && arg.kind === 'string' && arg.value.toLowerCase() === 'now') {
      return { t: 'kw', name: name === 'datetime' ? 'current_timestamp' : name === 'date' ? 'current_date' : 'current_time' }
    }
  }
  return { t: 'call', name, args, star, distinct }
}
