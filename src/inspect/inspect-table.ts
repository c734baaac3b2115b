/**
 * `dbops inspect table NAME`: one table's columns (type, nullability, default), primary
 * key, indexes, unique and check constraints, foreign keys, and the foreign keys of other
 * tables that point at it. The name is checked against the catalog first (unknown: exit 2);
 * the definition comes from the dialect's introspector, the same one `schema diff` uses.
 */
import { qualifiedName, splitQualifiedName } from '../sql/qualified-name.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { DbConnection } from '../dialects/dialect.js'
import { OperationError } from '../errors.js'

import { type InspectOptions, usingInspectSession } from './using-inspect-session.js'
import { checkName } from './check-name.js'

/** The JSON document of `dbops inspect table NAME`. */
export interface TableReport {
  name: string
  schema: string | null
  columns: Array<{ name: string; type: string; nullable: boolean; default: string | null; generated: string | null }>
  primary_key: string[]
  indexes: Array<{ name: string; unique: boolean; columns: string[]; where: string | null }>
  uniques: Array<{ name: string | null; columns: string[] }>
  checks: Array<{ name: string | null; expression: string }>
  foreign_keys: Array<{
    name: string | null
    columns: string[]
    references: { table: string; columns: string[] }
    on_delete: string
    on_update: string
  }>
  referenced_by: Array<{ table: string; name: string | null; columns: string[]; references_columns: string[] }>
}

/** Where names live, for messages: `in schema public` or `in /data/app.db`. */
export function whereNamesLive(config: ResolvedConfig, supportsSchemas: boolean, schema = config.schema): string {
  return supportsSchemas ? `in schema ${schema}` : `in ${'path' in config.target ? config.target.path : 'the database'}`
}

/** A table the user named, found: its schema (the default one on SQLite), its name as the database spells it. */
export interface FoundTable {
  schema: string
  table: string
  /** `in schema app`, for messages about its columns. */
  where: string
}

/**
 * Finds the table a user typed. PostgreSQL: `app.users` names its schema; `users` is looked
 * for in the compared schemas of `--schema a,b`, in that order (else the default schema), and
 * checked against the first when none has it. Unknown: a usage error (exit 2) with the nearest name.
 */
export async function findTable(conn: DbConnection, config: ResolvedConfig, input: string): Promise<FoundTable> {
  const catalog = conn.dialect.createCatalog(conn)
  const resolve = conn.dialect.resolveTypedName
  const split = conn.dialect.supportsSchemas ? splitQualifiedName(input) : { schema: undefined, name: input }
  // a schema named as typed follows the database's rules too (PostgreSQL folds it unless quoted)
  if (split.schema !== undefined)
    split.schema =
      resolve(
        split.schema,
        (await catalog.listSchemas()).map((s) => s.name),
      ) ?? split.schema
  const searched =
    split.schema !== undefined
      ? [split.schema]
      : config.schemas === 'all' || !conn.dialect.supportsSchemas
        ? [config.schema]
        : config.schemas
  let schema = searched[0]!
  if (searched.length > 1) {
    for (const candidate of searched) {
      if (resolve(input, await catalog.tableNames({ schema: candidate })) !== undefined) {
        schema = candidate
        break
      }
    }
  }
  const where = whereNamesLive(config, conn.dialect.supportsSchemas, schema)
  const table = checkName(split.name, await catalog.tableNames({ schema }), 'table', where, resolve)
  return { schema, table, where }
}

/** Describes table `name`. */
export async function inspectTable(config: ResolvedConfig, name: string, options: InspectOptions): Promise<TableReport> {
  return usingInspectSession(config, options, async (conn) => {
    const found = await findTable(conn, config, name)
    // its own schema and the compared ones, so references from other schemas show too
    const compared = config.schemas === 'all' ? (await conn.dialect.createCatalog(conn).listSchemas()).map((s) => s.name) : config.schemas
    const schemas = [...new Set([found.schema, ...compared])]
    const schema = await conn.dialect.introspect(conn, { schemas, defaultSchema: config.schema, historyTable: config.migrationsTable })
    const own = found.schema === config.schema ? undefined : found.schema
    const table = schema.tables.find((t) => t.name === found.table && t.schema === own)
    if (!table)
      throw new OperationError(
        'TABLE_NOT_INTROSPECTED',
        `Table "${found.table}" is in the catalog but not in the introspected schema ${found.where}`,
      )
    return {
      name: table.name,
      schema: conn.dialect.supportsSchemas ? found.schema : null,
      columns: table.columns.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.nullable,
        default: c.default ?? null,
        generated: c.generated ?? null,
      })),
      primary_key: table.primaryKey,
      indexes: table.indexes.map((i) => ({
        name: i.name,
        unique: i.unique,
        // an expression is shown in parentheses, as in CREATE INDEX
        columns: i.columns.map((e) => `${e.kind === 'expression' ? `(${e.value})` : e.value}${e.descending ? ' DESC' : ''}`),
        where: i.where ?? null,
      })),
      uniques: table.uniques.map((u) => ({ name: u.name ?? null, columns: u.columns })),
      checks: table.checks.map((c) => ({ name: c.name ?? null, expression: c.expression })),
      foreign_keys: table.foreignKeys.map((f) => ({
        name: f.name ?? null,
        columns: f.columns,
        references: { table: qualifiedName(f.referencedSchema, f.referencedTable), columns: f.referencedColumns },
        on_delete: f.onDelete,
        on_update: f.onUpdate,
      })),
      referenced_by: schema.tables.flatMap((other) =>
        other.foreignKeys
          .filter((f) => f.referencedTable === table.name && f.referencedSchema === own)
          .map((f) => ({
            table: qualifiedName(other.schema, other.name),
            name: f.name ?? null,
            columns: f.columns,
            references_columns: f.referencedColumns,
          })),
      ),
    }
  })
}
