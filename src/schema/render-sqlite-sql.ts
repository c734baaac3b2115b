/**
 * Changes → SQLite statements. What `ALTER TABLE` can do (rename a table or column, add a
 * plain column) and index changes are written directly; everything else rebuilds the table
 * with SQLite's recipe (https://www.sqlite.org/lang_altertable.html#otheralter): create the
 * new table under a temporary name, copy the rows, drop the old table, rename, recreate its
 * indexes and triggers.
 *
 * A rebuild must run with foreign keys OFF, switched before the transaction (inside one the
 * pragma does nothing), and `PRAGMA foreign_key_check` before the commit: with foreign keys
 * on, dropping a parent table would cascade-delete its children's rows. The result says so
 * (`foreignKeysOff`), and the migration file asks the runner for it
 * (`-- migrate:up foreign_keys:off`). `legacy_alter_table` is switched on around the rename so
 * views and triggers of other tables that mention the table do not fail SQLite's schema
 * check while the old table is gone.
 */
import type { DatabaseSchema, TableSchema } from './normalised-schema.js'
import type { SqlStep } from './render-schema-sql.js'
import { worseSeverity } from '../sql/severity.js'
import type { SchemaChange } from './schema-change.js'
import { columnDefinition, createIndexSql, createTableSql, isSqliteConstantDefault } from './schema-ddl.js'
import { quoteIdentifier } from './sql-text.js'

/** Prefix of the temporary table a rebuild creates. */
export const REBUILD_PREFIX = '_dbops_new_'

/** Whether SQLite's `ALTER TABLE … ADD COLUMN` can add this column (else the table is rebuilt). */
function canAddColumn(change: Extract<SchemaChange, { kind: 'add_column' }>, target: TableSchema | undefined): boolean {
  const c = change.column
  if (c.generated !== undefined || target?.primaryKey.includes(c.name)) return false
  if (!isSqliteConstantDefault(c.default)) return false
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

/**
 * Renders `changes` as SQLite steps, rebuilding tables where ALTER cannot do it. `from` is the
 * schema the changes apply to (for the rows to copy and the triggers to recreate), `to` the
 * one they produce (for the rebuilt tables' definitions).
 */
export function renderSqliteSql(
  changes: readonly SchemaChange[],
  context: { from: DatabaseSchema; to: DatabaseSchema },
): { steps: SqlStep[]; foreignKeysOff: boolean } {
  const targets = new Map(context.to.tables.map((t) => [t.name, t]))
  // changes name a table as it is called when they run; renames before or after move the name
  const renames = changes.flatMap((c, i) => (c.kind === 'rename_table' ? [{ i, from: c.from, to: c.table }] : []))
  const names: TableNames = {
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
  const rebuilt = new Set<string>()
  const sources = new Map(context.from.tables.map((t) => [t.name, t]))
  for (const [i, change] of changes.entries()) {
    if (change.table === undefined) continue
    if (needsRebuild(change, targets.get(names.final(change.table, i)), sources.get(names.initial(change.table, i)), context.from))
      rebuilt.add(change.table)
  }
  const steps: SqlStep[] = []
  let foreignKeysOff = false
  const step = (change: SchemaChange, statements: string[]) => steps.push({ statements, changes: [change], severity: change.severity })

  const isOwn = (c: SchemaChange, table: string) =>
    c.table === table && c.kind !== 'rename_table' && c.kind !== 'create_table' && c.kind !== 'drop_table'
  // a rebuild goes where the table's last change is: after its rename, if any
  const lastChange = new Map<string, number>()
  changes.forEach((c, i) => {
    if (c.table !== undefined && rebuilt.has(c.table) && isOwn(c, c.table)) lastChange.set(c.table, i)
  })
  for (const [i, change] of changes.entries()) {
    const table = change.table
    if (table !== undefined && rebuilt.has(table) && isOwn(change, table)) {
      if (lastChange.get(table) !== i) continue
      steps.push(
        rebuildStep(
          table,
          i,
          changes.filter((c) => isOwn(c, table)),
          names,
          context,
        ),
      )
      foreignKeysOff = true
      continue
    }
    const t = table !== undefined ? quoteIdentifier(table) : ''
    switch (change.kind) {
      case 'create_table': {
        const statements = [createTableSql(change.definition, 'sqlite', { withForeignKeys: true })]
        for (const index of change.definition.indexes) statements.push(createIndexSql(change.table, index, 'sqlite'))
        step(change, statements)
        break
      }
      case 'drop_table':
        // with foreign keys on, DROP TABLE deletes the rows first and may trip a child's key
        foreignKeysOff = true
        step(change, [`DROP TABLE ${t};`])
        break
      case 'rename_table':
        step(change, [`ALTER TABLE ${quoteIdentifier(change.from)} RENAME TO ${t};`])
        break
      case 'rename_column':
        step(change, [`ALTER TABLE ${t} RENAME COLUMN ${quoteIdentifier(change.from)} TO ${quoteIdentifier(change.to)};`])
        break
      case 'add_column':
        step(change, [`ALTER TABLE ${t} ADD COLUMN ${columnDefinition(change.column, 'sqlite')};`])
        break
      case 'drop_column':
        step(change, [`ALTER TABLE ${t} DROP COLUMN ${quoteIdentifier(change.column.name)};`])
        break
      case 'add_index':
        step(change, [createIndexSql(change.table, change.index, 'sqlite')])
        break
      case 'drop_index':
        step(change, [`DROP INDEX ${quoteIdentifier(change.index.name)};`])
        break
      case 'rename_index':
        step(change, [`DROP INDEX ${quoteIdentifier(change.from)};`, createIndexSql(change.table, change.index, 'sqlite')])
        break
      default:
        // enums do not exist on SQLite; the models give it CHECK constraints instead
        break
    }
  }
  return { steps, foreignKeysOff }
}

/** Where a table's name comes from and goes to, around position `i` of the changes. */
interface TableNames {
  final(name: string, after: number): string
  initial(name: string, before: number): string
}

function rebuildStep(
  table: string,
  at: number,
  own: SchemaChange[],
  names: TableNames,
  context: { from: DatabaseSchema; to: DatabaseSchema },
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
    createTableSql(target, 'sqlite', { name: `${REBUILD_PREFIX}${table}`, withForeignKeys: true }),
    `INSERT INTO ${temp} (${copied.map((c) => quoteIdentifier(c.name)).join(', ')})\n  SELECT ${copied.map((c) => quoteIdentifier(renames.get(c.name) ?? c.name)).join(', ')} FROM ${t};`,
    `DROP TABLE ${t};`,
    `ALTER TABLE ${temp} RENAME TO ${t};`,
    'PRAGMA legacy_alter_table = OFF;',
    ...target.indexes.map((index) => createIndexSql(table, index, 'sqlite')),
  ]
  // DROP TABLE took the table's triggers with it
  for (const trigger of context.from.unmanaged) {
    if (trigger.kind === 'trigger' && trigger.table === oldName && trigger.definition)
      statements.push(`${trigger.definition.trim().replace(/;?$/, ';')}`)
  }
  const severity = own.reduce((s, c) => worseSeverity(s, c.severity), 'safe' as SchemaChange['severity'])
  return { statements, changes: own, severity, note: `rebuild ${table} (SQLite cannot ALTER this)` }
}
