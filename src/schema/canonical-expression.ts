/**
 * Canonical form of SQL expressions (check constraints, defaults, index expressions and
 * partial-index predicates), so the same expression compares equal however a database
 * spells it back. PostgreSQL deparses `CHECK (price > 0 AND kind IN ('a','b'))` as
 * `((price > (0)::numeric) AND (kind = ANY (ARRAY['a'::text, 'b'::text])))`; SQLite keeps
 * the text as written. Both canonicalise to `price > 0 and kind in ('a', 'b')`.
 *
 * The canonical form is for comparison only: casts are dropped, keywords and unquoted names
 * are lower-cased, parentheses are kept only where precedence needs them, `BETWEEN` becomes
 * two comparisons, `= ANY (ARRAY[…])` becomes `IN (…)`, `~~` becomes `LIKE`, and `now()`,
 * `CURRENT_TIMESTAMP` and SQLite's `datetime('now')` are one thing. Text that does not parse
 * falls back to a token-level normalisation (case and whitespace), never an error.
 */
import { type SqlToken, SqlSyntaxError, tokenizeSql } from '../sql/sql-tokenizer.js'

type Expr =
  | { t: 'lit'; kind: 'string' | 'number' | 'null' | 'true' | 'false' | 'blob'; value: string }
  | { t: 'ref'; parts: string[] }
  | { t: 'kw'; name: string }
  | { t: 'call'; name: string; args: Expr[]; star: boolean; distinct: boolean }
  | { t: 'unary'; op: string; expr: Expr }
  | { t: 'bin'; op: string; left: Expr; right: Expr }
  | { t: 'is'; expr: Expr; not: boolean; what: 'null' | 'true' | 'false' | 'unknown' }
  | { t: 'distinct'; left: Expr; right: Expr; not: boolean }
  | { t: 'in'; expr: Expr; not: boolean; list: Expr[] }
  | { t: 'like'; op: string; not: boolean; expr: Expr; pattern: Expr; escape: Expr | undefined }
  | { t: 'case'; operand: Expr | undefined; whens: Array<[Expr, Expr]>; otherwise: Expr | undefined }
  | { t: 'array'; items: Expr[] }
  | { t: 'collate'; expr: Expr; collation: string }
  | { t: 'any'; op: string; quantifier: 'any' | 'all'; left: Expr; right: Expr }
  | { t: 'subscript'; expr: Expr; index: Expr }

const PREC = {
  or: 1,
  and: 2,
  not: 3,
  is: 4,
  compare: 5,
  pattern: 6,
  other: 7,
  add: 8,
  mul: 9,
  pow: 10,
  collate: 11,
  unary: 12,
  cast: 13,
  postfix: 14,
  atom: 15,
} as const

const COMPARISON = new Set(['=', '==', '<>', '!=', '<', '>', '<=', '>='])
const LIKE_OPS: Record<string, { op: string; not: boolean }> = {
  '~~': { op: 'like', not: false },
  '~~*': { op: 'ilike', not: false },
  '!~~': { op: 'like', not: true },
  '!~~*': { op: 'ilike', not: true },
}
const OTHER_OPS = new Set(['||', '~', '~*', '!~', '!~*', '@>', '<@', '&&', '->', '->>', '#>', '#>>', '&', '|', '<<', '>>', '#', '?'])
const NUMERIC_TYPES = /^(?:int|integer|int2|int4|int8|smallint|bigint|numeric|decimal|real|float|float4|float8|double precision|double)\b/
/** Keywords that stand for a value without parentheses. */
const VALUE_KEYWORDS = new Set([
  'current_timestamp',
  'current_date',
  'current_time',
  'localtimestamp',
  'localtime',
  'current_user',
  'session_user',
  'user',
])
/** Type names that may prefix a string literal (`DATE '2024-01-01'`, `INTERVAL '1 day'`). */
const TYPED_LITERALS = new Set(['date', 'time', 'timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'uuid'])
/** Functions that mean "the transaction's timestamp". */
const NOW_FUNCTIONS = new Set(['now', 'transaction_timestamp'])

class Parser {
  private i = 0

  constructor(private readonly tokens: SqlToken[]) {}

  parseAll(): Expr {
    const expr = this.expr(0)
    if (this.i < this.tokens.length) throw new SqlSyntaxError(`unexpected ${this.peek()!.value}`)
    return expr
  }

  private peek(offset = 0): SqlToken | undefined {
    return this.tokens[this.i + offset]
  }

  private next(): SqlToken {
    const token = this.tokens[this.i++]
    if (!token) throw new SqlSyntaxError('unexpected end of expression')
    return token
  }

  private isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t !== undefined && t.kind === 'word' && t.value.toLowerCase() === word
  }

  private isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t !== undefined && t.kind === 'op' && t.value === op
  }

  private expect(op: string): void {
    const t = this.next()
    if (t.kind !== 'op' || t.value !== op) throw new SqlSyntaxError(`expected ${op}, got ${t.value}`)
  }

  private expectWord(word: string): void {
    const t = this.next()
    if (t.kind !== 'word' || t.value.toLowerCase() !== word) throw new SqlSyntaxError(`expected ${word}, got ${t.value}`)
  }

  expr(minPrec: number): Expr {
    let left = this.prefix()
    for (;;) {
      const t = this.peek()
      if (!t) break
      const step = this.infix(left, minPrec)
      if (!step) break
      left = step
    }
    return left
  }

  /** Applies one infix or postfix operator of precedence above `minPrec`, or returns undefined. */
  private infix(left: Expr, minPrec: number): Expr | undefined {
    const t = this.peek()!
    const word = t.kind === 'word' ? t.value.toLowerCase() : undefined
    const op = t.kind === 'op' ? t.value : undefined
    if (op === '::' && PREC.cast > minPrec) {
      this.next()
      return castTo(left, this.typeName())
    }
    if (op === '[' && PREC.postfix > minPrec) {
      this.next()
      const index = this.expr(0)
      this.expect(']')
      return { t: 'subscript', expr: left, index }
    }
    if (word === 'collate' && PREC.collate > minPrec) {
      this.next()
      return { t: 'collate', expr: left, collation: this.name().toLowerCase() }
    }
    if (word === 'or' && PREC.or > minPrec) {
      this.next()
      return { t: 'bin', op: 'or', left, right: this.expr(PREC.or) }
    }
    if (word === 'and' && PREC.and > minPrec) {
      this.next()
      return { t: 'bin', op: 'and', left, right: this.expr(PREC.and) }
    }
    if ((word === 'isnull' || word === 'notnull') && PREC.is > minPrec) {
      this.next()
      return { t: 'is', expr: left, not: word === 'notnull', what: 'null' }
    }
    if (word === 'is' && PREC.is > minPrec) {
      this.next()
      let not = false
      if (this.isWord('not')) {
        this.next()
        not = true
      }
      if (this.isWord('distinct')) {
        this.next()
        this.expectWord('from')
        return { t: 'distinct', left, right: this.expr(PREC.is), not }
      }
      const what = this.next()
      const w = what.kind === 'word' ? what.value.toLowerCase() : ''
      if (w === 'null' || w === 'true' || w === 'false' || w === 'unknown') return { t: 'is', expr: left, not, what: w }
      // SQLite: `a IS b` is null-safe equality
      this.i--
      return { t: 'distinct', left, right: this.expr(PREC.is), not: !not }
    }
    // [NOT] IN / BETWEEN / LIKE …
    let not = false
    let patternWord = word
    if (word === 'not' && PREC.pattern > minPrec) {
      const following = this.peek(1)
      const fw = following?.kind === 'word' ? following.value.toLowerCase() : undefined
      if (
        fw === 'in' ||
        fw === 'between' ||
        fw === 'like' ||
        fw === 'ilike' ||
        fw === 'glob' ||
        fw === 'regexp' ||
        fw === 'match' ||
        fw === 'similar'
      ) {
        this.next()
        not = true
        patternWord = fw
      } else {
        return undefined
      }
    }
    if (PREC.pattern > minPrec) {
      if (patternWord === 'in') {
        this.next()
        this.expect('(')
        const list: Expr[] = []
        if (!this.isOp(')')) {
          if (this.isWord('select') || this.isWord('with')) throw new SqlSyntaxError('subquery')
          list.push(this.expr(0))
          while (this.isOp(',')) {
            this.next()
            list.push(this.expr(0))
          }
        }
        this.expect(')')
        return { t: 'in', expr: left, not, list }
      }
      if (patternWord === 'between') {
        this.next()
        if (this.isWord('symmetric')) throw new SqlSyntaxError('between symmetric')
        const low = this.expr(PREC.pattern)
        this.expectWord('and')
        const high = this.expr(PREC.pattern)
        return not
          ? { t: 'bin', op: 'or', left: { t: 'bin', op: '<', left, right: low }, right: { t: 'bin', op: '>', left, right: high } }
          : { t: 'bin', op: 'and', left: { t: 'bin', op: '>=', left, right: low }, right: { t: 'bin', op: '<=', left, right: high } }
      }
      if (
        patternWord === 'like' ||
        patternWord === 'ilike' ||
        patternWord === 'glob' ||
        patternWord === 'regexp' ||
        patternWord === 'match' ||
        patternWord === 'similar'
      ) {
        this.next()
        if (patternWord === 'similar') this.expectWord('to')
        const pattern = this.expr(PREC.pattern)
        let escape: Expr | undefined
        if (this.isWord('escape')) {
          this.next()
          escape = this.expr(PREC.pattern)
        }
        return { t: 'like', op: patternWord === 'similar' ? 'similar to' : patternWord, not, expr: left, pattern, escape }
      }
    }
    if (op === undefined) return undefined
    if (LIKE_OPS[op] && PREC.other > minPrec) {
      this.next()
      const like = LIKE_OPS[op]
      return { t: 'like', op: like.op, not: like.not, expr: left, pattern: this.expr(PREC.other), escape: undefined }
    }
    const prec = COMPARISON.has(op)
      ? PREC.compare
      : op === '+' || op === '-'
        ? PREC.add
        : op === '*' || op === '/' || op === '%'
          ? PREC.mul
          : op === '^'
            ? PREC.pow
            : OTHER_OPS.has(op)
              ? PREC.other
              : undefined
    if (prec === undefined || prec <= minPrec) return undefined
    this.next()
    const canonicalOp = op === '!=' ? '<>' : op === '==' ? '=' : op
    if (this.isWord('any') || this.isWord('some') || this.isWord('all')) {
      const quantifier = this.next().value.toLowerCase() === 'all' ? 'all' : 'any'
      this.expect('(')
      const right = this.expr(0)
      this.expect(')')
      return anyToIn({ t: 'any', op: canonicalOp, quantifier, left, right })
    }
    return { t: 'bin', op: canonicalOp, left, right: this.expr(prec) }
  }

  private prefix(): Expr {
    const t = this.next()
    if (t.kind === 'op') {
      if (t.value === '(') {
        if (this.isWord('select') || this.isWord('with')) throw new SqlSyntaxError('subquery')
        const inner = this.expr(0)
        this.expect(')')
        return inner
      }
      if (t.value === '-' || t.value === '+') {
        const operand = this.expr(PREC.unary)
        if (t.value === '+') return operand
        if (operand.t === 'lit' && operand.kind === 'number') return { t: 'lit', kind: 'number', value: negate(operand.value) }
        return { t: 'unary', op: '-', expr: operand }
      }
      if (t.value === '~') return { t: 'unary', op: '~', expr: this.expr(PREC.unary) }
      throw new SqlSyntaxError(`unexpected ${t.value}`)
    }
    if (t.kind === 'string') return { t: 'lit', kind: 'string', value: t.value }
    if (t.kind === 'blob') return { t: 'lit', kind: 'blob', value: t.value.toLowerCase() }
    if (t.kind === 'number') return { t: 'lit', kind: 'number', value: normaliseNumber(t.value) }
    if (t.kind === 'param') return { t: 'ref', parts: [t.value] }
    if (t.kind === 'quoted') return this.nameOrCall(t.value)
    const word = t.value.toLowerCase()
    if (word === 'null') return { t: 'lit', kind: 'null', value: 'null' }
    if (word === 'true' || word === 'false') return { t: 'lit', kind: word, value: word }
    if (word === 'not') return { t: 'unary', op: 'not', expr: this.expr(PREC.not) }
    if (word === 'case') return this.caseExpr()
    if (word === 'exists') throw new SqlSyntaxError('exists')
    if (word === 'cast' && this.isOp('(')) {
      this.next()
      const inner = this.expr(0)
      this.expectWord('as')
      const type = this.typeName()
      this.expect(')')
      return castTo(inner, type)
    }
    if (word === 'array' && this.isOp('[')) {
      this.next()
      const items: Expr[] = []
      if (!this.isOp(']')) {
        items.push(this.expr(0))
        while (this.isOp(',')) {
          this.next()
          items.push(this.expr(0))
        }
      }
      this.expect(']')
      return { t: 'array', items }
    }
    if (VALUE_KEYWORDS.has(word) && !this.isOp('(')) return { t: 'kw', name: word }
    if (TYPED_LITERALS.has(word) && this.peek()?.kind === 'string') {
      const literal = this.next()
      return { t: 'lit', kind: 'string', value: literal.value }
    }
    return this.nameOrCall(t.kind === 'word' ? word : t.value)
  }

  private nameOrCall(first: string): Expr {
    const parts = [first]
    while (this.isOp('.') && (this.peek(1)?.kind === 'word' || this.peek(1)?.kind === 'quoted')) {
      this.next()
      const part = this.next()
      parts.push(part.kind === 'word' ? part.value.toLowerCase() : part.value)
    }
    if (!this.isOp('(')) return { t: 'ref', parts }
    this.next()
    const name = parts.map((p) => p.toLowerCase()).join('.')
    const args: Expr[] = []
    let star = false
    let distinct = false
    if (this.isOp('*')) {
      this.next()
      star = true
    } else if (!this.isOp(')')) {
      if (this.isWord('distinct')) {
        this.next()
        distinct = true
      }
      args.push(this.expr(0))
      while (this.isOp(',')) {
        this.next()
        args.push(this.expr(0))
      }
    }
    this.expect(')')
    if (NOW_FUNCTIONS.has(name) && args.length === 0) return { t: 'kw', name: 'current_timestamp' }
    if ((name === 'datetime' || name === 'date' || name === 'time') && args.length === 1) {
      const arg = args[0]!
      if (arg.t === 'lit' && arg.kind === 'string' && arg.value.toLowerCase() === 'now') {
        return { t: 'kw', name: name === 'datetime' ? 'current_timestamp' : name === 'date' ? 'current_date' : 'current_time' }
      }
    }
    return { t: 'call', name, args, star, distinct }
  }

  private caseExpr(): Expr {
    let operand: Expr | undefined
    if (!this.isWord('when')) operand = this.expr(0)
    const whens: Array<[Expr, Expr]> = []
    while (this.isWord('when')) {
      this.next()
      const when = this.expr(0)
      this.expectWord('then')
      whens.push([when, this.expr(0)])
    }
    let otherwise: Expr | undefined
    if (this.isWord('else')) {
      this.next()
      otherwise = this.expr(0)
    }
    this.expectWord('end')
    return { t: 'case', operand, whens, otherwise }
  }

  /** A type name after `::` or `AS`: words, an optional `(n, m)`, `[]` suffixes. */
  private typeName(): string {
    const parts: string[] = [this.name().toLowerCase()]
    while (this.isOp('.')) {
      this.next()
      parts[parts.length - 1] += `.${this.name().toLowerCase()}`
    }
    const multiWord = ['varying', 'precision', 'with', 'without', 'time', 'zone']
    while (this.peek()?.kind === 'word' && multiWord.includes(this.peek()!.value.toLowerCase())) parts.push(this.next().value.toLowerCase())
    let type = parts.join(' ')
    if (this.isOp('(')) {
      const start = this.i
      while (this.i < this.tokens.length && !this.isOp(')')) this.i++
      type += `(${this.tokens
        .slice(start + 1, this.i)
        .map((x) => x.value)
        .join('')})`
      this.expect(')')
    }
    while (this.isOp('[') && this.isOp(']', 1)) {
      this.i += 2
      type += '[]'
    }
    return type
  }

  private name(): string {
    const t = this.next()
    if (t.kind !== 'word' && t.kind !== 'quoted') throw new SqlSyntaxError(`expected a name, got ${t.value}`)
    return t.value
  }
}

/** Drops a cast; a numeric string cast to a numeric type becomes a number (`'-1'::integer`). */
function castTo(expr: Expr, type: string): Expr {
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
function anyToIn(node: Extract<Expr, { t: 'any' }>): Expr {
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

function negate(value: string): string {
  return value.startsWith('-') ? value.slice(1) : `-${value}`
}

/** `1.50` → `1.5`, `10.0` → `10`, `007` → `7`; hex and exponents stay as written. */
function normaliseNumber(text: string): string {
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

function precedenceOf(expr: Expr): number {
  switch (expr.t) {
    case 'bin':
      if (expr.op === 'or') return PREC.or
      if (expr.op === 'and') return PREC.and
      if (COMPARISON.has(expr.op)) return PREC.compare
      if (expr.op === '+' || expr.op === '-') return PREC.add
      if (expr.op === '*' || expr.op === '/' || expr.op === '%') return PREC.mul
      if (expr.op === '^') return PREC.pow
      return PREC.other
    case 'unary':
      return expr.op === 'not' ? PREC.not : PREC.unary
    case 'is':
    case 'distinct':
      return PREC.is
    case 'in':
    case 'like':
      return PREC.pattern
    case 'any':
      return PREC.compare
    case 'collate':
      return PREC.collate
    case 'lit':
      return expr.kind === 'number' && expr.value.startsWith('-') ? PREC.unary : PREC.atom
    default:
      return PREC.atom
  }
}

function wrap(child: Expr, minPrec: number): string {
  const text = print(child)
  return precedenceOf(child) < minPrec ? `(${text})` : text
}

function printName(part: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(part) || /^\$\d+$/.test(part) ? part : `"${part.replaceAll('"', '""')}"`
}

function print(expr: Expr): string {
  switch (expr.t) {
    case 'lit':
      if (expr.kind === 'string') return `'${expr.value.replaceAll("'", "''")}'`
      if (expr.kind === 'blob') return `x'${expr.value}'`
      return expr.value
    case 'ref':
      return expr.parts.map(printName).join('.')
    case 'kw':
      return expr.name
    case 'call':
      return `${expr.name}(${expr.star ? '*' : `${expr.distinct ? 'distinct ' : ''}${expr.args.map(print).join(', ')}`})`
    case 'unary':
      return expr.op === 'not' ? `not ${wrap(expr.expr, PREC.not)}` : `${expr.op}${wrap(expr.expr, PREC.unary)}`
    case 'bin': {
      const prec = precedenceOf(expr)
      // and/or are associative; other operators are left-associative
      const associative = expr.op === 'and' || expr.op === 'or' || expr.op === '||'
      const left = wrap(expr.left, COMPARISON.has(expr.op) ? prec + 1 : prec)
      const right = wrap(expr.right, associative ? prec : prec + 1)
      return `${left} ${expr.op} ${right}`
    }
    case 'is':
      return `${wrap(expr.expr, PREC.is + 1)} is ${expr.not ? 'not ' : ''}${expr.what}`
    case 'distinct':
      return `${wrap(expr.left, PREC.is + 1)} is ${expr.not ? 'not ' : ''}distinct from ${wrap(expr.right, PREC.is + 1)}`
    case 'in':
      return `${wrap(expr.expr, PREC.pattern + 1)} ${expr.not ? 'not ' : ''}in (${expr.list.map(print).join(', ')})`
    case 'like':
      return `${wrap(expr.expr, PREC.pattern + 1)} ${expr.not ? 'not ' : ''}${expr.op} ${wrap(expr.pattern, PREC.pattern + 1)}${expr.escape ? ` escape ${print(expr.escape)}` : ''}`
    case 'case':
      return [
        'case',
        ...(expr.operand ? [print(expr.operand)] : []),
        ...expr.whens.map(([when, then]) => `when ${print(when)} then ${print(then)}`),
        ...(expr.otherwise ? [`else ${print(expr.otherwise)}`] : []),
        'end',
      ].join(' ')
    case 'array':
      return `array[${expr.items.map(print).join(', ')}]`
    case 'collate':
      return `${wrap(expr.expr, PREC.collate)} collate ${printName(expr.collation)}`
    case 'any':
      return `${wrap(expr.left, PREC.compare + 1)} ${expr.op} ${expr.quantifier}(${print(expr.right)})`
    case 'subscript':
      return `${wrap(expr.expr, PREC.postfix)}[${print(expr.index)}]`
  }
}

/** Token-level normalisation for text the parser does not understand. */
function normaliseTokens(tokens: SqlToken[]): string {
  return tokens
    .map((t) => {
      if (t.kind === 'word') return t.value.toLowerCase()
      if (t.kind === 'quoted') return printName(t.value)
      if (t.kind === 'string') return `'${t.value.replaceAll("'", "''")}'`
      return t.value
    })
    .join(' ')
}

const cache = new Map<string, string>()

/**
 * The canonical form of a SQL expression, for comparison (see the module comment). Never
 * throws: text that does not parse is normalised token by token.
 *
 * @example
 * canonicalExpression("((price > (0)::numeric) AND ((kind)::text = ANY (ARRAY['a'::text])))")
 * // "price > 0 and kind in ('a')"
 */
export function canonicalExpression(text: string): string {
  const hit = cache.get(text)
  if (hit !== undefined) return hit
  let result: string
  let tokens: SqlToken[] = []
  try {
    tokens = tokenizeSql(text)
    result = print(new Parser(tokens).parseAll())
  } catch {
    result = tokens.length > 0 ? normaliseTokens(tokens) : text.trim().replace(/\s+/g, ' ').toLowerCase()
  }
  if (cache.size > 50_000) cache.clear()
  cache.set(text, result)
  return result
}

/** Whether two SQL expressions are the same once canonicalised (undefined equals undefined). */
export function sameExpression(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a === b || canonicalExpression(a) === canonicalExpression(b)
}
