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
import { type SqlSyntax, type SqlToken, tokenizeSql } from '../sql/sql-tokenizer.js'
import { parseExpression } from './expression-parser.js'
import { normaliseTokens, printExpression } from './expression-printer.js'

/**
 * The expressions compared come from either database, so they are read with every quoting
 * form both have; `[` quotes a name only where a subscript cannot stand.
 */
const EITHER_DIALECT: SqlSyntax = {
  nestedBlockComments: false,
  escapeStrings: true,
  dollarQuotes: true,
  backquoteIdentifiers: true,
  bracketIdentifiers: true,
  bracketSubscripts: true,
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
    tokens = tokenizeSql(text, EITHER_DIALECT)
    result = printExpression(parseExpression(tokens))
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
