/**
 * The migration head of a database: the latest applied version in `dbops_migrations`.
 * Backups record it as of their own snapshot (SQLite: read from the backup file after the
 * copy; PostgreSQL: inside the transaction whose snapshot `pg_dump` uses).
 */
import type { Kysely } from 'kysely'
import type { Dialect } from '../dialects/dialect.js'

/** The table where migrations are recorded (see the migrations design). */
const MIGRATIONS_TABLE = 'dbops_migrations'

// TODO(merge): use readMigrationHead from src/migrate
/**
 * Returns max(version) of the applied rows of `dbops_migrations` (in `schema` where the
 * dialect has schemas), or undefined when the table does not exist or has none. Reads through
 * `db` as it is, so inside a transaction it sees that transaction's snapshot.
 */
export async function readMigrationHead(
  db: Kysely<any>,
  dialect: Dialect,
  schema: string,
): Promise<string | undefined> {
  const tables = await db.introspection.getTables()
  const exists = tables.some(
    (t) => t.name === MIGRATIONS_TABLE && (!dialect.supportsSchemas || t.schema === schema),
  )
  if (!exists) return undefined
  const scoped = dialect.supportsSchemas ? db.withSchema(schema) : db
  const row = await scoped
    .selectFrom(MIGRATIONS_TABLE)
    .select((eb) => eb.fn.max('version').as('head'))
    .where('status', '=', 'applied')
    .executeTakeFirst()
  const head = (row as { head?: unknown } | undefined)?.head
  return head === null || head === undefined ? undefined : String(head)
}
