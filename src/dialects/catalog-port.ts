/**
 * Small catalog queries of the on-call commands (`health`, `pool`, `inspect`): the list of
 * tables with row estimates and sizes, and the column names of one table, for checking the
 * names a user typed before they reach a query. They do not need the full introspector
 * (`Dialect.introspect`), so `inspect tables` and `inspect rows` stay cheap: a catalog
 * read, never a scan of every table's definition.
 *
 * A dialect makes one per connection (`Dialect.createCatalog`; implementations
 * `sqlite/sqlite-catalog.ts`, `postgres/postgres-catalog.ts`).
 */

/** A table as `inspect tables` lists it. */
export interface TableStats {
  name: string
  /** Row count: exact when `rowsExact`, else the planner's estimate; undefined when unknown. */
  rows: number | undefined
  rowsExact: boolean
  /** Bytes on disk, indexes (and TOAST) included; undefined when the dialect cannot tell. */
  sizeBytes: number | undefined
}

/** A column, as far as name checking needs it. */
export interface ColumnBrief {
  name: string
  /** The declared type, as the database spells it. */
  type: string
  /** Position in the primary key (1-based), or 0 when not part of it. */
  primaryKeyPosition: number
}

/** A schema (PostgreSQL namespace) and how many tables it holds, dbops' own left out. */
export interface SchemaBrief {
  name: string
  tables: number
}

/** A relation `migrate up`'s gate asks about: `schema` left out means where unqualified names resolve. */
export interface RelationRef {
  schema?: string | undefined
  name: string
}

/** What the target holds of one relation, from the catalog's cheap estimates. */
export interface RelationFacts extends RelationRef {
  exists: boolean
  /**
   * Rows: exact when at most `countUpTo` (a capped count), else an estimate of at least that
   * many; undefined when unknown (no privilege to count).
   */
  rows: number | undefined
  /** Bytes on disk, its indexes (and TOAST) included; undefined when the dialect cannot tell cheaply. */
  bytes: number | undefined
}

/** The target as `migrate up`'s gate sees it: whether it holds any table yet, and the relations asked about. */
export interface TargetFacts {
  /** No table of the application yet (dbops' and dbmate's history tables not counted). */
  empty: boolean
  relations: RelationFacts[]
}

/**
 * An index the database keeps but does not use because building it failed: what a failed
 * `CREATE INDEX CONCURRENTLY` leaves behind on PostgreSQL (`pg_index.indisvalid` false).
 */
export interface InvalidIndex {
  /** Its schema (PostgreSQL), or undefined where there are none. */
  schema: string | undefined
  name: string
  /** The table it indexes. */
  table: string
  /** The statement that drops it without blocking writes: `DROP INDEX CONCURRENTLY app.orders_email_key;`. */
  fix: string
}

/** The catalog queries of one dialect, over the connection it was made for. */
export interface Catalog {
  /**
   * Makes the session read-only where connect options could not: SQLite `PRAGMA query_only`.
   * On PostgreSQL the on-call session settings (`default_transaction_read_only`) already
   * did it on every pooled connection, so this does nothing there.
   */
  enterReadOnly(): Promise<void>
  /** Tables of `schema` (PostgreSQL) or the file (SQLite), by name, with rows and size. */
  listTables(options: { schema: string }): Promise<TableStats[]>
  /** Names of the tables of `schema`, sorted; cheaper than {@link Catalog.listTables}. */
  tableNames(options: { schema: string }): Promise<string[]>
  /**
   * The schemas of the database but the system ones (`pg_catalog`, `information_schema`,
   * `pg_toast*`, `pg_temp*`), by name, each with its number of tables (dbops' and dbmate's
   * history tables not counted): what `--all-schemas` compares, and what the "not compared"
   * note counts. Empty on SQLite, which has no schemas.
   */
  listSchemas(): Promise<SchemaBrief[]>
  /**
   * Whether each of `relations` exists and how large it is, cheaply (a catalog read and, where
   * estimates are missing, a count capped at `countUpTo` + 1 rows), and whether the target
   * holds any table at all. Unqualified names resolve as the migrations' `search_path` does
   * (`defaultSchema`, then `public`).
   */
  targetFacts(relations: readonly RelationRef[], options: { defaultSchema: string; countUpTo: number }): Promise<TargetFacts>
  /** Columns of one table in their order; empty when the table does not exist. */
  listColumns(options: { schema: string; table: string }): Promise<ColumnBrief[]>
  /**
   * Every invalid index of the database, by schema and name (system schemas left out). Empty
   * where indexes cannot be invalid (SQLite builds an index in its transaction, or not at all).
   */
  invalidIndexes(): Promise<InvalidIndex[]>
}
