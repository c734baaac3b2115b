/**
 * `dbops inspect table NAME`: one table's columns (type, nullability, default), primary
 * key, indexes, unique and check constraints, foreign keys, and the foreign keys of other
 * tables that point at it. The name is checked against the catalog first (unknown: exit 2);
 * the definition comes from the dialect's introspector, the same one `schema diff` uses.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { OperationError } from '../errors.js'
import { usingInspectSession } from './using-inspect-session.js'
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
export function whereNamesLive(config: ResolvedConfig, supportsSchemas: boolean): string {
  return supportsSchemas ? `in schema ${config.schema}` : `in ${'path' in config.target ? config.target.path : 'the database'}`
}

/** Describes table `name`. */
export async function inspectTable(config: ResolvedConfig, name: string, options: { connect: ConnectOptions }): Promise<TableReport> {
  return usingInspectSession(config, options.connect, async (conn) => {
    const where = whereNamesLive(config, conn.dialect.supportsSchemas)
    const resolved = checkName(
      name,
      await conn.dialect.createCatalog(conn).tableNames({ schema: config.schema }),
      'table',
      where,
      conn.dialect.resolveTypedName,
    )
    const schema = await conn.dialect.introspect(conn, { schema: config.schema })
    const table = schema.tables.find((t) => t.name === resolved)
    if (!table)
      throw new OperationError(
        'TABLE_NOT_INTROSPECTED',
        `Table "${resolved}" is in the catalog but not in the introspected schema ${where}`,
      )
    return {
      name: table.name,
      schema: conn.dialect.supportsSchemas ? config.schema : null,
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
        references: { table: f.referencedTable, columns: f.referencedColumns },
        on_delete: f.onDelete,
        on_update: f.onUpdate,
      })),
      referenced_by: schema.tables.flatMap((other) =>
        other.foreignKeys
          .filter((f) => f.referencedTable === name)
          .map((f) => ({ table: other.name, name: f.name ?? null, columns: f.columns, references_columns: f.referencedColumns })),
      ),
    }
  })
}
