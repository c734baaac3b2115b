/**
 * What the diff engine produces: one {@link SchemaChange} per difference, each with a
 * severity, plus the helpers every view of a change needs (a one-line summary, the inverse
 * for down migrations). Changes carry the whole object they add or remove, so a renderer
 * needs nothing else to write its SQL.
 */
import { inSchema, qualifiedName } from '../sql/qualified-name.js'
import { canonicalExpression } from './canonical-expression.js'
import { isWideningTypeChange } from '../sql/column-type.js'
import { type Severity, worseSeverity } from '../sql/severity.js'
import type {
  CheckSchema,
  ColumnSchema,
  EnumSchema,
  ForeignKeySchema,
  IndexSchema,
  TableSchema,
  UniqueSchema,
} from './normalised-schema.js'

/** What changed about a column. */
export type ColumnAspect = 'type' | 'nullable' | 'default' | 'generated' | 'collation'

/** One difference between two schemas, as a step that turns the first into the second. */
export type SchemaChange = (
  | { kind: 'create_enum'; table?: undefined; enum: EnumSchema }
  | { kind: 'drop_enum'; table?: undefined; enum: EnumSchema }
  | { kind: 'alter_enum'; table?: undefined; name: string; from: string[]; to: string[] }
  | { kind: 'create_table'; table: string; definition: TableSchema }
  | { kind: 'drop_table'; table: string; definition: TableSchema }
  | { kind: 'rename_table'; table: string; from: string }
  | { kind: 'add_column'; table: string; column: ColumnSchema }
  | { kind: 'drop_column'; table: string; column: ColumnSchema }
  | { kind: 'rename_column'; table: string; from: string; to: string }
  | { kind: 'alter_column'; table: string; column: string; from: ColumnSchema; to: ColumnSchema; aspects: ColumnAspect[] }
  | { kind: 'alter_primary_key'; table: string; from: string[]; to: string[]; fromName: string | undefined; toName: string | undefined }
  | { kind: 'add_index'; table: string; index: IndexSchema }
  | { kind: 'drop_index'; table: string; index: IndexSchema }
  | { kind: 'rename_index'; table: string; from: string; to: string; index: IndexSchema }
  | { kind: 'add_unique'; table: string; unique: UniqueSchema }
  | { kind: 'drop_unique'; table: string; unique: UniqueSchema }
  | { kind: 'add_check'; table: string; check: CheckSchema }
  | { kind: 'drop_check'; table: string; check: CheckSchema }
  | { kind: 'add_foreign_key'; table: string; foreignKey: ForeignKeySchema }
  | { kind: 'drop_foreign_key'; table: string; foreignKey: ForeignKeySchema }
) & {
  severity: Severity
  /**
   * The schema of the change's table (or enum) when it is not the default one; `table` (and
   * an enum's name) are unqualified.
   */
  schema?: string | undefined
  /** Why a reader should look twice: a likely rename that was not declared. */
  warning?: string
}

/** A change before its severity is known. */
export type ChangeWithoutSeverity = SchemaChange extends infer C
  ? C extends SchemaChange
    ? Omit<C, 'severity'> & { severity?: Severity }
    : never
  : never

/** The kinds of change, in the order the diff lists them (a valid order to apply them). */
export const CHANGE_ORDER: ReadonlyArray<SchemaChange['kind']> = [
  'create_enum',
  'alter_enum',
  'drop_foreign_key',
  'drop_index',
  'drop_unique',
  'drop_check',
  'rename_table',
  'rename_column',
  'rename_index',
  'create_table',
  'add_column',
  'alter_column',
  'alter_primary_key',
  'add_unique',
  'add_check',
  'add_index',
  'drop_column',
  'drop_table',
  'add_foreign_key',
  'drop_enum',
]

/** The severity of a change, from what it does (see {@link Severity}). */
export function severityOf(change: ChangeWithoutSeverity): Severity {
  switch (change.kind) {
    case 'create_enum':
    case 'drop_enum':
    case 'create_table':
    case 'drop_index':
    case 'rename_index':
    case 'drop_unique':
    case 'drop_check':
    case 'drop_foreign_key':
      return 'safe'
    case 'alter_enum':
      return change.from.every((v) => change.to.includes(v)) ? 'safe' : 'destructive'
    case 'drop_table':
    case 'drop_column':
      return 'data_loss'
    case 'rename_table':
    case 'rename_column':
    case 'alter_primary_key':
    case 'add_unique':
    case 'add_check':
    case 'add_foreign_key':
      return 'destructive'
    case 'add_column':
      return change.column.nullable || change.column.default !== undefined || change.column.generated !== undefined ? 'safe' : 'destructive'
    case 'add_index':
      return change.index.unique ? 'destructive' : 'safe'
    case 'alter_column': {
      let severity: Severity = 'safe'
      for (const aspect of change.aspects) {
        if (aspect === 'type')
          severity = worseSeverity(severity, isWideningTypeChange(change.from.type, change.to.type) ? 'safe' : 'data_loss')
        if (aspect === 'nullable' && !change.to.nullable) severity = worseSeverity(severity, 'destructive')
        if (aspect === 'generated' || aspect === 'collation') severity = worseSeverity(severity, 'destructive')
      }
      return severity
    }
  }
}

/** Gives a change its severity. */
export function withSeverity(change: ChangeWithoutSeverity): SchemaChange {
  return { ...change, severity: severityOf(change) } as SchemaChange
}

/** Whether a change adds, removes or changes something (for colour: green, red, yellow). */
export function changeDirection(change: SchemaChange): 'added' | 'removed' | 'changed' {
  if (change.kind.startsWith('create_') || change.kind.startsWith('add_')) return 'added'
  if (change.kind.startsWith('drop_')) return 'removed'
  return 'changed'
}

function describeColumn(column: ColumnSchema): string {
  const parts = [column.type]
  if (column.generated) parts.push(column.generated)
  parts.push(column.nullable ? 'null' : 'not null')
  if (column.default !== undefined) parts.push(`default ${column.default}`)
  if (column.collation) parts.push(`collate ${column.collation}`)
  return parts.join(' ')
}

function describeIndex(index: IndexSchema): string {
  const elements = index.columns.map((e) => `${e.value}${e.descending ? ' desc' : ''}`).join(', ')
  return `${index.unique ? 'unique ' : ''}index ${index.name} (${elements})${index.method ? ` using ${index.method}` : ''}${index.where ? ` where ${index.where}` : ''}`
}

function describeForeignKey(table: string, fk: ForeignKeySchema): string {
  const target = qualifiedName(fk.referencedSchema, fk.referencedTable)
  const actions = [
    fk.onDelete !== 'no action' ? ` on delete ${fk.onDelete}` : '',
    fk.onUpdate !== 'no action' ? ` on update ${fk.onUpdate}` : '',
  ].join('')
  return `foreign key ${table}(${fk.columns.join(', ')}) → ${target}(${fk.referencedColumns.join(', ')})${actions}`
}

/**
 * One line describing a change, without colour or severity: `add column users.bio text null`.
 */
export function summariseChange(change: SchemaChange): string {
  const qualify = (name: string) => qualifiedName(change.schema, name)
  if (change.table !== undefined) change = { ...change, table: qualify(change.table) }
  switch (change.kind) {
    case 'create_enum':
      return `create enum ${qualify(change.enum.name)} (${change.enum.values.join(', ')})`
    case 'drop_enum':
      return `drop enum ${qualify(change.enum.name)}`
    case 'alter_enum':
      return `alter enum ${qualify(change.name)}: (${change.from.join(', ')}) → (${change.to.join(', ')})`
    case 'create_table':
      return `create table ${change.table} (${change.definition.columns.length} column${change.definition.columns.length === 1 ? '' : 's'})`
    case 'drop_table':
      return `drop table ${change.table}`
    case 'rename_table':
      return `rename table ${qualify(change.from)} → ${change.table}`
    case 'add_column':
      return `add column ${change.table}.${change.column.name} ${describeColumn(change.column)}`
    case 'drop_column':
      return `drop column ${change.table}.${change.column.name}`
    case 'rename_column':
      return `rename column ${change.table}.${change.from} → ${change.to}`
    case 'alter_column': {
      const parts = change.aspects.map((aspect) => {
        switch (aspect) {
          case 'type':
            return `type ${change.from.type} → ${change.to.type}`
          case 'nullable':
            return change.to.nullable ? 'drop not null' : 'set not null'
          case 'default':
            return `default ${change.from.default ?? 'none'} → ${change.to.default ?? 'none'}`
          case 'generated':
            return `generated ${change.from.generated ?? 'none'} → ${change.to.generated ?? 'none'}`
          case 'collation':
            return `collation ${change.from.collation ?? 'default'} → ${change.to.collation ?? 'default'}`
        }
      })
      return `alter column ${change.table}.${change.column}: ${parts.join('; ')}`
    }
    case 'alter_primary_key':
      return `primary key of ${change.table}: (${change.from.join(', ')}) → (${change.to.join(', ')})`
    case 'add_index':
      return `add ${describeIndex(change.index)} on ${change.table}`
    case 'drop_index':
      return `drop index ${change.index.name} on ${change.table}`
    case 'rename_index':
      return `rename index ${change.from} → ${change.to} on ${change.table}`
    case 'add_unique':
      return `add unique ${change.table}(${change.unique.columns.join(', ')})`
    case 'drop_unique':
      return `drop unique ${change.table}(${change.unique.columns.join(', ')})`
    case 'add_check':
      return `add check on ${change.table}: ${change.check.expression}`
    case 'drop_check':
      return `drop check on ${change.table}: ${change.check.expression}`
    case 'add_foreign_key':
      return `add ${describeForeignKey(change.table, change.foreignKey)}`
    case 'drop_foreign_key':
      return `drop ${describeForeignKey(change.table, change.foreignKey)}`
  }
}

/**
 * The change that undoes `change` (for a migration's down section). Apply the inverses in
 * reverse order: `changes.map(invertChange).reverse()`.
 */
export function invertChange(change: SchemaChange): SchemaChange {
  const c = change
  let inverse: ChangeWithoutSeverity
  switch (c.kind) {
    case 'create_enum':
      inverse = { kind: 'drop_enum', enum: c.enum }
      break
    case 'drop_enum':
      inverse = { kind: 'create_enum', enum: c.enum }
      break
    case 'alter_enum':
      inverse = { kind: 'alter_enum', name: c.name, from: c.to, to: c.from }
      break
    case 'create_table':
      inverse = { kind: 'drop_table', table: c.table, definition: c.definition }
      break
    case 'drop_table':
      inverse = { kind: 'create_table', table: c.table, definition: c.definition }
      break
    case 'rename_table':
      inverse = { kind: 'rename_table', table: c.from, from: c.table }
      break
    case 'add_column':
      inverse = { kind: 'drop_column', table: c.table, column: c.column }
      break
    case 'drop_column':
      inverse = { kind: 'add_column', table: c.table, column: c.column }
      break
    case 'rename_column':
      inverse = { kind: 'rename_column', table: c.table, from: c.to, to: c.from }
      break
    case 'alter_column':
      inverse = { kind: 'alter_column', table: c.table, column: c.column, from: c.to, to: c.from, aspects: c.aspects }
      break
    case 'alter_primary_key':
      inverse = { kind: 'alter_primary_key', table: c.table, from: c.to, to: c.from, fromName: c.toName, toName: c.fromName }
      break
    case 'add_index':
      inverse = { kind: 'drop_index', table: c.table, index: c.index }
      break
    case 'drop_index':
      inverse = { kind: 'add_index', table: c.table, index: c.index }
      break
    case 'rename_index':
      inverse = { kind: 'rename_index', table: c.table, from: c.to, to: c.from, index: { ...c.index, name: c.from } }
      break
    case 'add_unique':
      inverse = { kind: 'drop_unique', table: c.table, unique: c.unique }
      break
    case 'drop_unique':
      inverse = { kind: 'add_unique', table: c.table, unique: c.unique }
      break
    case 'add_check':
      inverse = { kind: 'drop_check', table: c.table, check: c.check }
      break
    case 'drop_check':
      inverse = { kind: 'add_check', table: c.table, check: c.check }
      break
    case 'add_foreign_key':
      inverse = { kind: 'drop_foreign_key', table: c.table, foreignKey: c.foreignKey }
      break
    case 'drop_foreign_key':
      inverse = { kind: 'add_foreign_key', table: c.table, foreignKey: c.foreignKey }
      break
  }
  return withSeverity({ ...inverse, ...inSchema(c.schema) })
}

/** The canonical key of a check (its expression), used to match checks across schemas. */
export function checkKey(check: CheckSchema): string {
  return canonicalExpression(check.expression)
}
