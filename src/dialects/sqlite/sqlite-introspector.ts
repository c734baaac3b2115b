/**
 * SQLite → normalised schema, in four queries for the whole file: `sqlite_schema`, and the
 * table-valued pragmas (`pragma_table_xinfo`, `pragma_foreign_key_list`,
 * `pragma_index_list`, `pragma_index_xinfo`) joined to it. What the pragmas cannot show
 * (check constraints, constraint names, AUTOINCREMENT, collations, the elements and
 * predicates of expression and partial indexes) comes from the `CREATE` text.
 */
import { sql } from '../../kysely-runtime.js'
import { canonicalType } from '../../sql/column-type.js'
import { isInternalTable } from '../../sql/internal-tables.js'
import type {
  ColumnSchema,
  DatabaseSchema,
  ForeignKeySchema,
  IndexSchema,
  ReferentialAction,
  TableSchema,
  UnmanagedObject,
} from '../../schema/normalised-schema.js'
import type { DbConnection, IntrospectOptions } from '../dialect.js'
import { parseCreateIndex, parseCreateTable } from './sqlite-create-parser.js'
import { REBUILD_PREFIX } from './sqlite-table-rebuild.js'

interface MasterRow {
  type: string
  name: string
  tbl_name: string
  sql: string | null
}
interface ColumnRow {
  table_name: string
  cid: number
  name: string
  type: string
  notnull: number
  dflt_value: string | null
  pk: number
  hidden: number
}
interface ForeignKeyRow {
  table_name: string
  id: number
  seq: number
  table: string
  from: string
  to: string | null
  on_update: string
  on_delete: string
}
interface IndexRow {
  table_name: string
  index_name: string
  unique: number
  origin: string
  partial: number
  seqno: number
  cid: number
  name: string | null
  desc: number
}

/** CREATE TABLE text that says something the pragmas do not (checks, names, AUTOINCREMENT, collations). */
const NEEDS_PARSING = /check|constraint|autoincrement|collate/i

/** Tables dbops leaves out: SQLite's own, dbops' own (`historyTable` too), dbmate's, and a rebuild in progress. */
function isSkipped(name: string, historyTable: string | undefined): boolean {
  return name.startsWith('sqlite_') || isInternalTable(name, historyTable) || name.startsWith(REBUILD_PREFIX)
}

function action(value: string): ReferentialAction {
  const lower = value.toLowerCase()
  return lower === 'restrict' || lower === 'cascade' || lower === 'set null' || lower === 'set default' ? lower : 'no action'
}

/**
 * Reads the whole SQLite file into the normalised schema, without dbops' own tables (the
 * history table `options.historyTable` too) and dbmate's. Views and triggers are listed as
 * unmanaged (with their `CREATE` text, which a table rebuild needs to recreate triggers).
 */
export async function introspectSqlite(conn: DbConnection, options: Pick<IntrospectOptions, 'historyTable'> = {}): Promise<DatabaseSchema> {
  const history = options.historyTable?.name
  const db = conn.db
  const tablesOnly = sql`m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`
  const [master, columnRows, fkRows, indexRows] = [
    (await sql<MasterRow>`SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid`.execute(db)).rows,
    (
      await sql<ColumnRow>`SELECT m.name AS table_name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
      FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p WHERE ${tablesOnly}`.execute(db)
    ).rows,
    (
      await sql<ForeignKeyRow>`SELECT m.name AS table_name, p.id, p.seq, p."table", p."from", p."to", p.on_update, p.on_delete
      FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) p WHERE ${tablesOnly}`.execute(db)
    ).rows,
    (
      await sql<IndexRow>`SELECT m.name AS table_name, il.name AS index_name, il."unique", il.origin, il.partial, x.seqno, x.cid, x.name, x."desc"
      FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) x
      WHERE ${tablesOnly} AND x."key" = 1`.execute(db)
    ).rows,
  ]

  const indexSql = new Map<string, string | null>()
  for (const m of master) if (m.type === 'index') indexSql.set(m.name, m.sql)
  const group = <R extends { table_name: string }>(rows: R[]) => {
    const map = new Map<string, R[]>()
    for (const row of rows) {
      const list = map.get(row.table_name)
      if (list) list.push(row)
      else map.set(row.table_name, [row])
    }
    return map
  }
  const columnsByTable = group(columnRows)
  const fksByTable = group(fkRows)
  // one row per index column; rows of an index are adjacent, in seqno order
  const indexesByTable = new Map<string, Array<{ first: IndexRow; columns: IndexRow[] }>>()
  for (const row of indexRows) {
    const list = indexesByTable.get(row.table_name) ?? []
    if (list.length === 0) indexesByTable.set(row.table_name, list)
    const last = list[list.length - 1]
    if (last && last.first.index_name === row.index_name) last.columns.push(row)
    else list.push({ first: row, columns: [row] })
  }
  for (const list of indexesByTable.values()) for (const index of list) index.columns.sort((a, b) => a.seqno - b.seqno)
  const primaryKeys = new Map<string, string[]>()
  for (const [table, rows] of columnsByTable) {
    rows.sort((a, b) => a.cid - b.cid)
    primaryKeys.set(
      table,
      rows
        .filter((r) => r.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((r) => r.name),
    )
  }

  const tables: TableSchema[] = []
  for (const m of master) {
    if (m.type !== 'table' || isSkipped(m.name, history)) continue
    // the CREATE text only for what the pragmas cannot show
    const parsed = m.sql !== null && NEEDS_PARSING.test(m.sql) ? parseCreateTable(m.sql) : { columns: [], constraints: [] }
    const parsedColumns = new Map(parsed.columns.map((c) => [c.name.toLowerCase(), c]))
    const all = columnsByTable.get(m.name) ?? []
    const rows = all.some((r) => r.hidden !== 0) ? all.filter((r) => r.hidden === 0) : all // generated columns are not managed
    const primaryKey = primaryKeys.get(m.name) ?? []
    const tableConstraints = parsed.constraints

    const columns: ColumnSchema[] = rows.map((r) => {
      const p = parsedColumns.get(r.name.toLowerCase())
      const isPk = r.pk > 0
      return {
        name: r.name,
        type: canonicalType(r.type),
        nullable: r.notnull === 0 && !isPk,
        default: r.dflt_value ?? undefined,
        generated: p?.autoincrement ? 'autoincrement' : undefined,
        collation: p?.collation && p.collation !== 'binary' ? p.collation : undefined,
      }
    })

    const checks = [
      ...parsed.columns.flatMap((c) => c.checks),
      ...tableConstraints
        .filter((c): c is Extract<typeof c, { kind: 'check' }> => c.kind === 'check')
        .map((c) => ({ name: c.name, expression: c.expression })),
    ]

    const uniques: TableSchema['uniques'] = []
    const indexes: IndexSchema[] = []
    for (const { first: il, columns: parts } of indexesByTable.get(m.name) ?? []) {
      if (il.origin === 'pk') continue
      if (il.origin === 'u') {
        const cols = parts.map((x) => x.name ?? '')
        const key = cols.join(',').toLowerCase()
        const named =
          tableConstraints.find((c) => c.kind === 'unique' && c.columns.join(',').toLowerCase() === key)?.name ??
          (cols.length === 1 ? parsedColumns.get(cols[0]!.toLowerCase())?.uniqueName : undefined)
        uniques.push({ name: named, columns: cols })
        continue
      }
      const plain = il.partial === 0 && parts.every((x) => x.cid >= 0)
      if (plain) {
        indexes.push({
          name: il.index_name,
          unique: il.unique === 1,
          columns: parts.map((x) => ({ kind: 'column', value: x.name ?? '', descending: x.desc === 1 })),
          where: undefined,
          method: undefined,
        })
        continue
      }
      // expressions and predicates are only in the CREATE INDEX text
      const text = indexSql.get(il.index_name)
      const parsedIndex = text ? parseCreateIndex(text) : undefined
      if (!parsedIndex) continue
      indexes.push({
        name: il.index_name,
        unique: il.unique === 1,
        columns: parsedIndex.elements.map((e) => ({
          kind: e.kind,
          value: e.kind === 'column' ? (rows.find((r) => r.name.toLowerCase() === e.value.toLowerCase())?.name ?? e.value) : e.value,
          descending: e.descending,
        })),
        where: parsedIndex.where,
        method: undefined,
      })
    }

    const foreignKeys: ForeignKeySchema[] = []
    const fkGroups = new Map<number, ForeignKeyRow[]>()
    for (const row of fksByTable.get(m.name) ?? []) {
      const list = fkGroups.get(row.id)
      if (list) list.push(row)
      else fkGroups.set(row.id, [row])
    }
    // pragma_foreign_key_list numbers keys from the last declared; list them as declared
    for (const id of [...fkGroups.keys()].sort((a, b) => b - a)) {
      const parts = fkGroups.get(id)!.sort((a, b) => a.seq - b.seq)
      const first = parts[0]!
      const cols = parts.map((p) => p.from)
      const refColumns = parts.every((p) => p.to !== null) ? parts.map((p) => p.to!) : (primaryKeys.get(first.table) ?? [])
      const key = cols.join(',').toLowerCase()
      const name =
        tableConstraints.find((c) => c.kind === 'foreign' && c.columns.join(',').toLowerCase() === key)?.name ??
        (cols.length === 1 ? parsedColumns.get(cols[0]!.toLowerCase())?.foreignKeyName : undefined)
      foreignKeys.push({
        name,
        columns: cols,
        referencedTable: first.table,
        referencedColumns: refColumns,
        onDelete: action(first.on_delete),
        onUpdate: action(first.on_update),
      })
    }

    const pkName = tableConstraints.find((c) => c.kind === 'primary')?.name ?? parsed.columns.find((c) => c.primaryKeyName)?.primaryKeyName
    tables.push({ name: m.name, columns, primaryKey, primaryKeyName: pkName, indexes, uniques, checks, foreignKeys })
  }

  const unmanaged: UnmanagedObject[] = master
    .filter((m) => (m.type === 'view' || m.type === 'trigger') && !isSkipped(m.tbl_name, history))
    .map((m) => ({
      kind: m.type as 'view' | 'trigger',
      name: m.name,
      ...(m.type === 'trigger' ? { table: m.tbl_name } : {}),
      ...(m.sql ? { definition: m.sql } : {}),
    }))
  return { dialect: 'sqlite', tables, enums: [], unmanaged }
}
