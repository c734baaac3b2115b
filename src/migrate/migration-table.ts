/**
 * `dbops_migrations`, read and written through Kysely so one piece of code serves both
 * dialects. It lives in `DATABASE_SCHEMA` on PostgreSQL and in the file on SQLite. Columns:
 * `version` (text, primary key: the file's numeric prefix), `name` (the file name),
 * `checksum` (sha256 hex, CRLF normalised), `status` (`applied`, or `started`: a
 * non-transactional migration in progress, running while a run holds the migration lock,
 * or crashed, i.e. dirty), `applied_at` (timestamptz on PostgreSQL, ISO-8601 text on
 * SQLite), `duration_ms`, `dbops_version`.
 * The table's DDL is the dialect's (its session creates it).
 */
import { type Kysely, sql } from 'kysely'
import type { DbConnection, Dialect, DialectName, LockHolder } from '../dialects/dialect.js'
import { compareVersions } from './discover-migrations.js'
import type { MigrationRow, MigrationRowValues, RowChange } from './migration-session.js'

/** The table's name. */
export const MIGRATION_TABLE = 'dbops_migrations'

/** dbmate's table, for adoption. */
export const DBMATE_TABLE = 'schema_migrations'

/** A dialect, or just whether it has schemas. */
type DialectLike = Pick<Dialect, 'supportsSchemas'> | DialectName

function hasSchemas(dialect: DialectLike): boolean {
  return typeof dialect === 'string' ? dialect === 'postgres' : dialect.supportsSchemas
}

/** `db` scoped to `schema` where the dialect has schemas. */
export function inSchema(db: Kysely<any>, dialect: DialectLike, schema: string): Kysely<any> {
  return hasSchemas(dialect) ? db.withSchema(schema) : db
}

/** Whether `table` exists (in `schema` on PostgreSQL). */
export async function tableExists(db: Kysely<any>, dialect: DialectLike, schema: string, table: string): Promise<boolean> {
  if (hasSchemas(dialect)) {
    const result = await sql<{
      found: string | null
    }>`SELECT to_regclass(${`"${schema}"."${table}"`}) AS found`.execute(db)
    return result.rows[0]?.found != null
  }
  const result = await sql<{
    n: number
  }>`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = ${table}`.execute(db)
  return Number(result.rows[0]?.n ?? 0) > 0
}

/** Every row of `dbops_migrations`, in version order; empty when the table does not exist. */
export async function readMigrationRows(db: Kysely<any>, dialect: DialectLike, schema: string): Promise<MigrationRow[]> {
  if (!(await tableExists(db, dialect, schema, MIGRATION_TABLE))) return []
  return selectMigrationRows(db, dialect, schema)
}

/** Every row of `dbops_migrations` (which must exist), in version order. */
export async function selectMigrationRows(db: Kysely<any>, dialect: DialectLike, schema: string): Promise<MigrationRow[]> {
  const rows = await inSchema(db, dialect, schema).selectFrom(MIGRATION_TABLE).selectAll().execute()
  return rows.map(toMigrationRow).sort((a, b) => compareVersions(a.version, b.version))
}

/**
 * The migration head: the greatest `version` whose status is `applied`, or undefined when
 * nothing is applied or `dbops_migrations` does not exist. Never fails on a missing table,
 * so backups and health can call it on any database, inside their own transaction.
 *
 * @example
 * const head = await readMigrationHead(conn.db, conn.dialect, config.schema) // '20250101120000'
 */
export async function readMigrationHead(db: Kysely<any>, dialect: DialectLike, schema: string): Promise<string | undefined> {
  if (!(await tableExists(db, dialect, schema, MIGRATION_TABLE))) return undefined
  const rows = await inSchema(db, dialect, schema).selectFrom(MIGRATION_TABLE).select('version').where('status', '=', 'applied').execute()
  let head: string | undefined
  for (const row of rows) {
    const version = String(row.version)
    if (head === undefined || compareVersions(version, head) > 0) head = version
  }
  return head
}

/** Inserts an `applied` (or `started`) row. */
export async function insertMigrationRow(
  db: Kysely<any>,
  dialect: DialectLike,
  schema: string,
  row: MigrationRowValues,
  status: 'applied' | 'started',
  durationMs: number | null,
): Promise<void> {
  await inSchema(db, dialect, schema)
    .insertInto(MIGRATION_TABLE)
    .values({
      version: row.version,
      name: row.name,
      checksum: row.checksum,
      status,
      applied_at: new Date().toISOString(),
      duration_ms: durationMs,
      dbops_version: row.dbopsVersion,
    })
    .execute()
}

/** Sets a row's status (and, for `applied`, its duration and time). */
export async function setMigrationStatus(
  db: Kysely<any>,
  dialect: DialectLike,
  schema: string,
  version: string,
  status: 'applied' | 'started',
  durationMs: number | null,
): Promise<void> {
  await inSchema(db, dialect, schema)
    .updateTable(MIGRATION_TABLE)
    .set(status === 'applied' ? { status, duration_ms: durationMs, applied_at: new Date().toISOString() } : { status })
    .where('version', '=', version)
    .execute()
}

/** Deletes a row. */
export async function deleteMigrationRow(db: Kysely<any>, dialect: DialectLike, schema: string, version: string): Promise<void> {
  await inSchema(db, dialect, schema).deleteFrom(MIGRATION_TABLE).where('version', '=', version).execute()
}

/** Applies `repair` / `baseline` / `import-dbmate` changes (the caller holds the transaction). */
export async function applyRowChanges(db: Kysely<any>, dialect: DialectLike, schema: string, changes: RowChange[]): Promise<void> {
  for (const change of changes) {
    if (change.kind === 'insert') await insertMigrationRow(db, dialect, schema, change.row, 'applied', null)
    else if (change.kind === 'delete') await deleteMigrationRow(db, dialect, schema, change.version)
    else {
      await inSchema(db, dialect, schema)
        .updateTable(MIGRATION_TABLE)
        .set({ checksum: change.checksum, name: change.name })
        .where('version', '=', change.version)
        .execute()
    }
  }
}

/**
 * `rows` (as just read from `dbops_migrations`) and the run applying their `started` ones right
 * now: the holder of the migration lock, asked without taking it. For readers that do not hold
 * the lock themselves (`migrate status`, `health`); `runner` is undefined when every row is
 * finished or no run holds the lock, and a `started` row is then dirty.
 *
 * Rows and lock cannot be read at one instant, so with a `started` row the lock is asked, the
 * rows read again and, if the lock was free, asked once more: a run in progress at the second
 * read held the lock then, so it shows in one of the two asks unless it took the lock and let
 * it go in between — a whole migration in a few milliseconds. Asking only after one read would
 * call dirty a run that just finished its migration and let the lock go.
 */
export async function withMigrationRunner(
  conn: DbConnection,
  schema: string,
  rows: MigrationRow[],
): Promise<{ rows: MigrationRow[]; runner: LockHolder | undefined }> {
  if (rows.every((r) => r.status === 'applied')) return { rows, runner: undefined }
  const ask = () => conn.dialect.migrationLockHolder(conn, { schema })
  const before = await ask()
  const again = await selectMigrationRows(conn.db, conn.dialect, schema)
  return { rows: again, runner: before ?? (await ask()) }
}

/** Versions recorded by dbmate, or undefined when its table does not exist. */
export async function readDbmateVersions(db: Kysely<any>, dialect: DialectLike, schema: string): Promise<string[] | undefined> {
  if (!(await tableExists(db, dialect, schema, DBMATE_TABLE))) return undefined
  const rows = await inSchema(db, dialect, schema).selectFrom(DBMATE_TABLE).select('version').execute()
  return rows.map((r) => String(r.version)).sort(compareVersions)
}

function toMigrationRow(raw: Record<string, unknown>): MigrationRow {
  const appliedAt = raw.applied_at
  const duration = raw.duration_ms
  return {
    version: String(raw.version),
    name: String(raw.name),
    checksum: String(raw.checksum),
    status: String(raw.status),
    appliedAt: appliedAt instanceof Date ? appliedAt.toISOString() : appliedAt == null ? undefined : String(appliedAt),
    durationMs: duration == null ? undefined : Number(duration),
    dbopsVersion: raw.dbops_version == null ? undefined : String(raw.dbops_version),
  }
}
