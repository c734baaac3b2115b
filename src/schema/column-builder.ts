/**
 * Columns of the model DSL: `col.integer()`, `col.varchar(255).unique()`,
 * `col.timestamptz().defaultNow()`… Each builder carries, at the type level, what the column
 * holds on each dialect and whether it is nullable, defaulted or generated, which is what
 * `InferDatabase` turns into Kysely's `Database` type. Builders are immutable: every method
 * returns a new builder, so one can be shared between columns.
 *
 * Columns are NOT NULL unless `.nullable()` is called: most columns should be, and a
 * nullable one is then visible in the model.
 */
import type { ReferentialAction } from './normalised-schema.js'

/** SQL text for both dialects, or per dialect when they differ. */
export type SqlText = string | { postgres?: string; sqlite?: string }

const RAW = Symbol.for('dbops.raw')
const COLUMN = Symbol.for('dbops.column')

/** A SQL expression given verbatim (a default, an index expression). Make one with {@link raw}. */
export interface RawSql {
  readonly [RAW]: true
  readonly sql: SqlText
}

/**
 * Marks SQL text as an expression, for defaults and index elements, per dialect when needed.
 *
 * @example
 * col.uuid().default(raw({ postgres: 'gen_random_uuid()', sqlite: "lower(hex(randomblob(16)))" }))
 * indexes: [{ columns: [raw('lower(email)')], unique: true }]
 */
export function raw(sql: SqlText): RawSql {
  return { [RAW]: true, sql }
}

/** Whether `value` was made by {@link raw}. */
export function isRawSql(value: unknown): value is RawSql {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RAW] === true
}

/** What a column holds on one dialect: the types Kysely selects, inserts and updates. */
export interface TypeTriple {
  select: unknown
  insert: unknown
  update: unknown
}

/** A {@link TypeTriple} with one type for all three. */
export type Same<T> = { select: T; insert: T; update: T }

/** Flags of a column that shape its Kysely type. */
export interface ColumnFlags {
  nullable: boolean
  defaulted: boolean
  generated: 'no' | 'by-default' | 'always'
}

/** The default flags: NOT NULL, no default, not generated. */
export type DefaultFlags = { nullable: false; defaulted: false; generated: 'no' }

type SetFlag<F extends ColumnFlags, K extends keyof ColumnFlags, V extends ColumnFlags[K]> = {
  [P in keyof ColumnFlags]: P extends K ? V : F[P]
}

/** A column's default as the DSL stores it. */
export type ColumnDefault = { kind: 'literal'; value: unknown } | { kind: 'raw'; sql: SqlText } | { kind: 'now' }

/** A column-level foreign key. */
export interface ColumnReference {
  table: string
  column: string
  onDelete: ReferentialAction | undefined
  onUpdate: ReferentialAction | undefined
  name: string | undefined
}

/** Everything a column builder knows at run time. */
export interface ColumnDefinition {
  /** The type as written (`varchar(255)`, `int4`), `enum`, or a custom type's spelling. */
  type: string
  /** `col.custom()`: a type dbops does not know, compared as written. */
  custom: boolean
  enumValues: readonly string[] | undefined
  /** Name of the PostgreSQL enum type; undefined: a CHECK constraint on a text column. */
  enumName: string | undefined
  nullable: boolean
  default: ColumnDefault | undefined
  primaryKey: boolean
  generated: 'identity' | 'identity-always' | 'serial' | 'autoincrement' | undefined
  unique: { name: string | undefined } | undefined
  checks: Array<{ expression: SqlText; name: string | undefined }>
  references: ColumnReference | undefined
  collation: string | undefined
  renamedFrom: string[]
}

/**
 * A column of a model. `P` and `Q` are what it holds on PostgreSQL and SQLite (as the pg and
 * better-sqlite3 drivers return them), `F` its flags. Make one with {@link col}.
 */
export class Column<P extends TypeTriple = TypeTriple, Q extends TypeTriple = TypeTriple, F extends ColumnFlags = ColumnFlags> {
  /** Type-level only: what the column holds. */
  declare readonly __types: { postgres: P; sqlite: Q; flags: F }
  readonly [COLUMN] = true as const

  constructor(readonly definition: Readonly<ColumnDefinition>) {}

  private with<P2 extends TypeTriple = P, Q2 extends TypeTriple = Q, F2 extends ColumnFlags = F>(
    patch: Partial<ColumnDefinition>,
  ): Column<P2, Q2, F2> {
    return new Column<P2, Q2, F2>({ ...this.definition, ...patch })
  }

  /** Allows NULL (columns are NOT NULL by default). */
  nullable(): Column<P, Q, SetFlag<F, 'nullable', true>> {
    return this.with({ nullable: true })
  }

  /** NOT NULL (the default; for symmetry and for columns built elsewhere). */
  notNull(): Column<P, Q, SetFlag<F, 'nullable', false>> {
    return this.with({ nullable: false })
  }

  /**
   * A default value: a literal of the column's type (string, number, boolean, Date, or a
   * JSON value for json columns), or a {@link raw} SQL expression.
   */
  default(value: P['insert'] | Q['insert'] | RawSql): Column<P, Q, SetFlag<F, 'defaulted', true>> {
    return this.with({ default: isRawSql(value) ? { kind: 'raw', sql: value.sql } : { kind: 'literal', value } })
  }

  /** Defaults to the current time (`now()` on PostgreSQL, `CURRENT_TIMESTAMP` on SQLite; the date for date columns). */
  defaultNow(): Column<P, Q, SetFlag<F, 'defaulted', true>> {
    return this.with({ default: { kind: 'now' } })
  }

  /** A single-column primary key (implies NOT NULL). For a composite key use the table's `primaryKey` option. */
  primaryKey(): Column<P, Q, SetFlag<F, 'nullable', false>> {
    return this.with({ primaryKey: true, nullable: false })
  }

  /**
   * Generated by the database: an identity column on PostgreSQL (`GENERATED BY DEFAULT`, or
   * `ALWAYS` with `{ always: true }`, which inserts may not set), the rowid alias
   * (`INTEGER PRIMARY KEY`) on SQLite, where it must be the table's primary key.
   */
  identity<A extends boolean = false>(options?: {
    always?: A
  }): Column<P, Q, SetFlag<F, 'generated', A extends true ? 'always' : 'by-default'>> {
    return this.with({ generated: options?.always ? 'identity-always' : 'identity' })
  }

  /** PostgreSQL `serial` / `bigserial` (a sequence-backed default); the rowid alias on SQLite. */
  serial(): Column<P, Q, SetFlag<F, 'generated', 'by-default'>> {
    return this.with({ generated: 'serial' })
  }

  /** SQLite `INTEGER PRIMARY KEY AUTOINCREMENT` (rowids never reused); an identity column on PostgreSQL. */
  autoincrement(): Column<P, Q, SetFlag<F, 'generated', 'by-default'>> {
    return this.with({ generated: 'autoincrement' })
  }

  /** A single-column unique constraint (default name `<table>_<column>_key`). */
  unique(name?: string): Column<P, Q, F> {
    return this.with({ unique: { name } })
  }

  /** A check constraint on this column (default name `<table>_<column>_check`). */
  check(expression: SqlText, name?: string): Column<P, Q, F> {
    return this.with({ checks: [...this.definition.checks, { expression, name }] })
  }

  /**
   * A foreign key to `table.column`. Actions default to `no action`.
   *
   * @example
   * author_id: col.bigint().references('users', 'id', { onDelete: 'cascade' })
   */
  references(
    table: string,
    column: string,
    options: { onDelete?: ReferentialAction; onUpdate?: ReferentialAction; name?: string } = {},
  ): Column<P, Q, F> {
    return this.with({ references: { table, column, onDelete: options.onDelete, onUpdate: options.onUpdate, name: options.name } })
  }

  /** A collation (`nocase` on SQLite, `C` or an ICU collation on PostgreSQL). */
  collate(collation: string): Column<P, Q, F> {
    return this.with({ collation })
  }

  /** Former names: a column found under one of them is renamed, not dropped and re-added. */
  renamedFrom(...names: string[]): Column<P, Q, F> {
    return this.with({ renamedFrom: [...this.definition.renamedFrom, ...names] })
  }

  /**
   * Overrides the TypeScript type on both dialects (a JSON shape, a branded id, a driver
   * with custom type parsers).
   *
   * @example
   * settings: col.jsonb().$type<{ theme: 'dark' | 'light' }>()
   */
  $type<T>(): Column<Same<T>, Same<T>, F> {
    return this.with<Same<T>, Same<T>, F>({})
  }
}

/** Whether `value` is a {@link Column} (from any copy of dbops). */
export function isColumn(value: unknown): value is Column {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COLUMN] === true
}

function make<P extends TypeTriple, Q extends TypeTriple>(type: string, extra: Partial<ColumnDefinition> = {}): Column<P, Q, DefaultFlags> {
  return new Column<P, Q, DefaultFlags>({
    type,
    custom: false,
    enumValues: undefined,
    enumName: undefined,
    nullable: false,
    default: undefined,
    primaryKey: false,
    generated: undefined,
    unique: undefined,
    checks: [],
    references: undefined,
    collation: undefined,
    renamedFrom: [],
    ...extra,
  })
}

type Int8Pg = { select: string; insert: string | number | bigint; update: string | number | bigint }
type Int8Sqlite = { select: number; insert: number | bigint; update: number | bigint }
type NumericPg = { select: string; insert: string | number; update: string | number }
type NumericSqlite = { select: number; insert: number | string; update: number | string }
type DatePg = { select: Date; insert: Date | string; update: Date | string }
type BoolSqlite = { select: number; insert: number | boolean; update: number | boolean }
type JsonPg<T> = { select: T; insert: T | string; update: T | string }
type BlobBoth = { select: Buffer; insert: Buffer | Uint8Array; update: Buffer | Uint8Array }

/**
 * Column types. TypeScript types follow what the drivers return: pg gives `bigint` and
 * `numeric` as strings and timestamps as `Date`; better-sqlite3 gives numbers, 0/1 for
 * booleans and strings for timestamps and JSON. `InferDatabase<M, 'postgres' | 'sqlite'>`
 * picks one; without a dialect each column accepts either.
 *
 * @example
 * export const users = table('users', {
 *   id: col.bigint().primaryKey().identity(),
 *   email: col.varchar(255).unique(),
 *   bio: col.text().nullable(),
 *   created_at: col.timestamptz().defaultNow(),
 * })
 */
export const col = {
  smallint: () => make<Same<number>, Same<number>>('smallint'),
  integer: () => make<Same<number>, Same<number>>('integer'),
  bigint: () => make<Int8Pg, Int8Sqlite>('bigint'),
  real: () => make<Same<number>, Same<number>>('real'),
  double: () => make<Same<number>, Same<number>>('double'),
  /** `numeric(precision, scale)`; without arguments, PostgreSQL's unconstrained numeric. */
  numeric: (precision?: number, scale?: number) =>
    make<NumericPg, NumericSqlite>(precision === undefined ? 'numeric' : `numeric(${precision},${scale ?? 0})`),
  text: () => make<Same<string>, Same<string>>('text'),
  /** `varchar(length)`; without a length, PostgreSQL's unbounded varchar. */
  varchar: (length?: number) => make<Same<string>, Same<string>>(length === undefined ? 'varchar' : `varchar(${length})`),
  char: (length = 1) => make<Same<string>, Same<string>>(`char(${length})`),
  boolean: () => make<Same<boolean>, BoolSqlite>('boolean'),
  date: () => make<DatePg, Same<string>>('date'),
  time: () => make<Same<string>, Same<string>>('time'),
  /** Timestamp without time zone. */
  timestamp: () => make<DatePg, Same<string>>('timestamp'),
  /** Timestamp with time zone. */
  timestamptz: () => make<DatePg, Same<string>>('timestamptz'),
  json: <T = unknown>() => make<JsonPg<T>, Same<string>>('json'),
  jsonb: <T = unknown>() => make<JsonPg<T>, Same<string>>('jsonb'),
  uuid: () => make<Same<string>, Same<string>>('uuid'),
  /** Binary data: `bytea` on PostgreSQL, `BLOB` on SQLite. */
  blob: () => make<BlobBoth, BlobBoth>('blob'),
  /**
   * A text column limited to `values`: a CHECK constraint, or with `{ name }` a PostgreSQL
   * enum type of that name (a CHECK constraint on SQLite).
   */
  enum: <const V extends readonly [string, ...string[]]>(values: V, options: { name?: string } = {}) =>
    make<Same<V[number]>, Same<V[number]>>('enum', { enumValues: [...values], enumName: options.name }),
  /** A type by its SQL spelling (`int4`, `character varying(40)`); an unknown spelling is an error when the models load. */
  type: <T = unknown>(spelling: string) => make<Same<T>, Same<T>>(spelling),
  /** A database-specific type dbops does not know (`inet`, `text[]`), compared as written. */
  custom: <T = unknown>(spelling: string) => make<Same<T>, Same<T>>(spelling, { custom: true }),
}
