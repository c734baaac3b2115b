/**
 * What a copy creates: each source table in the target dialect (types by the mapping in
 * `dialects/copy-types.ts`, the models' types where a models file is configured, defaults
 * translated, identities where the source generates keys), in foreign-key order, with a
 * converter per column and the list of what is left out.
 */
import type { ColumnProfile, CopyReader, NotCopied, TargetTable } from '../dialects/copy-port.js'
import { copyColumnType, copyDefault, needsProfile } from '../dialects/copy-types.js'
import type { DialectName, DialectTraits } from '../dialects/dialect.js'
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../schema/normalised-schema.js'
import { isIntegerType, parseColumnType } from '../sql/column-type.js'
import { UsageError } from '../errors.js'
import { type Converter, converterFor } from './convert-value.js'

/** One table of the copy. */
export interface TablePlan extends TargetTable {
  source: TableSchema
  /** The target's columns, in the order rows are read and written. */
  columns: ColumnSchema[]
  converters: Converter[]
  /** Logical types of `columns`, for the canonical text. */
  logicalTypes: Array<string | undefined>
  /** Columns naming a row in messages (the primary key), as indexes into `columns`. */
  keyColumns: number[]
}

/** Options of {@link planCopy}. */
export interface PlanOptions {
  from: DialectTraits
  to: DialectTraits
  /** Only these tables (names as in the source). */
  tables?: readonly string[] | undefined
  excludeTables?: readonly string[] | undefined
  /** The models as the target dialect sees them, when a models file is configured. */
  models?: DatabaseSchema | undefined
  /** The target's tables already there (`--truncate`): loaded into as they are. */
  existing?: DatabaseSchema | undefined
  /** NaN can be stored in the target's float columns. */
  storesNaN: boolean
}

/** The tables of the copy in foreign-key order, and what is not copied. */
export interface CopyPlan {
  tables: TablePlan[]
  notCopied: NotCopied[]
}

/** Plans the copy of `reader`'s schema (reading profiles where the declared types do not say). */
export async function planCopy(reader: CopyReader, options: PlanOptions): Promise<CopyPlan> {
  const source = reader.schema
  const notCopied: NotCopied[] = reader.notCopied()
  const names = new Set(source.tables.map((t) => t.name))
  for (const name of [...(options.tables ?? []), ...(options.excludeTables ?? [])])
    if (!names.has(name))
      throw new UsageError(`table ${name} is not in the source`, {
        code: 'COPY_UNKNOWN_TABLE',
        hint: `Tables: ${[...names].join(', ') || 'none'}.`,
      })
  const chosen = source.tables.filter(
    (t) =>
      (options.tables === undefined || options.tables.length === 0 || options.tables.includes(t.name)) &&
      !options.excludeTables?.includes(t.name),
  )
  const chosenNames = new Set(chosen.map((t) => t.name))
  const plans: TablePlan[] = []
  for (const table of orderByForeignKeys(chosen)) {
    const existing = options.existing?.tables.find((t) => t.name === table.name && t.schema === undefined)
    const profiled = table.columns.filter((c) => needsProfile(options.from.name, c.type))
    const profiles = profiled.length > 0 ? await reader.profile(table, profiled) : new Map<string, ColumnProfile>()
    const target = existing ?? translateTable(table, options, profiles, chosenNames, notCopied)
    const columns: ColumnSchema[] = []
    for (const c of table.columns) {
      const column = target.columns.find((t) => t.name === c.name)
      if (column) columns.push(column)
      else notCopied.push({ kind: 'other', name: `${table.name}.${c.name}`, reason: 'the target table has no such column' })
    }
    plans.push({
      source: table,
      table: target,
      existing: existing !== undefined,
      columns,
      converters: columns.map((c) => converterFor(c.type, { nan: options.storesNaN })),
      logicalTypes: columns.map((c) => parseColumnType(c.type).logical),
      keyColumns: table.primaryKey.map((k) => columns.findIndex((c) => c.name === k)).filter((i) => i >= 0),
    })
  }
  return { tables: plans, notCopied }
}

function translateTable(
  table: TableSchema,
  options: PlanOptions,
  profiles: Map<string, ColumnProfile>,
  chosen: Set<string>,
  notCopied: NotCopied[],
): TableSchema {
  const from: DialectName = options.from.name
  const to: DialectName = options.to.name
  const model = options.models?.tables.find((t) => t.name === table.name)
  const single = table.primaryKey.length === 1 ? table.primaryKey[0] : undefined
  const columns = table.columns.map((c): ColumnSchema => {
    let type = model?.columns.find((m) => m.name === c.name)?.type ?? copyColumnType(from, to, c.type, profiles.get(c.name))
    let generated = c.generated
    const isKey = c.name === single
    // SQLite's rowid alias generates its values; so does AUTOINCREMENT
    if (options.from.schemaTraits.rowidPrimaryKey && isKey && isIntegerType(c.type) && !options.to.schemaTraits.rowidPrimaryKey)
      generated = 'identity'
    if (generated === 'autoincrement' && !options.to.schemaTraits.rowidPrimaryKey) generated = 'identity'
    if (options.to.schemaTraits.rowidPrimaryKey && generated !== undefined && generated !== 'autoincrement') {
      generated = undefined
      if (isKey) type = 'integer'
    }
    let defaultValue =
      c.default === undefined || generated !== undefined
        ? undefined
        : copyDefault(from, to, c.default, parseColumnType(type).logical ?? type)
    if (c.default !== undefined && generated === undefined && defaultValue === undefined && c.default.trim().toLowerCase() !== 'null')
      notCopied.push({ kind: 'default', name: `${table.name}.${c.name}`, reason: `${c.default} has no equivalent in the target` })
    const collation = from === to ? c.collation : undefined
    if (c.collation !== undefined && collation === undefined)
      notCopied.push({ kind: 'other', name: `${table.name}.${c.name}`, reason: `collation ${c.collation} is not copied` })
    if (generated !== undefined) defaultValue = undefined
    return { name: c.name, type, nullable: c.nullable, default: defaultValue, generated, collation }
  })
  const foreignKeys = table.foreignKeys.filter((fk) => {
    if (chosen.has(fk.referencedTable) && fk.referencedSchema === undefined) return true
    notCopied.push({
      kind: 'foreign_key',
      name: `${table.name}(${fk.columns.join(', ')})`,
      reason: `references ${fk.referencedTable}, which is not copied`,
    })
    return false
  })
  return {
    name: table.name,
    columns,
    primaryKey: table.primaryKey,
    primaryKeyName: from === to ? table.primaryKeyName : undefined,
    indexes: table.indexes,
    uniques: table.uniques,
    checks: table.checks,
    foreignKeys,
  }
}

/** Parents before children (a cycle, or a self reference, keeps the source order). */
function orderByForeignKeys(tables: TableSchema[]): TableSchema[] {
  const byName = new Map(tables.map((t) => [t.name, t]))
  const ordered: TableSchema[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (t: TableSchema) => {
    if (state.has(t.name)) return
    state.set(t.name, 'visiting')
    for (const fk of t.foreignKeys) {
      const parent = byName.get(fk.referencedTable)
      if (parent && parent !== t) visit(parent)
    }
    state.set(t.name, 'done')
    ordered.push(t)
  }
  for (const t of tables) visit(t)
  return ordered
}
