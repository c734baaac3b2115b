/**
 * The copy port: what `dbops copy` needs from a database on each side. A {@link CopyReader}
 * reads the source inside one read transaction (a consistent snapshot) and streams its rows;
 * a {@link CopyWriter} builds the target (tables, then data, then indexes, keys and checks)
 * so that nothing shows under the target's name until it is finished: PostgreSQL loads in one
 * transaction, SQLite into a temporary file renamed into place. Values cross the port as
 * {@link CopyValue}s, already converted to the target column's logical type.
 */
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../schema/normalised-schema.js'

/** A value as it crosses from reader to writer: converted to its column's logical type. */
export type CopyValue = null | string | number | bigint | boolean | Uint8Array

/** What the data of a column holds, for choosing a type where the declared one does not say. */
export interface ColumnProfile {
  /** Storage classes seen: `integer`, `real`, `text`, `blob`. */
  kinds: Set<string>
  /** Least and greatest integer value, when there are integers. */
  min: bigint | undefined
  max: bigint | undefined
}

/** Something the copy leaves out, and why. */
export interface NotCopied {
  kind: 'view' | 'trigger' | 'generated_column' | 'default' | 'check' | 'index' | 'foreign_key' | 'function' | 'sequence' | 'type' | 'other'
  name: string
  reason: string
}

/** The source side. */
export interface CopyReader {
  /** The source's normalised schema (history tables left out). */
  readonly schema: DatabaseSchema
  /** What exists in the source that is not copied (views, generated columns…). */
  notCopied(): NotCopied[]
  /** What each column's data holds (SQLite, where declared types do not bind values); empty where types are enforced. */
  profile(table: TableSchema, columns: readonly ColumnSchema[]): Promise<Map<string, ColumnProfile>>
  /** The table's rows, `columns` in order, in batches; values as the driver gives them (integers as bigint). */
  rows(table: TableSchema, columns: readonly string[]): AsyncIterable<unknown[][]>
  /** Rows of the table (for progress and ETA); may be an estimate. */
  countRows(table: TableSchema): Promise<number>
  /** Ends the read transaction and closes. Safe to call twice. */
  close(): Promise<void>
}

/** A table as the writer makes it: its definition in the target dialect. */
export interface TargetTable {
  table: TableSchema
  /** The table already existed (`--truncate`): it is emptied, not created. */
  existing: boolean
}

/** The target side; `abort()` or `finish()` end it. */
export interface CopyWriter {
  /** NaN can be stored in a float column (not on SQLite, which stores it as NULL). */
  readonly storesNaN: boolean
  /** Tables (and other relations) already in the target, by name. */
  existingTables(): Promise<string[]>
  /** The target's normalised schema as it is now (for `--truncate` into existing tables). */
  introspect(): Promise<DatabaseSchema>
  /** Starts the load: PostgreSQL opens the transaction, SQLite the temporary file. */
  begin(): Promise<void>
  /** Empties tables that exist already (`--truncate`), all at once. */
  emptyTables(targets: readonly TargetTable[]): Promise<void>
  /**
   * Creates the table (existing ones are left as they are). PostgreSQL creates it bare and adds the
   * rest in {@link completeTable}; SQLite, which cannot add constraints later, creates it whole.
   * Returns what the target refused (a check in SQL only the source understands).
   */
  prepareTable(target: TargetTable): Promise<NotCopied[]>
  /** Loads rows (values in `columns` order) into the table; resolves when the target has them. */
  load(table: TableSchema, columns: readonly ColumnSchema[], batches: AsyncIterable<CopyValue[][]>): Promise<void>
  /** After the load: defaults, checks, indexes, identity values past the data. Returns what the target refused. */
  completeTable(target: TargetTable): Promise<NotCopied[]>
  /** After every table: the foreign keys added or checked (throws {@link ForeignKeyViolation} when the data breaks one). */
  completeForeignKeys(targets: readonly TargetTable[]): Promise<void>
  /** The table's rows as loaded, for verification (same shape as {@link CopyReader.rows}). */
  rows(table: TableSchema, columns: readonly string[]): AsyncIterable<unknown[][]>
  /** Makes the load visible: commits, or renames the file into place. */
  finish(): Promise<void>
  /** Undoes everything: rolls back, or removes the temporary file. Safe to call twice, and after `finish`. */
  abort(): Promise<void>
  /** Closes its connections (after `finish` or `abort`). Safe to call twice. */
  close(): Promise<void>
}

/** Rows of `table` reference a missing row of `referencedTable`. */
export class ForeignKeyViolation extends Error {
  constructor(
    readonly table: string,
    readonly referencedTable: string,
    detail: string,
  ) {
    super(detail)
  }
}

/** A value the target refused while loading `table` (PostgreSQL's COPY names line, column and value). */
export class LoadRejected extends Error {
  constructor(
    readonly table: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options)
  }
}

/** Options of a writer. */
export interface CopyWriterOptions {
  /** PostgreSQL: the schema tables go in (created when missing). */
  schema: string
  /** Called with each statement the writer runs (SQL echo). */
  onQuery?: ((sql: string, durationMs: number) => void) | undefined
}
