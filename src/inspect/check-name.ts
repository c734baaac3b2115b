/**
 * Names typed by a user (a table, a column) are checked against the database's own list
 * before anything is queried, by the database's own rules for identifiers (the dialect's
 * `resolveTypedName`): an unknown name is a usage error (exit 2) with the nearest known one,
 * and a known name is used exactly as the database spells it.
 */
import { closestMatch } from '../closest-match.js'
import { UsageError } from '../errors.js'

/**
 * Returns the name in `known` that `input` designates by the database's rules (`resolve`, the
 * dialect's `resolveTypedName`: `track` finds `Track` on SQLite; on PostgreSQL it needs
 * `"Track"`); else throws a UsageError (code `UNKNOWN_TABLE` / `UNKNOWN_COLUMN`) that suggests
 * the closest known name.
 *
 * @example
 * checkName('usres', ['users', 'orders'], 'table', 'in schema public', dialect.resolveTypedName) // throws: unknown table "usres" … Did you mean "users"?
 */
export function checkName(
  input: string,
  known: readonly string[],
  what: 'table' | 'column',
  where: string,
  resolve: (input: string, known: readonly string[]) => string | undefined,
): string {
  const resolved = resolve(input, known)
  if (resolved !== undefined) return resolved
  const caseInsensitive = known.filter((name) => name.toLowerCase() === input.toLowerCase())
  const suggestion = caseInsensitive[0] ?? closestMatch(input, [...known])
  const list =
    known.length === 0
      ? `there are no ${what}s ${where}`
      : `known ${what}s: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`
  throw new UsageError(`Unknown ${what} "${input}" ${where}`, {
    code: what === 'table' ? 'UNKNOWN_TABLE' : 'UNKNOWN_COLUMN',
    hint: suggestion
      ? `Did you mean "${suggestion}"? (${list})`
      : `${list[0]!.toUpperCase()}${list.slice(1)}. \`dbops inspect tables\` lists the tables.`,
  })
}
