/**
 * Identifier and string quoting, as dbops writes them into SQL text (DDL, defaults, checks,
 * and the statements it sends without a query builder): the same in both dialects. Queries
 * built with kysely quote through `sql.id` / `sql.ref` / `sql.table` instead.
 */

/** Words that must be quoted as identifiers in either dialect (the union of both lists' common ones). */
const RESERVED = new Set(
  (
    'abort action add after all alter analyse analyze and any array as asc asymmetric attach autoincrement before begin between both by cascade case cast ' +
    'check collate column commit conflict constraint create cross current current_catalog current_date current_role current_time ' +
    'current_timestamp current_user database default deferrable deferred delete desc detach distinct do drop each else end escape ' +
    'except exclusive exists explain fail false fetch filter following for foreign from full glob grant group groups having if ignore ' +
    'immediate in index indexed initially inner insert instead intersect into is isnull join key lateral leading left like limit ' +
    'localtime localtimestamp match natural no not nothing notnull null nulls of offset on only or order others outer over partition ' +
    'placing plan pragma preceding primary query raise range recursive references regexp reindex release rename replace restrict ' +
    'returning right rollback row rows savepoint select session_user set similar some symmetric table temp temporary then ties to ' +
    'trailing transaction trigger true unbounded union unique update user using vacuum values variadic verbose view virtual when where window with without'
  ).split(' '),
)

/**
 * Quotes an identifier when it needs it (not lower-case-simple, or a reserved word), so
 * generated DDL reads like hand-written DDL.
 *
 * @example
 * quoteIdentifier('users') // users
 * quoteIdentifier('User') // "User"
 */
export function quoteIdentifier(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name)) return name
  return delimitIdentifier(name)
}

/**
 * A name in its schema, each part quoted as {@link quoteIdentifier} does: `app.users`, or
 * just `users` when the schema is undefined (the default one, or SQLite).
 */
export function quoteQualified(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdentifier(name) : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`
}

/**
 * Always quotes an identifier (a "delimited identifier"): `"…"` with `"` doubled, for names
 * whose case and spelling must be kept exactly (database names, collations).
 *
 * @example
 * delimitIdentifier('my "db"') // "my ""db"""
 */
export function delimitIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * A name as a user typed it: `"My Table"` is quoted (its `""` undone), anything else is not.
 *
 * @example parseTypedIdentifier('"Track"') // { name: 'Track', quoted: true }
 */
export function parseTypedIdentifier(input: string): { name: string; quoted: boolean } {
  const quoted = /^"((?:[^"]|"")+)"$/.exec(input)
  return quoted ? { name: quoted[1]!.replaceAll('""', '"'), quoted: true } : { name: input, quoted: false }
}

/** Lower case for ASCII letters only, as SQLite and PostgreSQL fold identifiers. */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** Quotes a string literal. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}
