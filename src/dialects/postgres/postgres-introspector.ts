/**
 * PostgreSQL → normalised schema, in four catalog queries for all the compared schemas (never
 * one per table or per schema), on one pinned connection: columns, constraints, indexes, and one for enum types,
 * sequences and the objects dbops does not manage (views, functions, triggers, other types).
 * Check and index expressions come back deparsed by PostgreSQL (`pg_get_expr`,
 * `pg_get_indexdef`, only where there is an expression); the diff compares them in canonical
 * form.
 */
import { inSchema, qualifiedName } from '../../sql/qualified-name.js'
import { type Kysely, sql } from '../../kysely-runtime.js'
import { canonicalType } from '../../sql/column-type.js'
import { isInternalTable } from '../../sql/internal-tables.js'
import type {
  ColumnSchema,
  DatabaseSchema,
  EnumSchema,
  ReferentialAction,
  TableSchema,
  UnmanagedObject,
} from '../../schema/normalised-schema.js'
import type { DbConnection, IntrospectOptions } from '../dialect.js'

interface ColumnRow {
  table_oid: string
  table_schema: string
  table_name: string
  attnum: number
  name: string
  type: string
  typtype: string
  typname: string
  type_schema: string
  notnull: boolean
  default_expr: string | null
  identity: string
  collation: string | null
}
interface ConstraintRow {
  table_oid: string
  name: string
  type: 'p' | 'u' | 'c' | 'f'
  conkey: string | null
  confkey: string | null
  ref_table: string | null
  ref_schema: string | null
  ref_columns: string[] | null
  on_delete: string
  on_update: string
  check_expr: string | null
  index_oid: string
}
interface IndexRow {
  table_oid: string
  index_oid: string
  name: string
  unique: boolean
  method: string
  indkey: string
  indoption: string
  /** Deparsed elements, only for indexes with expressions (plain columns come from indkey). */
  elements: string[] | null
  key_count: number
  predicate: string | null
}
interface ObjectRow {
  kind: 'enum' | 'sequence' | UnmanagedObject['kind']
  schema: string
  name: string
  table_name: string | null
  owner_oid: string | null
  owner_attnum: number | null
  deptype: string | null
  labels: string[] | null
}

const ACTIONS: Record<string, ReferentialAction> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' }

async function runQueries(db: Kysely<any>, schemas: readonly string[]) {
  const inSchemas = (column: string) => sql`${sql.ref(column)} = ANY(${[...schemas]}::text[])`
  const columns = await sql<ColumnRow>`
    SELECT c.oid::text AS table_oid, n.nspname AS table_schema, c.relname AS table_name, a.attnum, a.attname AS name,
           format_type(a.atttypid, a.atttypmod) AS type, t.typtype, t.typname, tn.nspname AS type_schema,
           a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity AS identity,
           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_namespace tn ON tn.oid = t.typnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE ${inSchemas('n.nspname')} AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attgenerated = ''
     ORDER BY n.nspname, c.relname, a.attnum`.execute(db)
  const constraints = await sql<ConstraintRow>`
    SELECT con.conrelid::text AS table_oid, con.conname AS name, con.contype AS type,
           con.conkey::text AS conkey, con.confkey::text AS confkey,
           fc.relname AS ref_table, fn.nspname AS ref_schema,
           CASE WHEN con.contype = 'f' THEN ARRAY(
             SELECT fa.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.attnum ORDER BY k.ord) END AS ref_columns,
           con.confdeltype AS on_delete, con.confupdtype AS on_update,
           CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid, true) END AS check_expr,
           con.conindid::text AS index_oid
      FROM pg_constraint con
      JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class fc ON fc.oid = con.confrelid
      LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
     WHERE ${inSchemas('n.nspname')} AND con.contype IN ('p', 'u', 'c', 'f')
     ORDER BY con.conrelid, con.conname`.execute(db)
  const indexes = await sql<IndexRow>`
    SELECT i.indrelid::text AS table_oid, i.indexrelid::text AS index_oid, ic.relname AS name, i.indisunique AS unique,
           am.amname AS method, i.indkey::text AS indkey, i.indoption::text AS indoption,
           CASE WHEN i.indexprs IS NOT NULL THEN
             ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k) END AS elements,
           i.indnkeyatts AS key_count,
           CASE WHEN i.indpred IS NOT NULL THEN pg_get_expr(i.indpred, i.indrelid, true) END AS predicate
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_am am ON am.oid = ic.relam
     WHERE ${inSchemas('n.nspname')} AND c.relkind IN ('r', 'p') AND NOT i.indisprimary
     ORDER BY n.nspname, ic.relname`.execute(db)
  // enum types, sequences (with their owner, if any) and the objects dbops does not manage, in one query
  const objects = await sql<ObjectRow>`
    SELECT 'enum' AS kind, n.nspname AS schema, t.typname AS name, NULL AS table_name, NULL AS owner_oid, NULL::int AS owner_attnum, NULL AS deptype,
           array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE ${inSchemas('n.nspname')}
        -- an enum of another schema that a compared table uses: its values, for schema pull
        OR t.oid IN (SELECT a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                       JOIN pg_namespace cn ON cn.oid = c.relnamespace
                      WHERE ${inSchemas('cn.nspname')} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped)
     GROUP BY n.nspname, t.typname
    UNION ALL
    SELECT 'sequence', n.nspname, s.relname, NULL, d.refobjid::text, d.refobjsubid::int, d.deptype::text, NULL
      FROM pg_class s
      JOIN pg_namespace n ON n.oid = s.relnamespace
      LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     WHERE ${inSchemas('n.nspname')} AND s.relkind = 'S'
    UNION ALL
    SELECT 'view', n.nspname, c.relname, NULL, NULL, NULL, NULL, NULL
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${inSchemas('n.nspname')} AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'function', n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, NULL, NULL, NULL, NULL
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${inSchemas('n.nspname')}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'trigger', n.nspname, t.tgname, c.relname, NULL, NULL, NULL, NULL
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${inSchemas('n.nspname')} AND NOT t.tgisinternal
    UNION ALL
    SELECT 'type', n.nspname, t.typname, NULL, NULL, NULL, NULL, NULL
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_class c ON c.oid = t.typrelid
     WHERE ${inSchemas('n.nspname')} AND (t.typtype = 'd' OR (t.typtype = 'c' AND c.relkind = 'c'))
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
     ORDER BY 1, 2, 3`.execute(db)
  const rows = objects.rows
  return {
    columns: columns.rows,
    constraints: constraints.rows,
    indexes: indexes.rows,
    enums: rows.filter((r) => r.kind === 'enum').map((r) => ({ schema: r.schema, name: r.name, labels: r.labels ?? [] })),
    sequences: rows
      .filter((r) => r.kind === 'sequence')
      .map((r) => ({ schema: r.schema, name: r.name, owner_oid: r.owner_oid, owner_attnum: r.owner_attnum, deptype: r.deptype })),
    unmanaged: rows
      .filter((r) => r.kind !== 'enum' && r.kind !== 'sequence')
      .map((r) => ({ kind: r.kind as UnmanagedObject['kind'], schema: r.schema, name: r.name, table_name: r.table_name })),
  }
}

/** `{1,2}` or `1 2` (int2vector) → numbers. */
function numbers(text: string | null): number[] {
  if (!text) return []
  return text
    .replace(/[{}]/g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
}

/**
 * Reads the schemas `schemas` of the connected database into one normalised schema. Objects
 * of `defaultSchema` are unqualified (`schema` undefined), the others carry their schema, as
 * do references to them (foreign keys, enum column types), so a one-schema database reads as
 * it always did. Enum types of other schemas that the tables use are read too (their values
 * are part of a column's definition). dbops' own tables (`dbops_*`, the history table) and dbmate's
 * `schema_migrations` are left out; views, functions, triggers, standalone sequences and other
 * types are listed as unmanaged.
 */
export async function introspectPostgres(conn: DbConnection, options: IntrospectOptions): Promise<DatabaseSchema> {
  const rows = await conn.db.connection().execute((db) => runQueries(db, options.schemas))
  const own = (schema: string | null) => (schema === null || schema === options.defaultSchema ? undefined : schema)
  const isInternal = (schema: string, table: string) =>
    isInternalTable(table, options.historyTable?.schema === schema ? options.historyTable.name : undefined)

  const tables = new Map<string, TableSchema>()
  const attnames = new Map<string, Map<number, string>>()
  const ownedSequences = new Set<string>()
  const serialSequences = new Map<string, string>() // `${oid}:${attnum}` → sequence name
  for (const s of rows.sequences) {
    if (s.owner_oid !== null) ownedSequences.add(qualifiedName(s.schema, s.name))
    if (s.deptype === 'a' && s.owner_oid !== null) serialSequences.set(`${s.owner_oid}:${s.owner_attnum}`, s.name)
  }

  for (const r of rows.columns) {
    if (isInternal(r.table_schema, r.table_name)) continue
    let table = tables.get(r.table_oid)
    if (!table) {
      table = {
        name: r.table_name,
        ...inSchema(own(r.table_schema)),
        columns: [],
        primaryKey: [],
        primaryKeyName: undefined,
        indexes: [],
        uniques: [],
        checks: [],
        foreignKeys: [],
      }
      tables.set(r.table_oid, table)
      attnames.set(r.table_oid, new Map())
    }
    attnames.get(r.table_oid)!.set(r.attnum, r.name)
    let generated: ColumnSchema['generated'] = r.identity === 'd' ? 'identity' : r.identity === 'a' ? 'identity-always' : undefined
    let defaultExpr = r.default_expr ?? undefined
    const sequence = serialSequences.get(`${r.table_oid}:${r.attnum}`)
    if (!generated && sequence && defaultExpr?.startsWith('nextval(')) {
      generated = 'serial'
      defaultExpr = undefined
    }
    const type = r.typtype === 'e' ? `enum:${qualifiedName(own(r.type_schema), r.typname)}` : canonicalType(r.type)
    table.columns.push({ name: r.name, type, nullable: !r.notnull, default: defaultExpr, generated, collation: r.collation ?? undefined })
  }

  const names = (oid: string, attnums: number[]) => attnums.map((n) => attnames.get(oid)?.get(n) ?? `#${n}`)
  const constraintIndexes = new Set<string>()
  for (const c of rows.constraints) {
    const table = tables.get(c.table_oid)
    if (!table) continue
    const columns = names(c.table_oid, numbers(c.conkey))
    if (c.type === 'p') {
      table.primaryKey = columns
      table.primaryKeyName = c.name
      constraintIndexes.add(c.index_oid)
    } else if (c.type === 'u') {
      table.uniques.push({ name: c.name, columns })
      constraintIndexes.add(c.index_oid)
    } else if (c.type === 'c') {
      table.checks.push({ name: c.name, expression: c.check_expr ?? '' })
    } else {
      const referencedSchema = own(c.ref_schema)
      table.foreignKeys.push({
        name: c.name,
        columns,
        referencedTable: c.ref_table ?? '',
        ...(referencedSchema === undefined ? {} : { referencedSchema }),
        referencedColumns: c.ref_columns ?? [],
        onDelete: ACTIONS[c.on_delete] ?? 'no action',
        onUpdate: ACTIONS[c.on_update] ?? 'no action',
      })
    }
  }

  for (const i of rows.indexes) {
    const table = tables.get(i.table_oid)
    if (!table || constraintIndexes.has(i.index_oid)) continue
    const keys = numbers(i.indkey)
    const options = numbers(i.indoption)
    table.indexes.push({
      name: i.name,
      unique: i.unique,
      columns: keys.slice(0, i.key_count).map((attnum, k) => {
        const descending = ((options[k] ?? 0) & 1) === 1
        const text = i.elements?.[k] ?? ''
        return attnum !== 0
          ? { kind: 'column', value: attnames.get(i.table_oid)?.get(attnum) ?? text, descending }
          : { kind: 'expression', value: text, descending }
      }),
      where: i.predicate ?? undefined,
      method: i.method === 'btree' ? undefined : i.method,
    })
  }

  const enums: EnumSchema[] = rows.enums.map((e) => ({ name: e.name, ...inSchema(own(e.schema)), values: e.labels }))
  const unmanaged: UnmanagedObject[] = [
    ...rows.unmanaged
      .filter((u) => u.table_name === null || !isInternal(u.schema, u.table_name))
      .map((u) => ({ kind: u.kind, name: u.name, ...inSchema(own(u.schema)), ...(u.table_name ? { table: u.table_name } : {}) })),
    ...rows.sequences
      .filter((s) => s.owner_oid === null && !ownedSequences.has(qualifiedName(s.schema, s.name)))
      .map((s) => ({ kind: 'sequence' as const, name: s.name, ...inSchema(own(s.schema)) })),
  ]
  return { dialect: 'postgres', tables: [...tables.values()], enums, unmanaged }
}
