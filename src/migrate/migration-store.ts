/**
 * The migration history table, the one module that defines, reads and writes it. It is
 * `dbops_migrations` in `DATABASE_SCHEMA` on PostgreSQL (in the file on SQLite) unless
 * `DBOPS_MIGRATIONS_TABLE` / `migrations.table` names another. Columns: `version` (text, primary
 * key: the file's numeric prefix), `name` (the file name), `checksum` (sha256 hex, CRLF
 * normalised), `status` (`applied`, or `started`: a non-transactional migration in progress,
 * running while a run holds the migration lock, or crashed, i.e. dirty), `applied_at`
 * (timestamptz on PostgreSQL, ISO-8601 text on SQLite), `duration_ms`, `dbops_version`.
 *
 * Every statement is written here once. The dialect spells what differs (the qualified name,
 * bound parameters, the timestamp column: {@link MigrationTableSyntax}) and runs them: a
 * migration session, inside the transaction it chooses (a row commits with its migration), or
 * any connection (a {@link DbConnection} runs them itself; {@link queryable} makes a Kysely instance run them).
 */
import type { Kysely } from 'kysely'
import { MIGRATION_TABLE } from '../config/resolve-config.js'
import type { DbConnection, Dialect, LockHolder } from '../dialects/dialect.js'
import type {
  HistoryTable,
  InlineRowSpelling,
  MigrationRecords,
  MigrationRow,
  MigrationRowValues,
  MigrationSession,
  MigrationStep,
  MigrationTableName,
  MigrationTableSyntax,
  StatementRunner,
} from '../dialects/migration-port.js'
import { queryable } from '../dialects/migration-port.js'
import { compareVersions } from './discover-migrations.js'

/** dbmate's table, for adoption. */
export const DBMATE_TABLE = 'schema_migrations'

/** The history table as a command finds it (see {@link MigrationStore.readHistory}). */
export interface HistoryState {
  exists: boolean
  /** Every row, in version order; empty when the table does not exist. */
  rows: MigrationRow[]
  /** dbmate's `schema_migrations` exists beside it. */
  dbmateExists: boolean
}

/** A change to `dbops_migrations` made by `repair`, `baseline` or `import-dbmate`. */
export type RowChange =
  | { kind: 'insert'; row: MigrationRowValues }
  | { kind: 'set-checksum'; version: string; checksum: string; name: string }
  | { kind: 'delete'; version: string }

const COLUMNS = 'version, name, checksum, status, applied_at, duration_ms, dbops_version'
/**
 * Nullable, added by the first `--allow-unsafe` run that needs it (older dbops versions
 * insert with {@link COLUMNS} and never see it); written only for rows that carry a value.
 */
const UNSAFE_COLUMN = 'allowed_unsafe'

/**
 * The history table `table` of one database. Reads work over any runner and never fail on a
 * missing table; writes that need the migration lock take the session. It is also the
 * {@link MigrationRecords} a session writes through while it runs a step.
 *
 * @example
 * const store = new MigrationStore(conn.dialect.migrationTable, config.migrationsTable)
 * const rows = await store.readRows(conn)
 */
export class MigrationStore implements MigrationRecords {
  private readonly qualified: string
  private readonly sql: Record<
    'insert' | 'insertUnsafe' | 'selectStatus' | 'markStarted' | 'markApplied' | 'setChecksum' | 'delete',
    string
  >

  constructor(
    private readonly syntax: MigrationTableSyntax,
    /** The history table: `DBOPS_MIGRATIONS_TABLE`, by default `dbops_migrations` in `DATABASE_SCHEMA`. */
    readonly table: MigrationTableName,
  ) {
    const t = (this.qualified = syntax.qualify(table.schema, table.name))
    const p = (n: number) => syntax.parameter(n)
    this.sql = {
      insert: `INSERT INTO ${t} (${COLUMNS}) VALUES (${[1, 2, 3, 4, 5, 6, 7].map(p).join(', ')})`,
      insertUnsafe: `INSERT INTO ${t} (${COLUMNS}, ${UNSAFE_COLUMN}) VALUES (${[1, 2, 3, 4, 5, 6, 7, 8].map(p).join(', ')})`,
      selectStatus: `SELECT status FROM ${t} WHERE version = ${p(1)}`,
      markStarted: `UPDATE ${t} SET status = 'started' WHERE version = ${p(1)}`,
      markApplied: `UPDATE ${t} SET status = 'applied', duration_ms = ${p(1)}, applied_at = ${p(2)} WHERE version = ${p(3)}`,
      setChecksum: `UPDATE ${t} SET checksum = ${p(1)}, name = ${p(2)} WHERE version = ${p(3)}`,
      delete: `DELETE FROM ${t} WHERE version = ${p(1)}`,
    }
  }

  /** A table as messages and settings name it: `app.dbops_migrations` (PostgreSQL), `dbops_migrations` (SQLite); default: this one. */
  labelOf(table: MigrationTableName = this.table): string {
    return this.syntax.label(table)
  }

  /** Whether the history table exists. */
  async exists(runner: StatementRunner): Promise<boolean> {
    return (await this.existingTables(runner, [this.table.name])).has(this.table.name)
  }

  /**
   * The history as a command starts from: whether the table exists, its rows in version order,
   * and whether dbmate's table stands beside it; one catalog query, then the rows.
   */
  async readHistory(runner: StatementRunner): Promise<HistoryState> {
    const found = await this.existingTables(runner, [...new Set([this.table.name, DBMATE_TABLE])])
    const exists = found.has(this.table.name)
    return { exists, rows: exists ? await this.selectRows(runner) : [], dbmateExists: found.has(DBMATE_TABLE) }
  }

  /** Whether the history table exists and holds a row. */
  async hasRows(runner: StatementRunner): Promise<boolean> {
    return (await this.exists(runner)) && (await runner.query(`SELECT 1 AS found FROM ${this.qualified} LIMIT 1`, [])).length > 0
  }

  /**
   * Other histories with rows in the database: a `dbops_migrations`, dbmate's
   * `schema_migrations`, a table of this table's name, or one with a dbops history's columns,
   * anywhere but here. dbmate's table beside this one is left out: `up` and `status` already
   * offer to adopt it. A table this role may not read is left out too: it is not this
   * application's history.
   */
  async findOtherHistories(runner: StatementRunner): Promise<HistoryTable[]> {
    const { schema, name } = this.table
    const query = this.syntax.historyTables([...new Set([MIGRATION_TABLE, DBMATE_TABLE, name])])
    const found: HistoryTable[] = []
    for (const raw of await runner.query(query.sql, query.parameters)) {
      const other = { schema: String(raw.schema), name: String(raw.name) }
      if (other.schema === schema && (other.name === name || other.name === DBMATE_TABLE)) continue
      const qualified = this.syntax.qualify(other.schema, other.name)
      const counted = await runner.query(`SELECT count(*) AS n FROM ${qualified}`, []).catch(() => undefined)
      const rows = Number(counted?.[0]?.n ?? 0)
      if (rows > 0) found.push({ ...other, rows })
    }
    return found
  }

  /** Creates the history table (and, on PostgreSQL, its schema) when missing; `exists`: already known. */
  async ensureTable(session: MigrationSession, exists?: boolean): Promise<void> {
    if (exists ?? (await this.exists(session))) return
    const ddl = `CREATE TABLE IF NOT EXISTS ${this.qualified} (
  version TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'applied',
  applied_at ${this.syntax.timestampColumn},
  duration_ms INTEGER,
  dbops_version TEXT NOT NULL,
  ${UNSAFE_COLUMN} TEXT
)`
    await session.createTable({ ...this.table, ddl })
  }

  /**
   * Adds the nullable `allowed_unsafe` column to a history table made by an older dbops, when
   * missing; `--allow-unsafe` records there what it let through.
   */
  async ensureUnsafeColumn(session: MigrationSession): Promise<void> {
    const has = await session.query(`SELECT ${UNSAFE_COLUMN} FROM ${this.qualified} WHERE 1 = 0`, []).then(
      () => true,
      () => false,
    )
    if (!has) await session.query(`ALTER TABLE ${this.qualified} ADD COLUMN ${UNSAFE_COLUMN} TEXT`, [])
  }

  /** Every row, in version order; empty when the table does not exist. */
  async readRows(runner: StatementRunner): Promise<MigrationRow[]> {
    return (await this.exists(runner)) ? this.selectRows(runner) : []
  }

  /** Every row of the table, which must exist, in version order. */
  async selectRows(runner: StatementRunner): Promise<MigrationRow[]> {
    const rows = await runner.query(`SELECT * FROM ${this.qualified}`, [])
    return rows.map(toMigrationRow).sort((a, b) => compareVersions(a.version, b.version))
  }

  /**
   * The migration head: the greatest `version` whose status is `applied`, or undefined when
   * nothing is applied or the table does not exist. Never fails on a missing table, so backups
   * and health can read it on any database, inside their own transaction.
   */
  async readHead(runner: StatementRunner): Promise<string | undefined> {
    if (!(await this.exists(runner))) return undefined
    let head: string | undefined
    for (const row of await runner.query(`SELECT version FROM ${this.qualified} WHERE status = 'applied'`, [])) {
      const version = String(row.version)
      if (head === undefined || compareVersions(version, head) > 0) head = version
    }
    return head
  }

  /** Versions recorded by dbmate, or undefined when its table does not exist (`exists`: already known). */
  async readDbmateVersions(runner: StatementRunner, exists?: boolean): Promise<string[] | undefined> {
    if (!(exists ?? (await this.existingTables(runner, [DBMATE_TABLE])).has(DBMATE_TABLE))) return undefined
    const rows = await runner.query(`SELECT version FROM ${this.syntax.qualify(this.table.schema, DBMATE_TABLE)}`, [])
    return rows.map((r) => String(r.version)).sort(compareVersions)
  }

  /** Applies `repair` / `baseline` / `import-dbmate` changes in one transaction of the session. */
  async changeRows(session: MigrationSession, changes: RowChange[]): Promise<void> {
    await session.transaction(async () => {
      for (const change of changes) {
        if (change.kind === 'insert') await this.insert(session, change.row, 'applied', null)
        else if (change.kind === 'delete') await session.query(this.sql.delete, [change.version])
        else await session.query(this.sql.setChecksum, [change.checksum, change.name, change.version])
      }
    })
  }

  async isDone(runner: StatementRunner, step: MigrationStep): Promise<boolean> {
    const [row] = await runner.query(this.sql.selectStatus, [step.row.version])
    return step.direction === 'up' ? row !== undefined : row?.status !== 'applied'
  }

  async markStarted(runner: StatementRunner, step: MigrationStep): Promise<void> {
    if (step.direction === 'up') await this.insert(runner, step.row, 'started', null)
    else await runner.query(this.sql.markStarted, [step.row.version])
  }

  async markDone(runner: StatementRunner, step: MigrationStep, durationMs: number): Promise<void> {
    const ms = Math.round(durationMs)
    if (step.direction === 'down') await runner.query(this.sql.delete, [step.row.version])
    else if (step.transaction) await this.insert(runner, step.row, 'applied', ms)
    else await runner.query(this.sql.markApplied, [ms, new Date().toISOString(), step.row.version])
  }

  doneStatement(step: MigrationStep, spelling: InlineRowSpelling): string {
    const { literal } = spelling
    const { row } = step
    if (step.direction === 'down') return `DELETE FROM ${this.qualified} WHERE version = ${literal(row.version)}`
    const values = [literal(row.version), literal(row.name), literal(row.checksum), `'applied'`, spelling.appliedAt, spelling.durationMs]
    values.push(literal(row.dbopsVersion))
    if (row.allowedUnsafe === undefined) return `INSERT INTO ${this.qualified} (${COLUMNS}) VALUES (${values.join(', ')})`
    return `INSERT INTO ${this.qualified} (${COLUMNS}, ${UNSAFE_COLUMN}) VALUES (${values.join(', ')}, ${literal(row.allowedUnsafe)})`
  }

  private async insert(runner: StatementRunner, row: MigrationRowValues, status: 'applied' | 'started', durationMs: number | null) {
    const values = [row.version, row.name, row.checksum, status, new Date().toISOString(), durationMs, row.dbopsVersion]
    if (row.allowedUnsafe === undefined) await runner.query(this.sql.insert, values)
    else await runner.query(this.sql.insertUnsafe, [...values, row.allowedUnsafe])
  }

  private async existingTables(runner: StatementRunner, names: string[]): Promise<Set<string>> {
    const query = this.syntax.existingTables(this.table.schema, names)
    return new Set((await runner.query(query.sql, query.parameters)).map((row) => String(row.name)))
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
  store: MigrationStore,
  rows: MigrationRow[],
): Promise<{ rows: MigrationRow[]; runner: LockHolder | undefined }> {
  if (rows.every((r) => r.status === 'applied')) return { rows, runner: undefined }
  const ask = () => conn.dialect.migrationLockHolder(conn, { table: store.table })
  const before = await ask()
  const again = await store.selectRows(conn)
  return { rows: again, runner: before ?? (await ask()) }
}

/**
 * The migration head of the database `db` is connected to (see {@link MigrationStore.readHead}).
 *
 * @example
 * const head = await readMigrationHead(conn.db, conn.dialect, config.migrationsTable) // '20250101120000'
 */
export function readMigrationHead(
  db: Kysely<any>,
  dialect: Pick<Dialect, 'migrationTable'>,
  table: MigrationTableName,
): Promise<string | undefined> {
  return new MigrationStore(dialect.migrationTable, table).readHead(queryable(db))
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
    allowedUnsafe: raw.allowed_unsafe == null ? undefined : String(raw.allowed_unsafe),
  }
}
