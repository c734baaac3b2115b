/**
 * A small SQL tokenizer for the two dialects dbops reads: enough to parse `CREATE TABLE` and
 * `CREATE INDEX` text from `sqlite_schema` and to canonicalise check, default and index
 * expressions. It keeps each token's offsets so callers can slice the original text.
 */

/** What a token is. */
export type SqlTokenKind = 'word' | 'quoted' | 'string' | 'number' | 'blob' | 'op' | 'param'

/** One token of SQL text. */
export interface SqlToken {
  kind: SqlTokenKind
  /**
   * The token's value: for `word` the text as written; for `quoted` the unquoted identifier;
   * for `string` the unescaped text; for `op` the operator; for `number` the digits as written.
   */
  value: string
  /** Offset of the first character in the source. */
  start: number
  /** Offset just past the last character in the source. */
  end: number
}

/** Operators, longest first, so `::` wins over `:` and `<>` over `<`. */
const OPERATORS = [
  '!~~*',
  '#>>',
  '->>',
  '!~~',
  '~~*',
  '!~*',
  '::',
  '<>',
  '!=',
  '<=',
  '>=',
  '==',
  '||',
  '->',
  '#>',
  '@>',
  '<@',
  '&&',
  '~~',
  '~*',
  '!~',
  '<<',
  '>>',
  '(',
  ')',
  ',',
  '.',
  ';',
  '+',
  '-',
  '*',
  '/',
  '%',
  '=',
  '<',
  '>',
  '~',
  '&',
  '|',
  '^',
  '[',
  ']',
  '?',
  '@',
  '#',
  '!',
  ':',
]

/** Thrown when the text cannot be tokenized (an unterminated string or quote). */
export class SqlSyntaxError extends Error {}

/**
 * Splits SQL text into tokens, skipping whitespace and comments (`--` and `/* *\/`).
 * Handles `'…'` strings (with `''`), PostgreSQL `E'…'` and `$tag$…$tag$`, SQLite's
 * `X'…'` blobs, and identifiers quoted with `"…"`, backticks or `[…]`.
 */
export function tokenizeSql(text: string): SqlToken[] {
  const tokens: SqlToken[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const code = text.charCodeAt(i)
    // whitespace
    if (code === 32 || code === 10 || code === 9 || code === 13 || code === 12) {
      i++
      continue
    }
    const ch = text[i]!
    if (ch === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? n : nl + 1
      continue
    }
    if (ch === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2)
      i = close === -1 ? n : close + 2
      continue
    }
    const start = i
    if (ch === "'" || ((ch === 'E' || ch === 'e') && text[i + 1] === "'")) {
      const open = ch === "'" ? i : i + 1
      const { value, end } = readQuoted(text, open, "'")
      tokens.push({ kind: 'string', value, start, end })
      i = end
      continue
    }
    if ((ch === 'X' || ch === 'x') && text[i + 1] === "'") {
      const { value, end } = readQuoted(text, i + 1, "'")
      tokens.push({ kind: 'blob', value, start, end })
      i = end
      continue
    }
    if (ch === '"' || ch === '`') {
      const { value, end } = readQuoted(text, i, ch)
      tokens.push({ kind: 'quoted', value, start, end })
      i = end
      continue
    }
    if (ch === '[' && tokens.length > 0 && isIdentifierPosition(tokens)) {
      const close = text.indexOf(']', i)
      if (close === -1) throw new SqlSyntaxError(`unterminated [identifier] at offset ${i}`)
      tokens.push({ kind: 'quoted', value: text.slice(i + 1, close), start, end: close + 1 })
      i = close + 1
      continue
    }
    if (ch === '$') {
      DOLLAR.lastIndex = i
      const tag = DOLLAR.exec(text)
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length)
        if (close === -1) throw new SqlSyntaxError(`unterminated dollar-quoted string at offset ${i}`)
        tokens.push({ kind: 'string', value: text.slice(i + tag[0].length, close), start, end: close + tag[0].length })
        i = close + tag[0].length
        continue
      }
      PARAM.lastIndex = i
      const param = PARAM.exec(text)
      if (param) {
        tokens.push({ kind: 'param', value: param[0], start, end: i + param[0].length })
        i += param[0].length
        continue
      }
    }
    if ((code >= 48 && code <= 57) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)!
      tokens.push({ kind: 'number', value: m[0], start, end: i + m[0].length })
      i += m[0].length
      continue
    }
    if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code >= 128) {
      WORD.lastIndex = i
      const m = WORD.exec(text)!
      tokens.push({ kind: 'word', value: m[0], start, end: i + m[0].length })
      i += m[0].length
      continue
    }
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, i))
    if (!op) throw new SqlSyntaxError(`unexpected character ${JSON.stringify(ch)} at offset ${i}`)
    tokens.push({ kind: 'op', value: op, start, end: i + op.length })
    i += op.length
  }
  return tokens
}

const DOLLAR = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y
const PARAM = /\$\d+/y
const NUMBER = /0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y

/** `[` starts a quoted identifier (SQLite) unless it follows something it could subscript. */
function isIdentifierPosition(tokens: SqlToken[]): boolean {
  const last = tokens[tokens.length - 1]!
  if (last.kind === 'op') return last.value !== ')' && last.value !== ']'
  if (last.kind === 'word')
    return /^(?:table|index|on|references|key|unique|constraint|into|from|join|as|exists|view|trigger)$/i.test(last.value)
  return false
}

function readQuoted(text: string, open: number, quote: string): { value: string; end: number } {
  let value = ''
  let i = open + 1
  while (i < text.length) {
    const ch = text[i]!
    if (ch === quote) {
      if (text[i + 1] === quote) {
        value += quote
        i += 2
        continue
      }
      return { value, end: i + 1 }
    }
    value += ch
    i++
  }
  throw new SqlSyntaxError(`unterminated ${quote === "'" ? 'string' : 'quoted identifier'} at offset ${open}`)
}

/** Whether a `word` token is the keyword `keyword` (case-insensitive). */
export function isKeyword(token: SqlToken | undefined, keyword: string): boolean {
  return token !== undefined && token.kind === 'word' && token.value.toLowerCase() === keyword
}

/** Whether `token` is the operator `op`. */
export function isOp(token: SqlToken | undefined, op: string): boolean {
  return token !== undefined && token.kind === 'op' && token.value === op
}

/** The name a `word` or `quoted` token stands for (unquoted words as written). */
export function identifierOf(token: SqlToken | undefined): string | undefined {
  if (token === undefined) return undefined
  if (token.kind === 'quoted' || token.kind === 'word') return token.value
  if (token.kind === 'string') return token.value // SQLite accepts 'name' where a name goes
  return undefined
}

/**
 * The index of the `)` matching the `(` at `openIndex`, or -1 when it is unbalanced.
 */
export function matchingParen(tokens: SqlToken[], openIndex: number): number {
  let depth = 0
  for (let i = openIndex; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'op') continue
    if (t.value === '(') depth++
    else if (t.value === ')') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Splits `tokens[from..to)` at top-level commas. */
export function splitTopLevel(tokens: SqlToken[], from: number, to: number): Array<[number, number]> {
  const parts: Array<[number, number]> = []
  let depth = 0
  let partStart = from
  for (let i = from; i < to; i++) {
    const t = tokens[i]!
    if (t.kind !== 'op') continue
    if (t.value === '(' || t.value === '[') depth++
    else if (t.value === ')' || t.value === ']') depth--
    else if (t.value === ',' && depth === 0) {
      parts.push([partStart, i])
      partStart = i + 1
    }
  }
  if (partStart < to) parts.push([partStart, to])
  return parts
}
