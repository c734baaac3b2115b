/**
 * Splitting a SQL script into statements, the way the database's own shell does: a `;`
 * ends a statement only outside strings (`'…'`, `E'…'` with backslash escapes), quoted
 * identifiers (`"…"`, and SQLite's `` `…` `` and `[…]`), comments (`--`, nested `/* … *\/`
 * on PostgreSQL), dollar-quoted bodies (`$tag$ … $tag$`), parentheses, and the `BEGIN … END`
 * bodies of `CREATE FUNCTION … BEGIN ATOMIC` and SQLite's `CREATE TRIGGER`. Pure.
 *
 * dbops needs it for `transaction:false` sections (one statement per query: a multi-statement
 * query is an implicit transaction, where `CREATE INDEX CONCURRENTLY` fails), for running
 * SQLite sections statement by statement, and for naming the line of a failing statement.
 */

/** Which lexical rules apply. */
export type SqlFlavour = 'postgres' | 'sqlite'

/** One statement of a script, with where it starts. */
export interface SqlStatement {
  /** The statement's text, from its first token to before its `;`, trailing space trimmed. */
  text: string
  /** Index of its first token in the script. */
  offset: number
  /** 1-based line of its first token. */
  line: number
  /** 1-based column of its first token. */
  column: number
}

/**
 * A script that cannot be split or sent: an unterminated string, comment or dollar quote
 * (`reason: 'unterminated'`), or psql's own syntax (`reason: 'psql'`): a backslash
 * meta-command (`\connect`, `\set`, `\i`…), or `COPY … FROM stdin` with its data inline.
 * psql handles those itself and never sends them; a driver would send them to the server,
 * which rejects a backslash and cannot be fed COPY data, so they are refused up front.
 */
export class SqlSplitError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly reason: 'unterminated' | 'psql' = 'unterminated',
  ) {
    super(message)
    this.name = 'SqlSplitError'
  }
}

/**
 * Splits `script` into statements. Empty statements (only spaces, comments or `;`) are
 * dropped; a last statement without `;` counts. Throws {@link SqlSplitError} for an
 * unterminated string, quoted identifier, block comment or dollar quote, and for psql-only
 * syntax: a backslash outside strings and comments (neither dialect has a `\` token, so it can
 * only be a psql meta-command) and `COPY … FROM stdin`.
 *
 * @example
 * splitSqlStatements("INSERT INTO t VALUES ('a;b'); SELECT 1", 'postgres')
 * // [{ text: "INSERT INTO t VALUES ('a;b')", line: 1, … }, { text: 'SELECT 1', … }]
 */
export function splitSqlStatements(script: string, flavour: SqlFlavour): SqlStatement[] {
  const statements: SqlStatement[] = []
  const lines = lineStarts(script)
  const n = script.length
  let start = -1 // offset of the current statement's first token, -1 before it
  let parenDepth = 0
  let beginDepth = 0
  // the first words of the statement, to recognise CREATE [OR REPLACE] FUNCTION/PROCEDURE/TRIGGER
  const words: string[] = []
  let wordCount = 0

  const finish = (end: number) => {
    if (start >= 0) {
      const text = script.slice(start, end).trimEnd()
      const { line, column } = locate(lines, start)
      // the rows that follow it are psql's to send (COPY's protocol), not statements
      if (words[0] === 'copy' && COPY_FROM_STDIN.test(text)) {
        throw new SqlSplitError(
          '`COPY … FROM stdin` is psql syntax (psql sends the data lines that follow it); dbops does not run it',
          line,
          column,
          'psql',
        )
      }
      statements.push({ text, offset: start, line, column })
    }
    start = -1
    parenDepth = 0
    beginDepth = 0
    words.length = 0
    wordCount = 0
  }
  const fail = (what: string, at: number): never => {
    const { line, column } = locate(lines, at)
    throw new SqlSplitError(`unterminated ${what} starting at line ${line}, column ${column}`, line, column)
  }

  let i = 0
  while (i < n) {
    const c = script[i]!
    const next = script[i + 1]
    // whitespace
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
      i++
      continue
    }
    // line comment
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i)
      i = end === -1 ? n : end + 1
      continue
    }
    // block comment (nested on PostgreSQL)
    if (c === '/' && next === '*') {
      let depth = 1
      let j = i + 2
      while (j < n && depth > 0) {
        if (script[j] === '*' && script[j + 1] === '/') {
          depth--
          j += 2
        } else if (flavour === 'postgres' && script[j] === '/' && script[j + 1] === '*') {
          depth++
          j += 2
        } else j++
      }
      if (depth > 0) fail('block comment', i)
      i = j
      continue
    }
    if (c === ';') {
      if (parenDepth === 0 && beginDepth === 0) finish(i)
      i++
      continue
    }
    if (start < 0) start = i
    if (c === "'") {
      // E'…' (and e'…') take backslash escapes on PostgreSQL
      const prev = script[i - 1]
      const escapes = flavour === 'postgres' && (prev === 'E' || prev === 'e') && !isIdentChar(script[i - 2])
      i = skipQuoted(script, i, "'", escapes) ?? fail('string', i)
      continue
    }
    if (c === '"') {
      i = skipQuoted(script, i, '"', false) ?? fail('quoted identifier', i)
      continue
    }
    if (flavour === 'sqlite' && c === '`') {
      i = skipQuoted(script, i, '`', false) ?? fail('quoted identifier', i)
      continue
    }
    if (flavour === 'sqlite' && c === '[') {
      const end = script.indexOf(']', i + 1)
      if (end === -1) fail('quoted identifier', i)
      i = end + 1
      continue
    }
    if (c === '\\') {
      const { line, column } = locate(lines, i)
      const command = /^\\(?:[A-Za-z]+|[^\sA-Za-z])/.exec(script.slice(i, i + 40))?.[0] ?? '\\'
      throw new SqlSplitError(
        `\`${command}\` is a psql meta-command; dbops sends SQL to the database and does not run psql's commands`,
        line,
        column,
        'psql',
      )
    }
    if (flavour === 'postgres' && c === '$' && !isIdentChar(script[i - 1])) {
      // scan.l's dolqdelim: `$`, an optional identifier-like tag of any length, `$`
      DOLLAR_TAG.lastIndex = i
      const tag = DOLLAR_TAG.exec(script)
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length)
        if (end === -1) fail('dollar-quoted string', i)
        i = end + tag[0].length
        continue
      }
    }
    if (c === '(') {
      parenDepth++
      i++
      continue
    }
    if (c === ')') {
      if (parenDepth > 0) parenDepth--
      i++
      continue
    }
    if (isIdentStart(c) && !isIdentChar(script[i - 1])) {
      let j = i + 1
      while (j < n && isIdentChar(script[j])) j++
      const word = script.slice(i, j).toLowerCase()
      if (wordCount < 8) words.push(word)
      wordCount++
      // psql's heuristic (psqlscan.l), extended to SQLite triggers: inside a routine or
      // trigger definition, BEGIN…END (and CASE…END within it) hold their semicolons.
      if (parenDepth === 0 && definesBody(words)) {
        if (word === 'begin') beginDepth++
        else if (word === 'case' && beginDepth > 0) beginDepth++
        else if (word === 'end' && beginDepth > 0) beginDepth--
      }
      i = j
      continue
    }
    i++
  }
  finish(n)
  return statements
}

const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y
const COPY_FROM_STDIN = /\bfrom\s+stdin\b/i

/** CREATE [OR REPLACE] [TEMP|TEMPORARY] {FUNCTION|PROCEDURE|TRIGGER} … */
function definesBody(words: string[]): boolean {
  if (words[0] !== 'create') return false
  let k = 1
  if (words[k] === 'or' && words[k + 1] === 'replace') k += 2
  if (words[k] === 'temp' || words[k] === 'temporary') k++
  const kind = words[k]
  return kind === 'function' || kind === 'procedure' || kind === 'trigger'
}

/** Index after the closing quote of a quoted run starting at `i`, or undefined. Doubling the quote escapes it. */
function skipQuoted(script: string, i: number, quote: string, backslashEscapes: boolean): number | undefined {
  let j = i + 1
  while (j < script.length) {
    const ch = script[j]
    if (backslashEscapes && ch === '\\') {
      j += 2
      continue
    }
    if (ch === quote) {
      if (script[j + 1] === quote) {
        j += 2
        continue
      }
      return j + 1
    }
    j++
  }
  return undefined
}

function isIdentStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uFFFF]/.test(c)
}

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$\u0080-\uFFFF]/.test(c)
}

/** Offsets at which each line starts. */
export function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1)
  return starts
}

/** 1-based line and column of `offset`, given {@link lineStarts}. */
export function locate(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 }
}
