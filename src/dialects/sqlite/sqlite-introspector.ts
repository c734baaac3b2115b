/**
 * SQLite → normalised schema, in five queries for the whole file: `sqlite_schema`, and the
 * table-valued pragmas (`pragma_table_xinfo`, `pragma_foreign_key_list`,
 * `pragma_index_list`, `pragma_index_xinfo`) joined to it. What the pragmas cannot show
 * (check constraints, constraint names, AUTOINCREMENT, collations, the elements and
 * predicates of expression and partial indexes) comes from the `CREATE` text.
 */
import { sql } from 'kysely'
import { canonicalType } from '../../schema/column-type.js'
import {
  type ColumnSchema,
  type DatabaseSchema,
  type ForeignKeySchema,
  type IndexSchema,
  type ReferentialAction,
  type TableSchema,
  type UnmanagedObject,
  isInternalTable,
} from '../../schema/normalised-schema.js'
import { REBUILD_PREFIX } from '../../schema/render-sqlite-sql.js'
import type { DbConnection } from '../dialect.js'
import { parseCreateIndex, parseCreateTable } from './sqlite-create-parser.js'

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
interface IndexListRow {
  table_name: string
  name: string
  unique: number
  origin: string
  partial: number
}
interface IndexColumnRow {
  index_name: string
  seqno: number
  cid: number
  name: string | null
  desc: number
}

/** Tables dbops leaves out: SQLite's own, dbops' own, dbmate's, and a rebuild in progress. */
function isSkipped(name: string): boolean {
  return name.startsWith('sqlite_') || isInternalTable(name) || name.startsWith(REBUILD_PREFIX)
}

function action(value: string): ReferentialAction {
  const lower = value.toLowerCase()
  return lower === 'restrict' || lower === 'cascade' || lower === 'set null' || lower === 'set default' ? lower : 'no action'
}

/**
 * Reads the whole SQLite file into the normalised schema. Views and triggers are listed as
 * unmanaged (with their `CREATE` text, which a table rebuild needs to recreate triggers).
 */
export async function introspectSqlite(conn: DbConnection): Promise<DatabaseSchema> {
  const db = conn.db
  const tablesOnly = sql`m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`
  const [master, columnRows, fkRows, indexRows, indexColumnRows] = [
    (await sql<MasterRow>`SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid`.execute(db)).rows,
    (await sql<ColumnRow>`SELECT m.name AS table_name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
      FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p WHERE ${tablesOnly} ORDER BY m.name, p.cid`.execute(db)).rows,
    (await sql<ForeignKeyRow>`SELECT m.name AS table_name, p.id, p.seq, p."table", p."from", p."to", p.on_update, p.on_delete
      FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) p WHERE ${tablesOnly} ORDER BY m.name, p.id, p.seq`.execute(db)).rows,
    (await sql<IndexListRow>`SELECT m.name AS table_name, p.name, p."unique", p.origin, p.partial
      FROM sqlite_schema m JOIN pragma_index_list(m.name) p WHERE ${tablesOnly}`.execute(db)).rows,
    (await sql<IndexColumnRow>`SELECT il.name AS index_name, x.seqno, x.cid, x.name, x."desc"
      FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) x
      WHERE ${tablesOnly} AND x."key" = 1 AND il.origin <> 'c' ORDER BY il.name, x.seqno`.execute(db)).rows,
  ]

  const sqlOf = new Map(master.filter((m) => m.type === 'index' || m.type === 'table').map((m) => [`${m.type}:${m.name}`, m.sql]))
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
  const indexesByTable = group(indexRows)
  const indexColumns = new Map<string, IndexColumnRow[]>()
  for (const row of indexColumnRows) {
    const list = indexColumns.get(row.index_name)
    if (list) list.push(row)
    else indexColumns.set(row.index_name, [row])
  }
  const primaryKeys = new Map<string, string[]>()
  for (const [table, rows] of columnsByTable) {
    primaryKeys.set(table, rows.filter((r) => r.pk > 0).sort((a, b) => a.pk - b.pk).map((r) => r.name))
  }

  const tables: TableSchema[] = []
  for (const m of master) {
    if (m.type !== 'table' || isSkipped(m.name)) continue
    const parsed = parseCreateTable(m.sql ?? '')
    const parsedColumns = new Map(parsed.columns.map((c) => [c.name.toLowerCase(), c]))
    const rows = (columnsByTable.get(m.name) ?? []).filter((r) => r.hidden === 0) // generated columns are not managed
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
      ...tableConstraints.filter((c): c is Extract<typeof c, { kind: 'check' }> => c.kind === 'check').map((c) => ({ name: c.name, expression: c.expression })),
    ]

    const uniques: TableSchema['uniques'] = []
    const indexes: IndexSchema[] = []
    for (const il of indexesByTable.get(m.name) ?? []) {
      if (il.origin === 'pk') continue
      if (il.origin === 'u') {
        const cols = (indexColumns.get(il.name) ?? []).map((x) => x.name ?? '')
        const key = cols.join(',').toLowerCase()
        const named =
          tableConstraints.find((c) => c.kind === 'unique' && c.columns.join(',').toLowerCase() === key)?.name ??
          (cols.length === 1 ? parsedColumns.get(cols[0]!.toLowerCase())?.uniqueName : undefined)
        uniques.push({ name: named, columns: cols })
        continue
      }
      const text = sqlOf.get(`index:${il.name}`)
      const parsedIndex = text ? parseCreateIndex(text) : undefined
      if (!parsedIndex) continue
      indexes.push({
        name: il.name,
        unique: il.unique === 1,
        columns: parsedIndex.elements.map((e) => ({ kind: e.kind, value: e.kind === 'column' ? (rows.find((r) => r.name.toLowerCase() === e.value.toLowerCase())?.name ?? e.value) : e.value, descending: e.descending })),
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
    .filter((m) => (m.type === 'view' || m.type === 'trigger') && !isSkipped(m.tbl_name))
    .map((m) => ({
      kind: m.type as 'view' | 'trigger',
      name: m.name,
      ...(m.type === 'trigger' ? { table: m.tbl_name } : {}),
      ...(m.sql ? { definition: m.sql } : {}),
    }))
  return { dialect: 'sqlite', tables, enums: [], unmanaged }
}
