/**
 * Reads what SQLite's pragmas cannot show from the `CREATE` text it keeps in
 * `sqlite_schema`: check constraints, constraint names, AUTOINCREMENT, collations, and the
 * elements and predicate of expression and partial indexes. Pure: text in, structure out.
 */
import { type SqlToken, identifierOf, isKeyword, isOp, matchingParen, splitTopLevel, tokenizeSql } from '../../sql/sql-tokenizer.js'
import { sqliteSqlSyntax } from './sqlite-traits.js'

/** What the `CREATE TABLE` text says about one column. */
export interface ParsedColumn {
  name: string
  collation: string | undefined
  autoincrement: boolean
  checks: Array<{ name: string | undefined; expression: string }>
  uniqueName: string | undefined
  /** The name of a column-level `REFERENCES` constraint. */
  foreignKeyName: string | undefined
  referencedTable: string | undefined
  primaryKeyName: string | undefined
}

/** A table-level constraint. */
export type ParsedTableConstraint =
  | { kind: 'primary'; name: string | undefined; columns: string[] }
  | { kind: 'unique'; name: string | undefined; columns: string[] }
  | { kind: 'check'; name: string | undefined; expression: string }
  | { kind: 'foreign'; name: string | undefined; columns: string[]; referencedTable: string }

/** What the `CREATE TABLE` text says. */
export interface ParsedTable {
  columns: ParsedColumn[]
  constraints: ParsedTableConstraint[]
}

const COLUMN_CONSTRAINT_START = new Set([
  'constraint',
  'primary',
  'not',
  'null',
  'unique',
  'check',
  'default',
  'collate',
  'references',
  'generated',
  'as',
])
const TABLE_CONSTRAINT_START = new Set(['constraint', 'primary', 'unique', 'check', 'foreign'])

/**
 * Parses `CREATE TABLE … ( … )`. Returns empty lists for `CREATE TABLE … AS SELECT` and for
 * text it cannot follow (the pragmas still give columns, keys and indexes).
 */
export function parseCreateTable(sql: string): ParsedTable {
  const result: ParsedTable = { columns: [], constraints: [] }
  let tokens: SqlToken[]
  try {
    tokens = tokenizeSql(sql, sqliteSqlSyntax)
  } catch {
    return result
  }
  const open = tokens.findIndex((t) => isOp(t, '('))
  if (open === -1) return result
  const close = matchingParen(tokens, open)
  if (close === -1) return result
  for (const [from, to] of splitTopLevel(tokens, open + 1, close)) {
    const first = tokens[from]
    if (!first) continue
    if (first.kind === 'word' && TABLE_CONSTRAINT_START.has(first.value.toLowerCase())) {
      const constraint = parseTableConstraint(sql, tokens, from, to)
      if (constraint) result.constraints.push(constraint)
    } else {
      result.columns.push(parseColumn(sql, tokens, from, to))
    }
  }
  return result
}

function nameList(tokens: SqlToken[], open: number): { names: string[]; end: number } {
  const close = matchingParen(tokens, open)
  const names = splitTopLevel(tokens, open + 1, close).map(([a]) => identifierOf(tokens[a]) ?? '')
  return { names, end: close }
}

function parseColumn(sql: string, tokens: SqlToken[], from: number, to: number): ParsedColumn {
  const column: ParsedColumn = {
    name: identifierOf(tokens[from]) ?? '',
    collation: undefined,
    autoincrement: false,
    checks: [],
    uniqueName: undefined,
    foreignKeyName: undefined,
    referencedTable: undefined,
    primaryKeyName: undefined,
  }
  let i = from + 1
  // the type: words and a parenthesised size, up to the first constraint keyword
  while (i < to) {
    const t = tokens[i]!
    if (t.kind === 'word' && COLUMN_CONSTRAINT_START.has(t.value.toLowerCase())) break
    if (isOp(t, '(')) i = matchingParen(tokens, i)
    i++
  }
  let pendingName: string | undefined
  while (i < to) {
    const t = tokens[i]!
    const word = t.kind === 'word' ? t.value.toLowerCase() : ''
    if (word === 'constraint') {
      pendingName = identifierOf(tokens[i + 1])
      i += 2
      continue
    }
    if (word === 'primary') {
      column.primaryKeyName = pendingName
      pendingName = undefined
      i += 2
      continue
    }
    if (word === 'autoincrement') column.autoincrement = true
    if (word === 'unique') {
      column.uniqueName = pendingName
      pendingName = undefined
    }
    if (word === 'collate') {
      column.collation = identifierOf(tokens[i + 1])?.toLowerCase()
      i += 2
      continue
    }
    if (word === 'check' && isOp(tokens[i + 1], '(')) {
      const end = matchingParen(tokens, i + 1)
      column.checks.push({ name: pendingName, expression: sql.slice(tokens[i + 2]!.start, tokens[end - 1]!.end) })
      pendingName = undefined
      i = end + 1
      continue
    }
    if (word === 'references') {
      column.foreignKeyName = pendingName
      column.referencedTable = identifierOf(tokens[i + 1])
      pendingName = undefined
      i += 2
      continue
    }
    if (isOp(t, '(')) {
      i = matchingParen(tokens, i) + 1
      continue
    }
    if (word === 'not' || word === 'null' || word === 'default') pendingName = undefined
    i++
  }
  return column
}

function parseTableConstraint(sql: string, tokens: SqlToken[], from: number, to: number): ParsedTableConstraint | undefined {
  let i = from
  let name: string | undefined
  if (isKeyword(tokens[i], 'constraint')) {
    name = identifierOf(tokens[i + 1])
    i += 2
  }
  const t = tokens[i]
  if (isKeyword(t, 'primary') || isKeyword(t, 'unique')) {
    const open = tokens.findIndex((x, k) => k > i && k < to && isOp(x, '('))
    if (open === -1) return undefined
    return { kind: isKeyword(t, 'primary') ? 'primary' : 'unique', name, columns: nameList(tokens, open).names }
  }
  if (isKeyword(t, 'check') && isOp(tokens[i + 1], '(')) {
    const end = matchingParen(tokens, i + 1)
    return { kind: 'check', name, expression: sql.slice(tokens[i + 2]!.start, tokens[end - 1]!.end) }
  }
  if (isKeyword(t, 'foreign') && isOp(tokens[i + 2], '(')) {
    const { names, end } = nameList(tokens, i + 2)
    const ref = tokens[end + 2]
    return { kind: 'foreign', name, columns: names, referencedTable: identifierOf(ref) ?? '' }
  }
  return undefined
}

/** What the `CREATE INDEX` text says. */
export interface ParsedIndex {
  unique: boolean
  elements: Array<{ kind: 'column' | 'expression'; value: string; descending: boolean }>
  where: string | undefined
}

/** Parses `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (elements) [WHERE predicate]`. */
export function parseCreateIndex(sql: string): ParsedIndex | undefined {
  let tokens: SqlToken[]
  try {
    tokens = tokenizeSql(sql, sqliteSqlSyntax)
  } catch {
    return undefined
  }
  const unique = isKeyword(tokens[1], 'unique')
  const open = tokens.findIndex((t) => isOp(t, '('))
  if (open === -1) return undefined
  const close = matchingParen(tokens, open)
  if (close === -1) return undefined
  const elements = splitTopLevel(tokens, open + 1, close).map(([a, b]) => {
    let end = b
    let descending = false
    const last = tokens[end - 1]
    if (isKeyword(last, 'desc') || isKeyword(last, 'asc')) {
      descending = isKeyword(last, 'desc')
      end--
    }
    // a trailing COLLATE belongs to the element; keep it in expressions, drop it for columns
    const withoutCollate = isKeyword(tokens[end - 2], 'collate') ? end - 2 : end
    const only = tokens[a]
    if (withoutCollate === a + 1 && only && (only.kind === 'word' || only.kind === 'quoted')) {
      return { kind: 'column' as const, value: only.value, descending }
    }
    return { kind: 'expression' as const, value: sql.slice(tokens[a]!.start, tokens[end - 1]!.end), descending }
  })
  const whereAt = tokens.findIndex((t, k) => k > close && isKeyword(t, 'where'))
  const where =
    whereAt === -1 || !tokens[whereAt + 1]
      ? undefined
      : sql.slice(tokens[whereAt + 1]!.start, tokens[tokens.length - 1]!.end).replace(/;\s*$/, '')
  return { unique, elements, where }
}
