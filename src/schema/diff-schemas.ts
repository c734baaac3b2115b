/**
 * The diff engine: pure, schemas in, ordered changes out. `diffSchemas(from, to)` lists
 * what turns `from` (usually the database) into `to` (usually the models), in an order that
 * can be applied (see `CHANGE_ORDER`).
 *
 * Objects are matched by what they are, not what they are called: unique constraints by
 * their columns, checks by their canonical expression, foreign keys by columns, target and
 * actions; indexes by name, then by definition (a rename). Names are kept for the SQL that
 * drops them. Renames are never guessed: a table or column is renamed when the models
 * declare `renamedFrom` or a rename decision says so (`--rename users.name=full_name`); a
 * drop and an add that look like a rename carry a warning instead.
 *
 * Tables and enums are matched by (schema, name), so `app.users` and `users` are two tables;
 * a rename stays within its schema. Each change carries the schema of its table or enum.
 */
import { inSchema, qualifiedName } from '../sql/qualified-name.js'
import { canonicalExpression, sameExpression } from './canonical-expression.js'
import { canonicalType, parseColumnType } from '../sql/column-type.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, TableSchema } from './normalised-schema.js'
import { CHANGE_ORDER, type ChangeWithoutSeverity, type ColumnAspect, type SchemaChange, checkKey, withSeverity } from './schema-change.js'
import { UsageError } from '../errors.js'

/** A decision about a rename: `--rename people=users` (table) or `--rename users.name=full_name` (column). */
export type RenameDecision = { kind: 'table'; from: string; to: string } | { kind: 'column'; table: string; from: string; to: string }

/** Options of {@link diffSchemas}. */
export interface DiffOptions {
  /** Renames decided outside the models (`--rename`); they win over guesses. */
  renames?: readonly RenameDecision[]
}

/**
 * Parses a `--rename` value: `old=new` renames a table, `table.old=new` a column of `table`
 * (the table's name in the models).
 *
 * @example
 * parseRenameDecision('users.name=full_name') // { kind: 'column', table: 'users', from: 'name', to: 'full_name' }
 */
export function parseRenameDecision(text: string): RenameDecision {
  const match = /^\s*(?:([^.=\s]+)\.)?([^.=\s]+)\s*=\s*([^.=\s]+)\s*$/.exec(text)
  if (!match) {
    throw new UsageError(`--rename ${text}: expected old=new (a table) or table.old=new (a column)`, {
      code: 'RENAME_INVALID',
      hint: 'Example: --rename users.name=full_name',
    })
  }
  return match[1] ? { kind: 'column', table: match[1], from: match[2]!, to: match[3]! } : { kind: 'table', from: match[2]!, to: match[3]! }
}

/**
 * Lists the changes that turn `from` into `to`, ordered so they can be applied one after
 * the other. An unchanged schema gives `[]`, whatever each dialect calls its types and
 * however it spells its expressions.
 *
 * @example
 * const changes = diffSchemas(await introspect(conn), modelsToSchema(models, 'postgres'))
 * for (const change of changes) console.log(change.severity, summariseChange(change))
 */
export function diffSchemas(from: DatabaseSchema, to: DatabaseSchema, options: DiffOptions = {}): SchemaChange[] {
  const changes: ChangeWithoutSeverity[] = []
  const decisions = options.renames ?? []

  // ---- enums (PostgreSQL) ----
  const enumKey = (e: { schema?: string | undefined; name: string }) => qualifiedName(e.schema, e.name)
  const fromEnums = new Map(from.enums.map((e) => [enumKey(e), e]))
  const toEnums = new Map(to.enums.map((e) => [enumKey(e), e]))
  for (const e of to.enums) {
    const before = fromEnums.get(enumKey(e))
    if (!before) changes.push({ kind: 'create_enum', enum: e, ...inSchema(e.schema) })
    else if (before.values.join('\u0000') !== e.values.join('\u0000'))
      changes.push({ kind: 'alter_enum', name: e.name, ...inSchema(e.schema), from: before.values, to: e.values })
  }
  for (const e of from.enums) if (!toEnums.has(enumKey(e))) changes.push({ kind: 'drop_enum', enum: e, ...inSchema(e.schema) })

  // ---- tables: match by name, then by declared rename ----
  const fromTables = new Map(from.tables.map((t) => [tableKey(t), t]))
  const toNames = new Set(to.tables.map(tableKey))
  const pairs: Array<[TableSchema, TableSchema]> = []
  const created: TableSchema[] = []
  const matchedFrom = new Set<string>()
  for (const t of to.tables) {
    const same = fromTables.get(tableKey(t))
    if (same) {
      pairs.push([same, t])
      matchedFrom.add(tableKey(same))
    }
  }
  for (const t of to.tables) {
    if (fromTables.has(tableKey(t))) continue
    const candidates = [...decisions.filter((d) => d.kind === 'table' && d.to === t.name).map((d) => d.from), ...(t.renamedFrom ?? [])]
    const old = candidates
      .map((name) => qualifiedName(t.schema, name))
      .find((key) => fromTables.has(key) && !matchedFrom.has(key) && !toNames.has(key))
    if (old) {
      const before = fromTables.get(old)!
      changes.push({ kind: 'rename_table', table: t.name, ...inSchema(t.schema), from: before.name })
      pairs.push([before, t])
      matchedFrom.add(old)
    } else {
      created.push(t)
    }
  }
  const dropped = from.tables.filter((t) => !matchedFrom.has(tableKey(t)))
  const tableRenames = new Map<string, string>() // old qualified name → new one
  for (const [a, b] of pairs) if (a.name !== b.name) tableRenames.set(tableKey(a), tableKey(b))

  // likely table renames: a dropped and a created table with the same columns
  const warned = new Map<string, string>()
  for (const d of dropped) {
    const twin = created.find((c) => !warned.has(tableKey(c)) && c.schema === d.schema && columnShape(c) === columnShape(d))
    if (!twin) continue
    const hint = `looks like a rename of ${tableKey(d)} to ${tableKey(twin)}; declare renamedFrom: '${d.name}' on ${twin.name} or pass --rename ${d.name}=${twin.name}`
    warned.set(tableKey(d), hint)
    warned.set(tableKey(twin), hint)
  }
  const warningOf = (t: TableSchema) => (warned.has(tableKey(t)) ? { warning: warned.get(tableKey(t)) } : {})
  for (const t of created) changes.push({ kind: 'create_table', table: t.name, ...inSchema(t.schema), definition: t, ...warningOf(t) })
  for (const d of orderDrops(dropped))
    changes.push({ kind: 'drop_table', table: d.name, ...inSchema(d.schema), definition: d, ...warningOf(d) })

  for (const [a, b] of pairs) {
    const first = changes.length
    diffTable(a, b, decisions, tableRenames, changes)
    if (b.schema !== undefined) for (let i = first; i < changes.length; i++) changes[i]!.schema = b.schema
  }

  // stable order by kind; within a kind, the order found (tables in model order)
  const rank = new Map(CHANGE_ORDER.map((kind, i) => [kind, i]))
  return changes
    .map((change, i) => ({ change, i }))
    .sort((x, y) => rank.get(x.change.kind)! - rank.get(y.change.kind)! || x.i - y.i)
    .map(({ change }) => withSeverity(change))
}

/** What tables are matched by: `app.users`, or `users` in the default schema. */
function tableKey(t: TableSchema): string {
  return qualifiedName(t.schema, t.name)
}

/** The table a foreign key points at, as {@link tableKey} names it. */
function referencedKey(fk: ForeignKeySchema): string {
  return qualifiedName(fk.referencedSchema, fk.referencedTable)
}

/** Column names and types of a table, as one string, to spot a likely rename. */
function columnShape(t: TableSchema): string {
  return t.columns
    .map((c) => `${c.name}:${canonicalType(c.type)}`)
    .sort()
    .join(',')
}

/** Dropped tables, children first, so a foreign key never points at a table already gone. */
function orderDrops(tables: TableSchema[]): TableSchema[] {
  const done = new Set<string>()
  const out: TableSchema[] = []
  const visiting = new Set<string>()
  const referrers = (key: string) => tables.filter((t) => tableKey(t) !== key && t.foreignKeys.some((fk) => referencedKey(fk) === key))
  const visit = (t: TableSchema) => {
    const key = tableKey(t)
    if (done.has(key) || visiting.has(key)) return
    visiting.add(key)
    for (const child of referrers(key)) visit(child)
    visiting.delete(key)
    done.add(key)
    out.push(t)
  }
  for (const t of tables) visit(t)
  return out
}

/**
 * Whether two tables are equal in everything the diff compares, spelled the same (names of
 * constraints aside). The common "nothing changed" case then costs no canonicalisation.
 */
function isSameTable(a: TableSchema, b: TableSchema): boolean {
  if (a.columns.length !== b.columns.length || a.primaryKey.length !== b.primaryKey.length) return false
  if (a.indexes.length !== b.indexes.length || a.uniques.length !== b.uniques.length) return false
  if (a.checks.length !== b.checks.length || a.foreignKeys.length !== b.foreignKeys.length) return false
  const sameList = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i])
  for (let i = 0; i < a.columns.length; i++) {
    const x = a.columns[i]!
    const y = b.columns[i]!
    if (
      x.name !== y.name ||
      x.type !== y.type ||
      x.nullable !== y.nullable ||
      x.default !== y.default ||
      x.generated !== y.generated ||
      x.collation !== y.collation
    )
      return false
  }
  if (!sameList(a.primaryKey, b.primaryKey)) return false
  for (let i = 0; i < a.uniques.length; i++) if (!sameList(a.uniques[i]!.columns, b.uniques[i]!.columns)) return false
  for (let i = 0; i < a.checks.length; i++) if (a.checks[i]!.expression !== b.checks[i]!.expression) return false
  for (let i = 0; i < a.foreignKeys.length; i++) {
    const x = a.foreignKeys[i]!
    const y = b.foreignKeys[i]!
    if (
      x.referencedTable !== y.referencedTable ||
      x.referencedSchema !== y.referencedSchema ||
      x.onDelete !== y.onDelete ||
      x.onUpdate !== y.onUpdate ||
      !sameList(x.columns, y.columns) ||
      !sameList(x.referencedColumns, y.referencedColumns)
    )
      return false
  }
  for (let i = 0; i < a.indexes.length; i++) {
    const x = a.indexes[i]!
    const y = b.indexes[i]!
    if (x.name !== y.name || x.unique !== y.unique || x.where !== y.where || x.method !== y.method || x.columns.length !== y.columns.length)
      return false
    for (let k = 0; k < x.columns.length; k++) {
      const e = x.columns[k]!
      const f = y.columns[k]!
      if (e.kind !== f.kind || e.value !== f.value || e.descending !== f.descending) return false
    }
  }
  return true
}

function diffTable(
  a: TableSchema,
  b: TableSchema,
  decisions: readonly RenameDecision[],
  tableRenames: Map<string, string>,
  changes: ChangeWithoutSeverity[],
): void {
  if (a.name === b.name && isSameTable(a, b)) return
  // the caller sets each change's schema (the table's)
  const table = b.name
  const fromColumns = new Map(a.columns.map((c) => [c.name, c]))
  const toNames = new Set(b.columns.map((c) => c.name))
  const columnRenames = new Map<string, string>() // old → new
  const matched = new Set<string>()
  const added: ColumnSchema[] = []

  for (const c of b.columns) {
    const same = fromColumns.get(c.name)
    if (same) {
      matched.add(same.name)
      diffColumn(table, same, c, changes)
    }
  }
  for (const c of b.columns) {
    if (fromColumns.has(c.name)) continue
    const candidates = [
      ...decisions.filter((d) => d.kind === 'column' && (d.table === table || d.table === a.name) && d.to === c.name).map((d) => d.from),
      ...(c.renamedFrom ?? []),
    ]
    const old = candidates.find((name) => fromColumns.has(name) && !matched.has(name) && !toNames.has(name))
    if (old) {
      matched.add(old)
      columnRenames.set(old, c.name)
      changes.push({ kind: 'rename_column', table, from: old, to: c.name })
      diffColumn(table, fromColumns.get(old)!, c, changes)
    } else {
      added.push(c)
    }
  }
  const removed = a.columns.filter((c) => !matched.has(c.name))
  const warnings = new Map<string, string>()
  for (const r of removed) {
    const twin = added.find((c) => canonicalType(c.type) === canonicalType(r.type) && !warnings.has(c.name))
    if (twin) {
      const hint = `looks like a rename of ${table}.${r.name} to ${twin.name}; declare .renamedFrom('${r.name}') on ${twin.name} or pass --rename ${table}.${r.name}=${twin.name}`
      warnings.set(r.name, hint)
      warnings.set(twin.name, hint)
    }
  }
  for (const c of added)
    changes.push({ kind: 'add_column', table, column: c, ...(warnings.has(c.name) ? { warning: warnings.get(c.name) } : {}) })
  for (const c of removed)
    changes.push({ kind: 'drop_column', table, column: c, ...(warnings.has(c.name) ? { warning: warnings.get(c.name) } : {}) })

  const col = (name: string) => columnRenames.get(name) ?? name
  const tbl = (name: string) => tableRenames.get(name) ?? name
  const removedNames = new Set(removed.map((c) => c.name))
  const touchesRemoved = (cols: string[]) => cols.some((c) => removedNames.has(c))

  // primary key
  const fromPk = a.primaryKey.map(col)
  if (fromPk.join(',') !== b.primaryKey.join(',')) {
    changes.push({ kind: 'alter_primary_key', table, from: fromPk, to: b.primaryKey, fromName: a.primaryKeyName, toName: b.primaryKeyName })
  }

  // unique constraints, by columns
  const uniqueKey = (cols: string[]) => cols.join(',')
  const fromUniques = new Map(a.uniques.map((u) => [uniqueKey(u.columns.map(col)), u]))
  const toUniques = new Map(b.uniques.map((u) => [uniqueKey(u.columns), u]))
  for (const [key, u] of toUniques) if (!fromUniques.has(key)) changes.push({ kind: 'add_unique', table, unique: u })
  for (const [key, u] of fromUniques) {
    // a constraint on a dropped column goes with the column
    if (!toUniques.has(key) && !touchesRemoved(u.columns)) changes.push({ kind: 'drop_unique', table, unique: u })
  }

  // checks, by canonical expression
  const fromChecks = new Map(a.checks.map((c) => [checkKey(c), c]))
  const toChecks = new Map(b.checks.map((c) => [checkKey(c), c]))
  for (const [key, c] of toChecks) if (!fromChecks.has(key)) changes.push({ kind: 'add_check', table, check: c })
  for (const [key, c] of fromChecks) if (!toChecks.has(key)) changes.push({ kind: 'drop_check', table, check: c })

  // foreign keys, by columns, target and actions
  const fkKey = (fk: ForeignKeySchema, mapCols: (c: string) => string, mapTable: (t: string) => string) =>
    `${fk.columns.map(mapCols).join(',')}>${mapTable(referencedKey(fk))}(${fk.referencedColumns.join(',')})|${fk.onDelete}|${fk.onUpdate}`
  const fromFks = new Map(a.foreignKeys.map((fk) => [fkKey(fk, col, tbl), fk]))
  const toFks = new Map(
    b.foreignKeys.map((fk) => [
      fkKey(
        fk,
        (c) => c,
        (t) => t,
      ),
      fk,
    ]),
  )
  for (const [key, fk] of toFks) if (!fromFks.has(key)) changes.push({ kind: 'add_foreign_key', table, foreignKey: fk })
  for (const [key, fk] of fromFks)
    if (!toFks.has(key) && !touchesRemoved(fk.columns)) changes.push({ kind: 'drop_foreign_key', table, foreignKey: fk })

  // indexes: by name, then by definition (a rename)
  const indexKey = (index: IndexSchema, mapCols: (c: string) => string) =>
    [
      index.unique ? 'u' : '',
      index.method ?? 'btree',
      index.columns
        .map((e) => `${e.kind === 'column' ? mapCols(e.value) : `(${canonicalExpression(e.value)})`}${e.descending ? ' desc' : ''}`)
        .join(','),
      index.where === undefined ? '' : canonicalExpression(index.where),
    ].join('|')
  const fromIndexes = new Map(a.indexes.map((i) => [i.name, i]))
  const toIndexes = new Map(b.indexes.map((i) => [i.name, i]))
  const unmatchedFrom = new Map<string, IndexSchema>()
  const unmatchedTo: IndexSchema[] = []
  for (const index of a.indexes) {
    const twin = toIndexes.get(index.name)
    if (twin && indexKey(index, col) === indexKey(twin, (c) => c)) continue
    if (twin) {
      changes.push({ kind: 'drop_index', table, index })
      changes.push({ kind: 'add_index', table, index: twin })
      continue
    }
    unmatchedFrom.set(indexKey(index, col), index)
  }
  for (const index of b.indexes) if (!fromIndexes.has(index.name)) unmatchedTo.push(index)
  for (const index of unmatchedTo) {
    const key = indexKey(index, (c) => c)
    const old = unmatchedFrom.get(key)
    if (old) {
      unmatchedFrom.delete(key)
      changes.push({ kind: 'rename_index', table, from: old.name, to: index.name, index })
    } else {
      changes.push({ kind: 'add_index', table, index })
    }
  }
  for (const index of unmatchedFrom.values()) {
    const onRemoved = index.columns.some((e) => e.kind === 'column' && removedNames.has(e.value))
    if (!onRemoved) changes.push({ kind: 'drop_index', table, index })
  }
}

function diffColumn(table: string, a: ColumnSchema, b: ColumnSchema, changes: ChangeWithoutSeverity[]): void {
  const aspects: ColumnAspect[] = []
  if (a.type !== b.type && canonicalType(a.type) !== canonicalType(b.type)) aspects.push('type')
  if (a.nullable !== b.nullable) aspects.push('nullable')
  if ((a.generated ?? undefined) !== (b.generated ?? undefined)) aspects.push('generated')
  if (!a.generated && !b.generated && !sameDefault(a.default, b.default, b.type)) aspects.push('default')
  if ((a.collation ?? '').toLowerCase() !== (b.collation ?? '').toLowerCase()) aspects.push('collation')
  if (aspects.length > 0) changes.push({ kind: 'alter_column', table, column: b.name, from: a, to: b, aspects })
}

/** Defaults compare in canonical form; on boolean columns `1`/`0` are `true`/`false`; `NULL` is no default. */
export function sameDefault(a: string | undefined, b: string | undefined, type: string): boolean {
  const norm = (value: string | undefined) => {
    if (value === undefined) return undefined
    const canonical = canonicalExpression(value)
    if (canonical === 'null') return undefined
    if (parseColumnType(type).logical === 'boolean') {
      if (canonical === '1' || canonical === "'1'" || canonical === "'t'" || canonical === "'true'") return 'true'
      if (canonical === '0' || canonical === "'0'" || canonical === "'f'" || canonical === "'false'") return 'false'
    }
    return canonical
  }
  return a === b || norm(a) === norm(b) || (a !== undefined && b !== undefined && sameExpression(a, b))
}
