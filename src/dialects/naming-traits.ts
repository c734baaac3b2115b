/**
 * How a dialect matches a name a user typed (`inspect rows track`, `--where Email=x`) with the
 * names the database holds, by the database's own rules for identifiers: SQLite compares them
 * without regard to (ASCII) case, quoted or not; PostgreSQL folds an unquoted name to lower
 * case and takes a quoted one (`"Track"`) exactly. Known without a driver (`dialectTraits(name)`).
 */

/** See the module comment; part of every `Dialect` and of its `DialectTraits`. */
export interface NamingTraits {
  /**
   * The name in `known` that `input` designates as the database would resolve it in SQL, or
   * undefined when it designates none. `input` may be double-quoted (`"Track"`, `""` inside).
   *
   * @example postgresTraits.resolveTypedName('USERS', ['Track', 'users']) // 'users'
   * @example postgresTraits.resolveTypedName('Track', ['Track', 'users']) // undefined: it means track
   */
  resolveTypedName(input: string, known: readonly string[]): string | undefined
}
