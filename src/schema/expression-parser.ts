/**
 * The grammar of SQL expressions as both databases write them (a precedence-climbing parser
 * over the lexer's tokens), building the tree of `expression-tree.ts` with the rewrites of
 * `expression-rules.ts` applied. One cohesive unit: each method is one rule of the grammar.
 */
import { type SqlToken, SqlSyntaxError } from '../sql/sql-tokenizer.js'
import { COMPARISON, type Expr, PREC } from './expression-tree.js'
import { anyToIn, callTo, castTo, negate, normaliseNumber } from './expression-rules.js'

const LIKE_OPS: Record<string, { op: string; not: boolean }> = {
  '~~': { op: 'like', not: false },
  '~~*': { op: 'ilike', not: false },
  '!~~': { op: 'like', not: true },
  '!~~*': { op: 'ilike', not: true },
}
const OTHER_OPS = new Set(['||', '~', '~*', '!~', '!~*', '@>', '<@', '&&', '->', '->>', '#>', '#>>', '&', '|', '<<', '>>', '#', '?'])
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

/**
 * Parses the whole of `tokens` as one expression.
 *
 * @throws {SqlSyntaxError} for what the grammar does not cover (subqueries, `EXISTS`,
 * `BETWEEN SYMMETRIC`) or text that is not one expression
 */
export function parseExpression(tokens: SqlToken[]): Expr {
  return new Parser(tokens).parseAll()
}

class Parser {
  private i = 0

  constructor(private readonly tokens: SqlToken[]) {}

  parseAll(): Expr {
    const expr = this.expr(0)
    if (this.i < this.tokens.length) throw this.error(`unexpected ${this.peek()!.value}`)
    return expr
  }

  /** An error at the token in hand. */
  private error(message: string): SqlSyntaxError {
    return new SqlSyntaxError(message, this.tokens[Math.min(this.i, this.tokens.length - 1)]?.start ?? 0)
  }

  private peek(offset = 0): SqlToken | undefined {
    return this.tokens[this.i + offset]
  }

  private next(): SqlToken {
    const token = this.tokens[this.i++]
    if (!token) throw this.error('unexpected end of expression')
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
    if (t.kind !== 'op' || t.value !== op) throw this.error(`expected ${op}, got ${t.value}`)
  }

  private expectWord(word: string): void {
    const t = this.next()
    if (t.kind !== 'word' || t.value.toLowerCase() !== word) throw this.error(`expected ${word}, got ${t.value}`)
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
          if (this.isWord('select') || this.isWord('with')) throw this.error('subquery')
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
        if (this.isWord('symmetric')) throw this.error('between symmetric')
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
        if (this.isWord('select') || this.isWord('with')) throw this.error('subquery')
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
      throw this.error(`unexpected ${t.value}`)
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
    if (word === 'exists') throw this.error('exists')
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
    return callTo(name, args, star, distinct)
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
    if (t.kind !== 'word' && t.kind !== 'quoted') throw this.error(`expected a name, got ${t.value}`)
    return t.value
  }
}
