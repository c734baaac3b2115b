/**
 * The schema-SQL port: how a dialect writes the DDL of a normalised schema's objects and the
 * statements that make a list of schema changes. {@link SchemaSql} is the default renderer,
 * with the DDL both databases share written once; each dialect overrides the spellings that
 * differ and renders changes its own way (`postgres/postgres-schema-sql.ts`,
 * `sqlite/sqlite-schema-sql.ts`).
 */
import { splitQualifiedName } from '../sql/qualified-name.js'
import type {
  ColumnSchema,
  DatabaseSchema,
  ForeignKeySchema,
  IndexSchema,
  SchemaDialect,
  TableSchema,
} from '../schema/normalised-schema.js'
import type { SchemaChange } from '../schema/schema-change.js'
import { type ParsedColumnType, parseColumnType } from '../sql/column-type.js'
import type { Severity } from '../sql/severity.js'
import { delimitIdentifier, quoteIdentifier, quoteQualified, quoteString } from '../sql/sql-text.js'

/** Statements that make one or more changes together. */
export interface SqlStep {
  statements: string[]
  changes: SchemaChange[]
  severity: Severity
  /** Something the reader must know (a rebuild, a step left to do by hand). */
  note?: string
}

/** The SQL of a list of changes. */
export interface RenderedSql {
  dialect: SchemaDialect
  steps: SqlStep[]
  /**
   * SQLite only: the statements must run with foreign keys OFF, switched before the
   * transaction, with `PRAGMA foreign_key_check` before the commit (a table rebuild, or
   * dropping tables that others reference).
   */
  foreignKeysOff: boolean
}

/** What a dialect's change renderer gives back; the caller adds the dialect. */
export type RenderedSteps = Pick<RenderedSql, 'steps' | 'foreignKeysOff'>

/** The changes both dialects make with the same statements. */
export type CommonChange = Extract<
  SchemaChange,
  { kind: 'rename_table' | 'rename_column' | 'add_column' | 'drop_column' | 'add_index' | 'drop_index' }
>

/** The schemas a list of changes goes between: `from` is the one they apply to, `to` the one they produce. */
export interface SchemaTransition {
  from: DatabaseSchema
  to: DatabaseSchema
}

/**
 * The default schema-SQL renderer: column definitions, `CREATE TABLE`, `CREATE INDEX`,
 * constraint clauses, literals and type spellings in the SQL both dialects share, with a
 * method for each piece a dialect spells its own way.
 */
export abstract class SchemaSql {
  /** Renders `changes` as steps, in an order the database accepts. */
  abstract renderChanges(changes: readonly SchemaChange[], context: SchemaTransition): RenderedSteps

  /** The statements' text as a script to run by hand, wrapped in whatever the steps need. */
  script(body: string, _rendered: RenderedSql): string {
    return `${body}\n`
  }

  /** Quotes each name and joins them with commas. */
  columnList(columns: readonly string[]): string {
    return columns.map(quoteIdentifier).join(', ')
  }

  /** `CONSTRAINT name ` when the object has a name. */
  constraintPrefix(name: string | undefined): string {
    return name ? `CONSTRAINT ${quoteIdentifier(name)} ` : ''
  }

  /** A collation clause; collation names are case-sensitive identifiers, always quoted. */
  collateClause(collation: string): string {
    return `COLLATE ${delimitIdentifier(collation)}`
  }

  /** How the dialect spells a logical type in DDL; an enum is a type of its own name (`app.mood` in another schema). */
  typeSql(type: string): string {
    const parsed = parseColumnType(type)
    if (parsed.logical === 'enum') {
      const { schema, name } = splitQualifiedName(type.slice('enum:'.length))
      return quoteQualified(schema, name)
    }
    if (parsed.logical === undefined) return type
    const args = this.typeArguments(parsed)
    switch (parsed.logical) {
      case 'double':
        return 'double precision'
      case 'timestamptz':
        return `timestamp${args} with time zone`
      case 'timestamp':
        return `timestamp${args} without time zone`
      case 'time':
        return `time${args} without time zone`
      default:
        return parsed.canonical
    }
  }

  /** A type's parameters as written after its name: `(10,2)`, or nothing. */
  protected typeArguments(parsed: ParsedColumnType): string {
    return parsed.params.length > 0 ? `(${parsed.params.join(',')})` : ''
  }

  /** The SQL type of a column. */
  columnTypeSql(column: ColumnSchema): string {
    return this.typeSql(column.type)
  }

  /** How the database generates the column's values, as a clause of its definition, if it says so there. */
  generatedClause(_column: ColumnSchema): string | undefined {
    return undefined
  }

  /** A default expression as a `DEFAULT` clause. */
  defaultClause(expression: string): string {
    return `DEFAULT ${expression}`
  }

  /**
   * One column's definition inside `CREATE TABLE` or `ADD COLUMN`. `inlinePrimaryKey` writes
   * `PRIMARY KEY` on the column (SQLite's rowid alias and AUTOINCREMENT need it there).
   */
  columnDefinition(column: ColumnSchema, options: { inlinePrimaryKey?: boolean } = {}): string {
    const parts = [quoteIdentifier(column.name), this.columnTypeSql(column)]
    if (column.collation) parts.push(this.collateClause(column.collation))
    const generated = this.generatedClause(column)
    if (generated) parts.push(generated)
    if (!column.nullable) parts.push('NOT NULL')
    if (options.inlinePrimaryKey) parts.push(column.generated === 'autoincrement' ? 'PRIMARY KEY AUTOINCREMENT' : 'PRIMARY KEY')
    if (column.default !== undefined && column.generated === undefined) parts.push(this.defaultClause(column.default))
    return parts.join(' ')
  }

  /** `FOREIGN KEY (…) REFERENCES t (…) ON DELETE … ON UPDATE …`, actions omitted when `no action`. */
  foreignKeyClause(fk: ForeignKeySchema): string {
    let clause = `FOREIGN KEY (${this.columnList(fk.columns)}) REFERENCES ${quoteQualified(fk.referencedSchema, fk.referencedTable)} (${this.columnList(fk.referencedColumns)})`
    if (fk.onDelete !== 'no action') clause += ` ON DELETE ${fk.onDelete.toUpperCase()}`
    if (fk.onUpdate !== 'no action') clause += ` ON UPDATE ${fk.onUpdate.toUpperCase()}`
    return clause
  }

  /** The primary-key column `CREATE TABLE` declares on the column itself, if any; else the key is a table constraint. */
  inlinePrimaryKey(_table: TableSchema): string | undefined {
    return undefined
  }

  /**
   * `CREATE TABLE` for `table` under `name` (default its own; the SQLite rebuild uses a
   * temporary name). Foreign keys are left out with `withForeignKeys: false` (PostgreSQL adds
   * them once every table exists, so cycles work).
   */
  createTableSql(table: TableSchema, options: { name?: string; withForeignKeys: boolean }): string {
    const inlinePk = this.inlinePrimaryKey(table)
    const lines = table.columns.map((c) => this.columnDefinition(c, { inlinePrimaryKey: c.name === inlinePk }))
    if (table.primaryKey.length > 0 && inlinePk === undefined)
      lines.push(`${this.constraintPrefix(table.primaryKeyName)}PRIMARY KEY (${this.columnList(table.primaryKey)})`)
    for (const u of table.uniques) lines.push(`${this.constraintPrefix(u.name)}UNIQUE (${this.columnList(u.columns)})`)
    for (const c of table.checks) lines.push(`${this.constraintPrefix(c.name)}CHECK (${c.expression})`)
    if (options.withForeignKeys)
      for (const fk of table.foreignKeys) lines.push(`${this.constraintPrefix(fk.name)}${this.foreignKeyClause(fk)}`)
    const name = options.name === undefined ? quoteQualified(table.schema, table.name) : quoteIdentifier(options.name)
    return `CREATE TABLE ${name} (\n  ${lines.join(',\n  ')}\n);`
  }

  /** The index's method as written after the table (` USING gin`), or nothing. */
  indexMethodClause(_index: IndexSchema): string {
    return ''
  }

  /** `CREATE [UNIQUE] INDEX name ON table [USING method] (…) [WHERE …];`, the table in `schema` when given (the index goes there too). */
  createIndexSql(tableName: string, index: IndexSchema, schema?: string): string {
    const elements = index.columns
      .map((e) => `${e.kind === 'column' ? quoteIdentifier(e.value) : `(${e.value})`}${e.descending ? ' DESC' : ''}`)
      .join(', ')
    const where = index.where ? ` WHERE ${index.where}` : ''
    return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentifier(index.name)} ON ${quoteQualified(schema, tableName)}${this.indexMethodClause(index)} (${elements})${where};`
  }

  /**
   * A JavaScript value as a SQL literal for a column of `type`: strings quoted, numbers as
   * written, booleans as {@link booleanLiteral}, dates as ISO strings, JSON values
   * serialised for json columns.
   */
  literal(value: unknown, type: string): string {
    const logical = parseColumnType(type).logical
    if (logical === 'json' || logical === 'jsonb') {
      return quoteString(typeof value === 'string' ? value : JSON.stringify(value))
    }
    if (typeof value === 'string') return quoteString(value)
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error('not a finite number')
      return String(value)
    }
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'boolean') return this.booleanLiteral(value)
    if (value instanceof Date) return quoteString(value.toISOString())
    throw new Error(`cannot be written as a SQL literal (${typeof value})`)
  }

  /** `true` / `false`. */
  booleanLiteral(value: boolean): string {
    return String(value)
  }

  /** The statements of a change both dialects make the same way (see {@link CommonChange}). */
  protected commonChangeSql(change: CommonChange): string[] {
    const t = quoteQualified(change.schema, change.table)
    switch (change.kind) {
      case 'rename_table':
        return [`ALTER TABLE ${quoteQualified(change.schema, change.from)} RENAME TO ${quoteIdentifier(change.table)};`]
      case 'rename_column':
        return [`ALTER TABLE ${t} RENAME COLUMN ${quoteIdentifier(change.from)} TO ${quoteIdentifier(change.to)};`]
      case 'add_column':
        return [`ALTER TABLE ${t} ADD COLUMN ${this.columnDefinition(change.column)};`]
      case 'drop_column':
        return [`ALTER TABLE ${t} DROP COLUMN ${quoteIdentifier(change.column.name)};`]
      case 'add_index':
        return [this.createIndexSql(change.table, change.index, change.schema)]
      case 'drop_index':
        return [`DROP INDEX ${quoteQualified(change.schema, change.index.name)};`]
    }
  }
}
