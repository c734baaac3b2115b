/**
 * SQLite's table rebuild (https://www.sqlite.org/lang_altertable.html#otheralter), for the
 * changes its `ALTER TABLE` cannot make: create the new table under a temporary name, copy the
 * rows, drop the old table, rename, recreate its indexes and triggers. `legacy_alter_table` is
 * switched on around the rename so views and triggers of other tables that mention the table
 * do not fail SQLite's schema check while the old table is gone.
 */
import type { DatabaseSchema, TableSchema } from '../../schema/normalised-schema.js'
import type { SchemaChange } from '../../schema/schema-change.js'
import { worseSeverity } from '../../sql/severity.js'
import { quoteIdentifier } from '../../sql/sql-text.js'
import type { SchemaSql, SchemaTransition, SqlStep } from '../schema-sql.js'

/** Prefix of the temporary table a rebuild creates. */
export const REBUILD_PREFIX = '_dbops_new_'

/** Whether a SQLite default is a constant (what `ALTER TABLE … ADD COLUMN` allows). */
function isConstantDefault(expression: string | undefined): boolean {
  if (expression === undefined) return true
  const text = expression.trim()
  return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) || /^'(?:[^']|'')*'$/.test(text) || /^(null|true|false)$/i.test(text)
}

/** Whether SQLite's `ALTER TABLE … ADD COLUMN` can add this column (else the table is rebuilt). */
function canAddColumn(change: Extract<SchemaChange, { kind: 'add_column' }>, target: TableSchema | undefined): boolean {
  const c = change.column
  if (c.generated !== undefined || target?.primaryKey.includes(c.name)) return false
  if (!isConstantDefault(c.default)) return false
  if (!c.nullable && c.default === undefined) return false
  return true
}

/**
 * Whether SQLite's `ALTER TABLE … DROP COLUMN` can drop this column: nothing else in the
 * schema may mention it (keys, uniques, indexes, checks, foreign keys, views, triggers).
 * Dropping it on its own keeps the data-loss step apart from the table's other changes.
 */
function canDropColumn(column: string, source: TableSchema | undefined, from: DatabaseSchema): boolean {
  if (!source) return false
  const mentions = (text: string | undefined) => text !== undefined && tokenizeLoose(text).includes(column.toLowerCase())
  if (source.primaryKey.includes(column)) return false
  if (source.uniques.some((u) => u.columns.includes(column))) return false
  if (source.foreignKeys.some((fk) => fk.columns.includes(column))) return false
  if (source.checks.some((c) => mentions(c.expression))) return false
  if (
    source.indexes.some((i) => mentions(i.where) || i.columns.some((e) => (e.kind === 'column' ? e.value === column : mentions(e.value))))
  )
    return false
  if (from.tables.some((t) => t.foreignKeys.some((fk) => fk.referencedTable === source.name && fk.referencedColumns.includes(column))))
    return false
  if (from.unmanaged.some((u) => mentions(u.definition))) return false
  return true
}

/** Lower-cased identifiers of SQL text, for "does it mention this column". */
function tokenizeLoose(text: string): string[] {
  return (text.match(/"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_$]*/g) ?? []).map((t) =>
    t.replace(/^["`[]|["`\]]$/g, '').toLowerCase(),
  )
}

/** Whether a change to an existing table needs the rebuild. */
function needsRebuild(
  change: SchemaChange,
  target: TableSchema | undefined,
  source: TableSchema | undefined,
  from: DatabaseSchema,
): boolean {
  switch (change.kind) {
    case 'rename_table':
    case 'rename_column':
    case 'create_table':
    case 'drop_table':
    case 'add_index':
    case 'drop_index':
    case 'rename_index':
    case 'create_enum':
    case 'drop_enum':
    case 'alter_enum':
      return false
    case 'add_column':
      return !canAddColumn(change, target)
    case 'drop_column':
      return !canDropColumn(change.column.name, source, from)
    default:
      return true
  }
}

/** Where a table's name comes from and goes to, around position `i` of the changes. */
export interface TableNames {
  final(name: string, after: number): string
  initial(name: string, before: number): string
}

/** The names of each table along the changes: they name a table as it is called when they run. */
export function tableNames(changes: readonly SchemaChange[]): TableNames {
  const renames = changes.flatMap((c, i) => (c.kind === 'rename_table' ? [{ i, from: c.from, to: c.table }] : []))
  return {
    final(name, after) {
      let n = name
      for (const r of renames) if (r.i > after && r.from === n) n = r.to
      return n
    },
    initial(name, before) {
      let n = name
      for (const r of [...renames].reverse()) if (r.i < before && r.to === n) n = r.from
      return n
    },
  }
}

/** The tables (as the changes name them) that some change rebuilds. */
export function tablesToRebuild(changes: readonly SchemaChange[], names: TableNames, context: SchemaTransition): Set<string> {
  const targets = new Map(context.to.tables.map((t) => [t.name, t]))
  const sources = new Map(context.from.tables.map((t) => [t.name, t]))
  const rebuilt = new Set<string>()
  for (const [i, change] of changes.entries()) {
    if (change.table === undefined) continue
    if (needsRebuild(change, targets.get(names.final(change.table, i)), sources.get(names.initial(change.table, i)), context.from))
      rebuilt.add(change.table)
  }
  return rebuilt
}

/**
 * The rebuild of `table` (so called at position `at`), making its changes `own`: the target
 * schema gives the new definition, the source schema the rows to copy and the triggers to
 * recreate.
 */
export function rebuildStep(
  sql: SchemaSql,
  table: string,
  at: number,
  own: SchemaChange[],
  names: TableNames,
  context: SchemaTransition,
): SqlStep {
  // the table is called `table` now; the target schema knows it by its final name, the source by its first
  const target = context.to.tables.find((t) => t.name === names.final(table, at))
  if (!target) throw new Error(`rebuild of ${table}: the target schema has no such table`)
  const oldName = names.initial(table, at)
  const source = context.from.tables.find((t) => t.name === oldName)
  const oldColumns = new Set(source?.columns.map((c) => c.name) ?? [])
  const renames = new Map<string, string>() // new name → old name
  for (const c of own) if (c.kind === 'rename_column') renames.set(c.to, c.from)

  const copied = target.columns.filter((c) => oldColumns.has(renames.get(c.name) ?? c.name))
  const temp = quoteIdentifier(`${REBUILD_PREFIX}${table}`)
  const t = quoteIdentifier(table)
  const statements = [
    'PRAGMA legacy_alter_table = ON;',
    sql.createTableSql(target, { name: `${REBUILD_PREFIX}${table}`, withForeignKeys: true }),
    `INSERT INTO ${temp} (${copied.map((c) => quoteIdentifier(c.name)).join(', ')})\n  SELECT ${copied.map((c) => quoteIdentifier(renames.get(c.name) ?? c.name)).join(', ')} FROM ${t};`,
    `DROP TABLE ${t};`,
    `ALTER TABLE ${temp} RENAME TO ${t};`,
    'PRAGMA legacy_alter_table = OFF;',
    ...target.indexes.map((index) => sql.createIndexSql(table, index)),
  ]
  // DROP TABLE took the table's triggers with it
  for (const trigger of context.from.unmanaged) {
    if (trigger.kind === 'trigger' && trigger.table === oldName && trigger.definition)
      statements.push(`${trigger.definition.trim().replace(/;?$/, ';')}`)
  }
  const severity = own.reduce((s, c) => worseSeverity(s, c.severity), 'safe' as SchemaChange['severity'])
  return { statements, changes: own, severity, note: `rebuild ${table} (SQLite cannot ALTER this)` }
}
