/**
 * Tables and models of the DSL, and `InferDatabase`, which turns them into a Kysely
 * `Database` type. The models module (the config's `models` key) exports them:
 *
 * @example
 * // models.ts
 * import { col, defineModels, raw, table } from 'dbops'
 *
 * export const users = table('users', {
 *   id: col.bigint().primaryKey().identity(),
 *   email: col.varchar(255).unique(),
 *   created_at: col.timestamptz().defaultNow(),
 * }, {
 *   indexes: [{ columns: [raw('lower(email)')], unique: true, name: 'users_email_lower_key' }],
 * })
 *
 * export default defineModels({ users })
 *
 * // app.ts
 * import { Kysely } from 'kysely'
 * import type { InferDatabase } from 'dbops'
 * import models from './models.js'
 * const db = new Kysely<InferDatabase<typeof models, 'postgres'>>({ dialect })
 */
import type { ColumnType, Generated } from 'kysely'
import type { Column, ColumnFlags, SqlText, TypeTriple, RawSql } from './column-builder.js'
import type { ReferentialAction } from './normalised-schema.js'

const TABLE = Symbol.for('dbops.table')
const MODELS = Symbol.for('dbops.models')

/** Any column, whatever its types. */
export type AnyColumn = Column<any, any, any>

/** An index element: a column name, a {@link RawSql} expression, or either descending. */
export type IndexElementDefinition<K extends string> =
  K | RawSql | { column: K; descending?: boolean } | { expression: SqlText; descending?: boolean }

/** An index of a table. */
export interface IndexDefinition<K extends string> {
  columns: Array<IndexElementDefinition<K>>
  unique?: boolean
  /** Default: `<table>_<columns>_idx`. */
  name?: string
  /** A partial index's predicate. */
  where?: SqlText
  /** PostgreSQL index method (`gin`, `gist`…); default btree. */
  method?: string
}

/** A table-level foreign key (composite, or named). */
export interface ForeignKeyDefinition<K extends string> {
  columns: K[]
  /** The table: `users` in the table's own schema, `auth.users` in another one. */
  references: { table: string; columns: string[] }
  onDelete?: ReferentialAction
  onUpdate?: ReferentialAction
  /** Default: `<table>_<columns>_fkey`. */
  name?: string
}

/** Table-level parts of a table: its schema, keys, constraints, indexes, former names. */
export interface TableOptions<K extends string> {
  /**
   * The PostgreSQL schema the table lives in; default the default schema (`DATABASE_SCHEMA`,
   * `public`). Unqualified references from this table (`.references('users', 'id')`, an enum's
   * `name`) name objects of this schema; `auth.users` names one elsewhere.
   */
  schema?: string
  /** A composite primary key (or a single one, named). Default name `<table>_pkey`. */
  primaryKey?: K[] | { columns: K[]; name?: string }
  /** Unique constraints; default name `<table>_<columns>_key`. */
  uniques?: Array<K[] | { columns: K[]; name?: string }>
  /** Check constraints, as SQL expressions; default name `<table>_check`, `<table>_check1`… */
  checks?: Array<SqlText | { expression: SqlText; name?: string }>
  indexes?: Array<IndexDefinition<K>>
  foreignKeys?: Array<ForeignKeyDefinition<K>>
  /** Former names: a table found under one of them is renamed, not dropped and recreated. */
  renamedFrom?: string | string[]
}

/** A table of the models. Make one with {@link table}. `S` is its schema, when the table names one. */
export interface Table<N extends string = string, C extends Record<string, AnyColumn> = any, S extends string = any> {
  readonly [TABLE]: true
  readonly name: N
  /** Type-level only: the schema given in the options (`never` when none). */
  readonly schema?: S
  readonly columns: C
  readonly options: TableOptions<Extract<keyof C, string>>
}

/**
 * Declares a table: its name, its columns (the object's keys are the column names), and
 * table-level keys, constraints and indexes.
 *
 * @example
 * export const memberships = table('memberships', {
 *   user_id: col.bigint().references('users', 'id', { onDelete: 'cascade' }),
 *   team_id: col.bigint().references('teams', 'id', { onDelete: 'cascade' }),
 *   role: col.enum(['owner', 'member']).default('member'),
 * }, { primaryKey: ['user_id', 'team_id'] })
 *
 * // in another schema: Kysely knows it as 'auth.sessions'
 * export const sessions = table('sessions', {
 *   user_id: col.bigint().references('users', 'id'), // auth.users
 * }, { schema: 'auth' })
 */
export function table<const N extends string, C extends Record<string, AnyColumn>, const S extends string = never>(
  name: N,
  columns: C,
  options: TableOptions<Extract<keyof C, string>> & { schema?: S } = {},
): Table<N, C, S> {
  return { [TABLE]: true, name, columns, options }
}

/** Whether `value` is a {@link Table} (from any copy of dbops). */
export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TABLE] === true
}

/** The models: a set of tables. Make it with {@link defineModels}. */
export interface Models<T extends Record<string, Table<any, any>> = Record<string, Table<any, any>>> {
  readonly [MODELS]: true
  readonly tables: T
}

/**
 * Collects the tables of the models module; export the result as the module's default.
 * The keys are for TypeScript only; each table's own name is its SQL name.
 *
 * @example
 * export default defineModels({ users, posts })
 */
export function defineModels<T extends Record<string, Table<any, any>>>(tables: T): Models<T> {
  return { [MODELS]: true, tables }
}

/** Whether `value` is a {@link Models} (from any copy of dbops). */
export function isModels(value: unknown): value is Models {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MODELS] === true
}

// ---- InferDatabase --------------------------------------------------------------------

/** Which dialect's driver types `InferDatabase` uses; `any` accepts either. */
export type InferDialect = 'postgres' | 'sqlite' | 'any'

type TripleFor<C, D extends InferDialect> =
  C extends Column<infer P, infer Q, any>
    ? D extends 'postgres'
      ? P
      : D extends 'sqlite'
        ? Q
        : { select: P['select'] | Q['select']; insert: P['insert'] | Q['insert']; update: P['update'] | Q['update'] }
    : never

type FlagsOf<C> = C extends Column<any, any, infer F> ? F : never

type OrNull<T, F extends ColumnFlags> = F['nullable'] extends true ? T | null : T

type IsSame<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type AllSame<T extends TypeTriple> = IsSame<T['select'], T['insert']> extends true ? IsSame<T['select'], T['update']> : false

type KyselyColumn<T extends TypeTriple, F extends ColumnFlags> = F['generated'] extends 'always'
  ? ColumnType<OrNull<T['select'], F>, never, never>
  : F['generated'] extends 'by-default'
    ? AllSame<T> extends true
      ? Generated<OrNull<T['select'], F>>
      : ColumnType<OrNull<T['select'], F>, OrNull<T['insert'], F> | undefined, OrNull<T['update'], F>>
    : F['defaulted'] extends true
      ? AllSame<T> extends true
        ? Generated<OrNull<T['select'], F>>
        : ColumnType<OrNull<T['select'], F>, OrNull<T['insert'], F> | undefined, OrNull<T['update'], F>>
      : AllSame<T> extends true
        ? OrNull<T['select'], F>
        : ColumnType<OrNull<T['select'], F>, OrNull<T['insert'], F>, OrNull<T['update'], F>>

/** The Kysely row type of one table. */
export type InferTable<T, D extends InferDialect = 'any'> =
  T extends Table<any, infer C> ? { [K in keyof C]: KyselyColumn<TripleFor<C[K], D>, FlagsOf<C[K]>> } : never

type TablesOf<M> = M extends Models<infer T> ? T : M extends { default: Models<infer T> } ? T : M

/** A table's key in Kysely's `Database`: `users`, or `app.users` for a table in schema `app`. */
type KyselyTableName<T> = T extends Table<infer N, any, infer S> ? ([S] extends [never] ? N : string extends S ? N : `${S}.${N}`) : never

/**
 * The Kysely `Database` type of the models: one entry per table, under its SQL name
 * (`schema.name` for a table that names its schema, as Kysely writes schema-qualified tables).
 * Defaulted and generated columns are `Generated<>` (identity `ALWAYS`: `GeneratedAlways`),
 * nullable ones are `T | null` and optional on insert. `M` is the `defineModels()` result,
 * or a module namespace (`typeof import('./models.js')`). `D` picks the driver types
 * (`postgres`: pg, `sqlite`: better-sqlite3); the default accepts either.
 *
 * @example
 * const db = new Kysely<InferDatabase<typeof models, 'sqlite'>>({ dialect })
 * await db.insertInto('users').values({ email: 'a@b.c' }).execute() // id, created_at generated
 */
export type InferDatabase<M, D extends InferDialect = 'any'> = {
  [K in keyof TablesOf<M> as KyselyTableName<TablesOf<M>[K]>]: InferTable<TablesOf<M>[K], D>
}
