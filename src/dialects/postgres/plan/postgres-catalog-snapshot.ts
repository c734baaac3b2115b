/**
 * What `migrate plan` compares before and after each statement in the schema copy: every user
 * relation's storage (`relfilenode`: a new one is a rewrite), every CHECK and foreign key's
 * `convalidated`, every column's `attnotnull`, and the relation locks a backend holds. Relations
 * are named `schema.name` as the target names them (the copy is the target's schema).
 */
import type pg from 'pg'
import type { HeldLock, StatementTrace } from '../../plan-port.js'

const USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"

/** A relation of the copy. */
interface RelationRow {
  oid: string
  name: string
  kind: string
  node: string
  table: string | null
}

/** The catalog state the trace compares. */
export interface CatalogSnapshot {
  relations: Map<string, RelationRow>
  /** Constraint oid → `name on schema.table`, validated, type, table oid. */
  constraints: Map<string, { label: string; validated: boolean; type: string; rel: string }>
  /** `relation oid:attnum` → `schema.table.column`, NOT NULL. */
  columns: Map<string, { label: string; notNull: boolean }>
}

/** Reads a {@link CatalogSnapshot} over `client` (inside the migration's transaction, it sees its changes). */
export async function readCatalogSnapshot(client: pg.ClientBase): Promise<CatalogSnapshot> {
  const relations = await client.query<RelationRow>(
    `SELECT c.oid::text AS oid, n.nspname || '.' || c.relname AS name, c.relkind::text AS kind, c.relfilenode::text AS node,
            tn.nspname || '.' || t.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
       LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p', 'i', 'I', 'm', 'S', 'v', 'f')`,
  )
  const constraints = await client.query<{ oid: string; label: string; validated: boolean; type: string; rel: string }>(
    `SELECT con.oid::text AS oid, con.conname || ' on ' || n.nspname || '.' || c.relname AS label, con.convalidated AS validated,
            con.contype::text AS type, c.oid::text AS rel
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA} AND con.contype IN ('c', 'f')`,
  )
  const columns = await client.query<{ key: string; label: string; not_null: boolean }>(
    `SELECT a.attrelid::text || ':' || a.attnum AS key, n.nspname || '.' || c.relname || '.' || a.attname AS label, a.attnotnull AS not_null
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
  )
  return {
    relations: new Map(relations.rows.map((r) => [r.oid, r])),
    constraints: new Map(constraints.rows.map((r) => [r.oid, r])),
    columns: new Map(columns.rows.map((r) => [r.key, { label: r.label, notNull: r.not_null }])),
  }
}

/** The relation locks (oid and mode) backend `pid` holds now. */
export async function readRelationLocks(client: pg.ClientBase, pid: number): Promise<Array<{ oid: string; mode: string }>> {
  const { rows } = await client.query<{ oid: string; mode: string }>(
    `SELECT relation::text AS oid, mode FROM pg_locks WHERE pid = $1 AND locktype = 'relation' AND granted`,
    [pid],
  )
  return rows
}

const KINDS: Record<string, HeldLock['kind']> = { r: 'table', p: 'table', i: 'index', I: 'index', S: 'sequence', v: 'view', m: 'view' }

/**
 * Names locks by the relations ever seen in the copy (`known`: a dropped table's lock still
 * names it); locks on anything else (the system catalogs) are left out. One entry per
 * relation and mode, sorted by relation.
 */
export function nameLocks(locks: Array<{ oid: string; mode: string }>, known: Map<string, RelationRow>): HeldLock[] {
  const named = new Map<string, HeldLock>()
  for (const lock of locks) {
    const relation = known.get(lock.oid)
    if (!relation) continue
    named.set(`${relation.name} ${lock.mode}`, {
      relation: relation.name,
      kind: KINDS[relation.kind] ?? 'other',
      ...(relation.table ? { table: relation.table } : {}),
      mode: lock.mode,
    })
  }
  return [...named.values()].sort((a, b) => a.relation.localeCompare(b.relation) || a.mode.localeCompare(b.mode))
}

/** What changed between two snapshots: rewrites, validations, NOT NULL checks, creations, index builds. */
export function compareSnapshots(
  before: CatalogSnapshot,
  after: CatalogSnapshot,
): Pick<StatementTrace, 'rewritten' | 'validated' | 'notNullChecked' | 'created' | 'indexesBuilt'> {
  const rewritten: string[] = []
  const created: string[] = []
  const indexesBuilt: string[] = []
  const existingNames = new Set([...before.relations.values()].map((r) => r.name))
  for (const [oid, relation] of after.relations) {
    const old = before.relations.get(oid)
    if (old) {
      // views and mapped catalogs have relfilenode 0: only real storage counts
      if (old.node !== relation.node && old.node !== '0' && relation.node !== '0') rewritten.push(relation.name)
      continue
    }
    created.push(relation.name)
    if ((relation.kind === 'i' || relation.kind === 'I') && relation.table && existingNames.has(relation.table))
      indexesBuilt.push(`${relation.name} on ${relation.table}`)
  }
  const validated: string[] = []
  for (const [oid, constraint] of after.constraints) {
    const old = before.constraints.get(oid)
    const checked = old ? !old.validated && constraint.validated : constraint.validated && before.relations.has(constraint.rel)
    if (checked) validated.push(constraint.label)
  }
  const notNullChecked: string[] = []
  for (const [key, column] of after.columns) {
    const old = before.columns.get(key)
    if (old && !old.notNull && column.notNull) notNullChecked.push(column.label)
  }
  return { rewritten: rewritten.sort(), validated, notNullChecked, created: created.sort(), indexesBuilt }
}
