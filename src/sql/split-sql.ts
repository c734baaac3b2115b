/**
 * Splitting a SQL script into statements, the way the database's own shell does: a `;`
 * ends a statement only outside strings, quoted identifiers, comments and dollar quotes (as
 * the dialect's {@link SqlSyntax} has them: `E'…'` with backslash escapes, nested `/* … *\/`
 * and `$tag$ … $tag$` on PostgreSQL, `` `…` `` and `[…]` on SQLite), parentheses, and the
 * `BEGIN … END` bodies of `CREATE FUNCTION … BEGIN ATOMIC` and SQLite's `CREATE TRIGGER`. Pure.
 *
 * dbops needs it for `transaction:false` sections (one statement per query: a multi-statement
 * query is an implicit transaction, where `CREATE INDEX CONCURRENTLY` fails), for running
 * SQLite sections statement by statement, and for naming the line of a failing statement.
 */
import { SqlLexer, type SqlSyntax, type SqlToken, SqlSyntaxError } from './sql-tokenizer.js'
import { lineStarts, locate } from './text-position.js'

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
 * Splits `script` into statements, under the lexical rules `syntax` (the dialect's
 * `sqlSyntax`). Empty statements (only spaces, comments or `;`) are dropped; a last statement
 * without `;` counts. Throws {@link SqlSplitError} for an unterminated string, quoted
 * identifier, block comment or dollar quote, and for psql-only syntax: a backslash outside
 * strings and comments (neither dialect has a `\` token, so it can only be a psql
 * meta-command) and `COPY … FROM stdin`.
 *
 * @example
 * splitSqlStatements("INSERT INTO t VALUES ('a;b'); SELECT 1", dialectTraits('postgres').sqlSyntax)
 * // [{ text: "INSERT INTO t VALUES ('a;b')", line: 1, … }, { text: 'SELECT 1', … }]
 */
export function splitSqlStatements(script: string, syntax: SqlSyntax): SqlStatement[] {
  const lines = lineStarts(script)
  return isPlainScript(script) ? splitPlainScript(script, lines) : splitTokens(script, syntax, lines)
}

/**
 * Text in which only `;` at parenthesis depth 0 can end a statement, under any {@link SqlSyntax}:
 * ASCII without quotes of any kind, `$`, brackets, backslashes, comments, or a routine or
 * trigger body (whose `BEGIN … END` holds semicolons). Most migrations (`CREATE TABLE`,
 * `CREATE INDEX`, `ALTER TABLE`) are such text; it is split without the lexer.
 */
function isPlainScript(script: string): boolean {
  return !NOT_PLAIN.test(script) && !BODY_WORDS.test(script) && !COPY_FROM_STDIN.test(script)
}

/** What a plain script does not hold: a character outside printable ASCII and tab…CR, a quote, `$`, a bracket, a backslash, a comment. */
const NOT_PLAIN = /[^\t-\r -~]|['"`$[\]\\]|--|\/\*/
const BODY_WORDS = /\b(?:function|procedure|trigger)\b/i
const PAREN = /[()]/g
const NON_SPACE = /\S/g

/**
 * {@link splitTokens} of a plain script (see {@link isPlainScript}), with the engine's regular
 * expressions rather than a loop over each character: every non-space character starts or
 * continues a token, and a `;` outside parentheses ends a statement.
 */
function splitPlainScript(script: string, lines: number[]): SqlStatement[] {
  const statements: SqlStatement[] = []
  let from = 0 // where the current statement's text may start
  let depth = 0
  for (let at = 0; at <= script.length;) {
    const semicolon = script.indexOf(';', at)
    const end = semicolon === -1 ? script.length : semicolon
    PAREN.lastIndex = at
    for (let paren = PAREN.exec(script); paren && paren.index < end; paren = PAREN.exec(script)) {
      if (paren[0] === '(') depth++
      else if (depth > 0) depth--
    }
    at = end + 1
    if (depth > 0 && semicolon !== -1) continue
    NON_SPACE.lastIndex = from
    const first = NON_SPACE.exec(script)
    if (first && first.index < end) {
      statements.push({ text: script.slice(first.index, end).trimEnd(), offset: first.index, ...locate(lines, first.index) })
    }
    from = at
    depth = 0
  }
  return statements
}

/** {@link splitSqlStatements} through the lexer: any text of `syntax`. */
function splitTokens(script: string, syntax: SqlSyntax, lines: number[]): SqlStatement[] {
  const statements: SqlStatement[] = []
  let start = -1 // offset of the current statement's first token, -1 before it
  let parenDepth = 0
  let beginDepth = 0
  // the first words of the statement, to recognise COPY and CREATE [OR REPLACE] FUNCTION/PROCEDURE/TRIGGER
  const words: string[] = []

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
  }

  const lexer = new SqlLexer(script, syntax)
  for (let token = nextToken(lexer, lines); token; token = nextToken(lexer, lines)) {
    const { kind, value } = token
    if (kind === 'op' && value === ';') {
      if (parenDepth === 0 && beginDepth === 0) finish(token.start)
      continue
    }
    if (start < 0) start = token.start
    if (kind === 'op') {
      if (value === '(') parenDepth++
      else if (value === ')' && parenDepth > 0) parenDepth--
    } else if (kind === 'word') {
      const word = value.toLowerCase()
      if (words.length < 8) words.push(word)
      // psql's heuristic (psqlscan.l), extended to SQLite triggers: inside a routine or
      // trigger definition, BEGIN…END (and CASE…END within it) hold their semicolons.
      if (parenDepth === 0 && definesBody(words)) {
        if (word === 'begin') beginDepth++
        else if (word === 'case' && beginDepth > 0) beginDepth++
        else if (word === 'end' && beginDepth > 0) beginDepth--
      }
    } else if (kind === 'other' && value === '\\') {
      const { line, column } = locate(lines, token.start)
      const command = /^\\(?:[A-Za-z]+|[^\sA-Za-z])/.exec(script.slice(token.start, token.start + 40))?.[0] ?? '\\'
      throw new SqlSplitError(
        `\`${command}\` is a psql meta-command; dbops sends SQL to the database and does not run psql's commands`,
        line,
        column,
        'psql',
      )
    }
  }
  finish(script.length)
  return statements
}

/** The lexer's next token; an unterminated run is a {@link SqlSplitError} naming where it starts. */
function nextToken(lexer: SqlLexer, lines: number[]): SqlToken | undefined {
  try {
    return lexer.next()
  } catch (err) {
    if (!(err instanceof SqlSyntaxError) || err.unterminated === undefined) throw err
    const { line, column } = locate(lines, err.offset)
    throw new SqlSplitError(`unterminated ${err.unterminated} starting at line ${line}, column ${column}`, line, column)
  }
}

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
