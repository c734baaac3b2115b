/**
 * The one SQL lexer: statement splitting (`split-sql.ts`), the canonical form of expressions
 * and SQLite's `CREATE` text parser all read SQL through it. What differs between databases
 * is data, a {@link SqlSyntax} each dialect supplies, so the lexer never asks which database
 * it reads. Each token keeps its offsets so callers can slice the original text.
 */

/**
 * A database's lexical rules, as data: which comment, string and identifier forms it has.
 * Each dialect supplies its own (`Dialect.sqlSyntax`); rules that are off read as plain
 * characters, so a dialect's text splits the way its own shell splits it.
 */
export interface SqlSyntax {
  /** `/* … *\/` comments nest (PostgreSQL); otherwise the first `*\/` ends the comment. */
  readonly nestedBlockComments: boolean
  /** `E'…'` is a string with backslash escapes, where `\'` does not end it (PostgreSQL). */
  readonly escapeStrings: boolean
  /** `$tag$ … $tag$` quotes a string, with a tag of any length (PostgreSQL). */
  readonly dollarQuotes: boolean
  /** `` `…` `` quotes an identifier (SQLite). */
  readonly backquoteIdentifiers: boolean
  /** `[…]` quotes an identifier (SQLite). */
  readonly bracketIdentifiers: boolean
  /**
   * `[` subscripts a value (`a[1]`, `ARRAY[1, 2]`; PostgreSQL). With bracket identifiers
   * too, `[` quotes a name only where a name is expected (after `(`, `,`, `ON`, `TABLE`…).
   */
  readonly bracketSubscripts: boolean
}

/** What a token is; `other` is a character that starts no token of the syntax (`\`, `{`). */
export type SqlTokenKind = 'word' | 'quoted' | 'string' | 'number' | 'blob' | 'op' | 'param' | 'other'

/** One token of SQL text. */
export interface SqlToken {
  kind: SqlTokenKind
  /**
   * The token's value: for `word` the text as written; for `quoted` the unquoted identifier;
   * for `string` the text between the quotes with doubled quotes undone (backslash escapes
   * are kept as written); for `op` the operator; for `number` the digits as written.
   */
  value: string
  /** Offset of the first character in the source. */
  start: number
  /** Offset just past the last character in the source. */
  end: number
}

/** What an unterminated run was, for messages (`unterminated string starting at …`). */
export type UnterminatedKind = 'string' | 'quoted identifier' | 'block comment' | 'dollar-quoted string'

/**
 * Text that cannot be tokenized: an unterminated string, quoted identifier, block comment or
 * dollar quote (`unterminated` says which), or, from {@link tokenizeSql}, a character that
 * starts no token. `offset` is where the run or character starts.
 */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly unterminated?: UnterminatedKind,
  ) {
    super(message)
    this.name = 'SqlSyntaxError'
  }
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

/** The operators by their first character, longest first. */
const OPERATORS_BY_FIRST = new Map<string, string[]>()
for (const op of OPERATORS) {
  const list = OPERATORS_BY_FIRST.get(op[0]!) ?? []
  list.push(op)
  OPERATORS_BY_FIRST.set(op[0]!, list)
}

// scan.l's dolqdelim: `$`, an optional identifier-like tag of any length, `$`
const DOLLAR = /\$([A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y
const PARAM = /\$\d+/y
const NUMBER = /0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y

function isWhitespace(code: number): boolean {
  // space, \t \n \v \f \r, and a byte-order mark
  return code === 32 || (code >= 9 && code <= 13) || code === 0xfeff
}

/**
 * Reads the tokens of `text` under `syntax`, one at a time, skipping whitespace and comments
 * (`--` and `/* *\/`). Reads `'…'` strings (with `''`), `X'…'` blobs, `"…"` identifiers,
 * `$1` parameters, and what `syntax` allows: `E'…'`, `$tag$…$tag$`, `` `…` `` and `[…]`.
 * A character that starts no token is an `other` token.
 *
 * @example
 * const lexer = new SqlLexer('SELECT 1', syntax)
 * for (let token = lexer.next(); token; token = lexer.next()) …
 */
export class SqlLexer {
  private i = 0
  private last: SqlToken | undefined

  constructor(
    private readonly text: string,
    private readonly syntax: SqlSyntax,
  ) {}

  /**
   * The next token, or undefined at the end.
   *
   * @throws {SqlSyntaxError} for an unterminated string, quoted identifier, block comment or dollar quote
   */
  next(): SqlToken | undefined {
    const { text, syntax } = this
    const n = text.length
    let i = this.i
    while (i < n) {
      const code = text.charCodeAt(i)
      if (isWhitespace(code)) {
        i++
        continue
      }
      const ch = text[i]!
      const next = text[i + 1]
      if (ch === '-' && next === '-') {
        const nl = text.indexOf('\n', i)
        i = nl === -1 ? n : nl + 1
        continue
      }
      if (ch === '/' && next === '*') {
        i = skipBlockComment(text, i, syntax.nestedBlockComments)
        continue
      }
      const token = readToken(text, i, ch, next, syntax, this.last)
      this.i = token.end
      this.last = token
      return token
    }
    this.i = n
    return undefined
  }
}

function readToken(text: string, i: number, ch: string, next: string | undefined, syntax: SqlSyntax, last: SqlToken | undefined): SqlToken {
  const code = ch.charCodeAt(0)
  if (ch === "'") return readQuoted(text, i, i, 'string')
  if ((ch === 'E' || ch === 'e') && next === "'" && syntax.escapeStrings) return readQuoted(text, i, i + 1, 'string', true)
  if ((ch === 'X' || ch === 'x') && next === "'") return readQuoted(text, i, i + 1, 'blob')
  if (ch === '"' || (ch === '`' && syntax.backquoteIdentifiers)) return readQuoted(text, i, i, 'quoted')
  if (ch === '[' && syntax.bracketIdentifiers && (!syntax.bracketSubscripts || isNamePosition(last))) {
    const close = text.indexOf(']', i + 1)
    if (close === -1) throw unterminated('quoted identifier', i)
    return { kind: 'quoted', value: text.slice(i + 1, close), start: i, end: close + 1 }
  }
  if (ch === '$') {
    DOLLAR.lastIndex = i
    const tag = syntax.dollarQuotes ? DOLLAR.exec(text) : null
    if (tag) {
      const close = text.indexOf(tag[0], i + tag[0].length)
      if (close === -1) throw unterminated('dollar-quoted string', i)
      return { kind: 'string', value: text.slice(i + tag[0].length, close), start: i, end: close + tag[0].length }
    }
    PARAM.lastIndex = i
    const param = PARAM.exec(text)
    if (param) return { kind: 'param', value: param[0], start: i, end: i + param[0].length }
  }
  if ((code >= 48 && code <= 57) || (ch === '.' && next !== undefined && next >= '0' && next <= '9')) {
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)!
    return { kind: 'number', value: m[0], start: i, end: i + m[0].length }
  }
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code >= 128) {
    WORD.lastIndex = i
    const m = WORD.exec(text)!
    return { kind: 'word', value: m[0], start: i, end: i + m[0].length }
  }
  const op = OPERATORS_BY_FIRST.get(ch)?.find((candidate) => text.startsWith(candidate, i))
  if (op) return { kind: 'op', value: op, start: i, end: i + op.length }
  return { kind: 'other', value: ch, start: i, end: i + 1 }
}

/** The offset after the block comment that starts at `i`. */
function skipBlockComment(text: string, i: number, nested: boolean): number {
  if (!nested) {
    const close = text.indexOf('*/', i + 2)
    if (close === -1) throw unterminated('block comment', i)
    return close + 2
  }
  let depth = 1
  let j = i + 2
  while (j < text.length && depth > 0) {
    if (text[j] === '*' && text[j + 1] === '/') {
      depth--
      j += 2
    } else if (text[j] === '/' && text[j + 1] === '*') {
      depth++
      j += 2
    } else j++
  }
  if (depth > 0) throw unterminated('block comment', i)
  return j
}

/** `[` quotes a name, where subscripts exist too, unless it follows something it could subscript. */
function isNamePosition(last: SqlToken | undefined): boolean {
  if (last === undefined) return false
  if (last.kind === 'op') return last.value !== ')' && last.value !== ']'
  if (last.kind === 'word')
    return /^(?:table|index|on|references|key|unique|constraint|into|from|join|as|exists|view|trigger)$/i.test(last.value)
  return false
}

/**
 * The quoted run whose opening quote is at `open` (the token starts at `start`, before an
 * `E` or `X` prefix). A doubled quote stands for one; with `backslashEscapes`, a backslash
 * takes the next character with it.
 */
function readQuoted(text: string, start: number, open: number, kind: 'string' | 'blob' | 'quoted', backslashEscapes = false): SqlToken {
  const quote = text[open]!
  let value = ''
  let from = open + 1
  let j = from
  for (;;) {
    const close = backslashEscapes ? closingQuote(text, j, quote) : text.indexOf(quote, j)
    if (close === -1) throw unterminated(kind === 'quoted' ? 'quoted identifier' : 'string', open)
    if (text[close + 1] === quote) {
      value += text.slice(from, close + 1)
      from = close + 2
      j = from
      continue
    }
    return { kind, value: value + text.slice(from, close), start, end: close + 1 }
  }
}

/** The next `quote` from `j` that no backslash escapes, or -1. */
function closingQuote(text: string, j: number, quote: string): number {
  while (j < text.length) {
    const c = text[j]
    if (c === quote) return j
    j += c === '\\' ? 2 : 1
  }
  return -1
}

function unterminated(what: UnterminatedKind, offset: number): SqlSyntaxError {
  return new SqlSyntaxError(`unterminated ${what} at offset ${offset}`, offset, what)
}

/**
 * The tokens of `text` (see {@link SqlLexer}), for parsing: a character that starts no token
 * is an error here.
 *
 * @throws {SqlSyntaxError} for an unterminated run or an unexpected character
 */
export function tokenizeSql(text: string, syntax: SqlSyntax): SqlToken[] {
  const tokens: SqlToken[] = []
  const lexer = new SqlLexer(text, syntax)
  for (let token = lexer.next(); token; token = lexer.next()) {
    if (token.kind === 'other')
      throw new SqlSyntaxError(`unexpected character ${JSON.stringify(token.value)} at offset ${token.start}`, token.start)
    tokens.push(token)
  }
  return tokens
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
