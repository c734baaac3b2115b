/**
 * dbmate's `.sql` migration format: a `-- migrate:up` section and an optional
 * `-- migrate:down` section, each with options after the marker, so dbmate users' files
 * run unchanged:
 *
 * ```sql
 * -- migrate:up transaction:false
 * CREATE INDEX CONCURRENTLY posts_author_idx ON posts (author_id);
 *
 * -- migrate:down
 * DROP INDEX posts_author_idx;
 * ```
 *
 * Options: `transaction:false` (dbmate's: run outside a transaction, one statement per
 * query) and dbops' `foreign_keys:off` (SQLite: `PRAGMA foreign_keys=OFF` before the
 * transaction and `PRAGMA foreign_key_check` before its commit, for the table-rebuild
 * recipe). Pure.
 */
import { type SqlStatement, SqlSplitError, splitSqlStatements } from '../sql/split-sql.js'
import type { SqlSyntax } from '../sql/sql-tokenizer.js'
import { lineStarts, locate } from '../sql/text-position.js'

/** One section of a `.sql` migration. */
export interface SqlSection {
  /** The section's SQL exactly as written (the marker line excluded). */
  sql: string
  /** Offset of `sql` in the file, and the 1-based line it starts on. */
  offset: number
  startLine: number
  /** Its statements, with lines and columns counted in the file. */
  statements: SqlStatement[]
  /** false for `transaction:false`. Default true. */
  transaction: boolean
  /** `foreign_keys:off`. Default false. */
  foreignKeysOff: boolean
}

/** A parsed `.sql` migration. */
export interface ParsedSqlMigration {
  up: SqlSection
  down: SqlSection | undefined
}

/** A `-- migrate:up` / `-- migrate:down` line of a file. */
interface Marker {
  kind: 'up' | 'down'
  /** 1-based. */
  line: number
  options: string
  /** Offsets of the marker line and of the section's first line. */
  lineStart: number
  bodyStart: number
  /** Whitespace before `--`: dbops accepts it, dbmate does not split there. */
  indented: boolean
}

/**
 * A `.sql` file that is not a valid migration: the message names the line. `reason` says
 * which kind: `format` (markers, options, unterminated strings, transaction control),
 * `psql` (psql-only syntax) or `nul` (a NUL byte).
 */
export class SqlMigrationFormatError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column = 1,
    readonly reason: 'format' | 'psql' | 'nul' = 'format',
  ) {
    super(message)
    this.name = 'SqlMigrationFormatError'
  }
}

const MARKER = /^--\s*migrate:(up|down)\b(.*)$/
// statements that would end the migration's own transaction and break "applied and recorded, or neither";
// ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] only undoes part of it, and is allowed
const TRANSACTION_CONTROL = /^(begin|commit|rollback(?!\s+(?:(?:work|transaction)\s+)?to\b)|end|start\s+transaction|abort)\b/i

/**
 * Parses a dbmate-format migration. Throws {@link SqlMigrationFormatError} for a missing
 * `-- migrate:up`, SQL before it, a repeated marker, an unknown option, an unterminated
 * string or comment, a transaction-control statement (`BEGIN`, `COMMIT`…) inside a
 * transactional section (use `transaction:false` instead; savepoints are fine), psql-only
 * syntax, and a NUL byte anywhere: both drivers end a statement's text at NUL, so whatever
 * follows it would silently not run.
 *
 * @param text the file's content; CRLF line endings are accepted
 * @param syntax the dialect's lexical rules (`Dialect.sqlSyntax`), which split the statements
 */
export function parseSqlMigration(text: string, syntax: SqlSyntax): ParsedSqlMigration {
  const nul = text.indexOf('\0')
  if (nul !== -1) {
    const { line, column } = locate(lineStarts(text), nul)
    throw new SqlMigrationFormatError(
      `a NUL byte at column ${column}: the database would stop reading the statement there and silently skip the rest`,
      line,
      column,
      'nul',
    )
  }
  const markers = scanMarkers(text)
  const ups = markers.filter((m) => m.kind === 'up')
  const downs = markers.filter((m) => m.kind === 'down')
  if (ups.length === 0)
    throw new SqlMigrationFormatError('no `-- migrate:up` section (dbmate format: `-- migrate:up`, then optionally `-- migrate:down`)', 1)
  if (ups.length > 1) throw new SqlMigrationFormatError('a second `-- migrate:up` marker', ups[1]!.line)
  if (downs.length > 1) throw new SqlMigrationFormatError('a second `-- migrate:down` marker', downs[1]!.line)

  const first = markers[0]!
  const before = splitSafely(text.slice(0, first.lineStart), 0, 1, syntax)
  if (before.length > 0) {
    throw new SqlMigrationFormatError(
      `SQL before the \`-- migrate:${first.kind}\` marker; put it in a section`,
      before[0]!.line,
      before[0]!.column,
    )
  }

  const sections = markers.map((marker, index) => {
    const end = index + 1 < markers.length ? markers[index + 1]!.lineStart : text.length
    return {
      kind: marker.kind,
      section: buildSection(text, marker.bodyStart, end, marker.line + 1, marker.options, marker.line, syntax),
    }
  })
  return {
    up: sections.find((s) => s.kind === 'up')!.section,
    down: sections.find((s) => s.kind === 'down')?.section,
  }
}

/** Every marker line of `text`, in order, indented ones included. */
function scanMarkers(text: string): Marker[] {
  const markers: Marker[] = []
  let lineStart = 0
  let lineNo = 1
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart)
    const lineEnd = newline === -1 ? text.length : newline
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '')
    const match = MARKER.exec(line.trim())
    if (match) {
      markers.push({
        kind: match[1] as 'up' | 'down',
        line: lineNo,
        options: match[2] ?? '',
        lineStart,
        bodyStart: newline === -1 ? text.length : newline + 1,
        indented: /^\s/.test(line),
      })
    }
    if (newline === -1) break
    lineStart = newline + 1
    lineNo++
  }
  return markers
}

/**
 * The warning for a file whose markers are indented, or undefined: dbops splits at them, but
 * dbmate only recognises a marker at the start of its line, so the same file would run
 * differently (or be refused) there. One sentence per file, naming each such marker's line.
 *
 * @example indentedMarkerWarning('  -- migrate:up\n…', 'migrations/1_a.sql')
 * // 'migrations/1_a.sql: indented `-- migrate:up` (line 1): dbmate would not split there; start the marker at column 1'
 */
export function indentedMarkerWarning(text: string, label: string): string | undefined {
  const indented = scanMarkers(text).filter((m) => m.indented)
  if (indented.length === 0) return undefined
  const list = indented.map((m) => `\`-- migrate:${m.kind}\` (line ${m.line})`).join(' and ')
  return `${label}: indented ${list}: dbmate would not split there; start the marker${indented.length === 1 ? '' : 's'} at column 1`
}

function buildSection(
  text: string,
  start: number,
  end: number,
  startLine: number,
  optionText: string,
  markerLine: number,
  syntax: SqlSyntax,
): SqlSection {
  const options = parseOptions(optionText, markerLine)
  const sql = text.slice(start, end)
  const statements = splitSafely(sql, start, startLine, syntax)
  if (options.transaction) {
    const control = statements.find((s) => TRANSACTION_CONTROL.test(s.text))
    if (control) {
      throw new SqlMigrationFormatError(
        `\`${control.text.split(/\s+/).slice(0, 2).join(' ')}\` inside a transactional section: dbops runs each migration in its own transaction; mark the section \`transaction:false\` to manage transactions yourself`,
        control.line,
        control.column,
      )
    }
  }
  return { sql, offset: start, startLine, statements, ...options }
}

/** Splits a part of the file, with lines and columns counted in the whole file. */
function splitSafely(sql: string, offset: number, startLine: number, syntax: SqlSyntax): SqlStatement[] {
  try {
    return splitSqlStatements(sql, syntax).map((s) => ({
      ...s,
      offset: s.offset + offset,
      line: s.line + startLine - 1,
    }))
  } catch (err) {
    if (err instanceof SqlSplitError) {
      const line = err.line + startLine - 1
      throw new SqlMigrationFormatError(
        err.message.replace(/line \d+, column \d+/, `line ${line}, column ${err.column}`),
        line,
        err.column,
        err.reason === 'psql' ? 'psql' : 'format',
      )
    }
    throw err
  }
}

function parseOptions(text: string, line: number): { transaction: boolean; foreignKeysOff: boolean } {
  const options = { transaction: true, foreignKeysOff: false }
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const [key, value] = token.split(':')
    if (key === 'transaction' && (value === 'false' || value === 'true')) options.transaction = value === 'true'
    else if (key === 'foreign_keys' && (value === 'off' || value === 'on')) options.foreignKeysOff = value === 'off'
    else {
      throw new SqlMigrationFormatError(`unknown migration option \`${token}\` (known: transaction:false, foreign_keys:off)`, line)
    }
  }
  return options
}
