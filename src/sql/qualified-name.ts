/**
 * Names in a PostgreSQL schema, as text: `app.users` outside the default schema, `users` in
 * it (and always on SQLite, which has no schemas). The normalised schema leaves the default
 * schema implicit (`schema` undefined); these helpers read and write that convention.
 */
/**
 * An object's name as text: `app.users` outside the default schema, `users` in it. The key
 * tables and enums are matched by, and how messages and enum column types name them.
 */
export function qualifiedName(schema: string | undefined, name: string): string {
  return schema === undefined ? name : `${schema}.${name}`
}

/**
 * Splits `app.users` into its schema and name (at the first dot); `users` has no schema.
 * `defaultSchema` names the schema that stays implicit: `public.users` is `users` when it is
 * `public`.
 *
 * @example
 * splitQualifiedName('auth.users', 'public') // { schema: 'auth', name: 'users' }
 */
export function splitQualifiedName(text: string, defaultSchema?: string): { schema: string | undefined; name: string } {
  const dot = text.indexOf('.')
  if (dot <= 0 || dot === text.length - 1) return { schema: undefined, name: text }
  const schema = text.slice(0, dot)
  return { schema: schema === defaultSchema ? undefined : schema, name: text.slice(dot + 1) }
}

/** `{ schema }` when it is defined, else nothing: spread into an object so a default-schema one has no `schema` key. */
export function inSchema(schema: string | undefined): { schema?: string } {
  return schema === undefined ? {} : { schema }
}
