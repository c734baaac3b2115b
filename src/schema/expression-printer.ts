/**
 * Writes an expression tree back as canonical text (see `canonical-expression.ts`): keywords
 * and unquoted names in lower case, parentheses only where precedence needs them.
 */
import { type SqlToken } from '../sql/sql-tokenizer.js'
import { delimitIdentifier } from '../sql/sql-text.js'
import { COMPARISON, type Expr, PREC } from './expression-tree.js'

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
  const text = printExpression(child)
  return precedenceOf(child) < minPrec ? `(${text})` : text
}

function printName(part: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(part) || /^\$\d+$/.test(part) ? part : delimitIdentifier(part)
}

/** The canonical text of `expr`. */
export function printExpression(expr: Expr): string {
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
      return `${expr.name}(${expr.star ? '*' : `${expr.distinct ? 'distinct ' : ''}${expr.args.map(printExpression).join(', ')}`})`
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
      return `${wrap(expr.expr, PREC.pattern + 1)} ${expr.not ? 'not ' : ''}in (${expr.list.map(printExpression).join(', ')})`
    case 'like':
      return `${wrap(expr.expr, PREC.pattern + 1)} ${expr.not ? 'not ' : ''}${expr.op} ${wrap(expr.pattern, PREC.pattern + 1)}${expr.escape ? ` escape ${printExpression(expr.escape)}` : ''}`
    case 'case':
      return [
        'case',
        ...(expr.operand ? [printExpression(expr.operand)] : []),
        ...expr.whens.map(([when, then]) => `when ${printExpression(when)} then ${printExpression(then)}`),
        ...(expr.otherwise ? [`else ${printExpression(expr.otherwise)}`] : []),
        'end',
      ].join(' ')
    case 'array':
      return `array[${expr.items.map(printExpression).join(', ')}]`
    case 'collate':
      return `${wrap(expr.expr, PREC.collate)} collate ${printName(expr.collation)}`
    case 'any':
      return `${wrap(expr.left, PREC.compare + 1)} ${expr.op} ${expr.quantifier}(${printExpression(expr.right)})`
    case 'subscript':
      return `${wrap(expr.expr, PREC.postfix)}[${printExpression(expr.index)}]`
  }
}

/** Token-level normalisation for text the parser does not understand. */
export function normaliseTokens(tokens: SqlToken[]): string {
  return tokens
    .map((t) => {
      if (t.kind === 'word') return t.value.toLowerCase()
      if (t.kind === 'quoted') return printName(t.value)
      if (t.kind === 'string') return `'${t.value.replaceAll("'", "''")}'`
      return t.value
    })
    .join(' ')
}
