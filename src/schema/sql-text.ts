/**
 * Small pieces of SQL text shared by the renderers: identifier quoting, literals, and each
 * dialect's spelling of a logical type.
 */
import { parseColumnType } from '../sql/column-type.js'
import type { SchemaDialect } from './normalised-schema.js'

/** Words that must be quoted as identifiers in either dialect (the union of both lists' common ones). */
const RESERVED = new Set(
  (
    'abort action add after all alter analyse analyze and any array as asc asymmetric attach autoincrement before begin between both by cascade case cast ' +
    'check collate column commit conflict constraint create cross current current_catalog current_date current_role current_time ' +
    'current_timestamp current_user database default deferrable deferred delete desc detach distinct do drop each else end escape ' +
    'except exclusive exists explain fail false fetch filter following for foreign from full glob grant group groups having if ignore ' +
    'immediate in index indexed initially inner insert instead intersect into is isnull join key lateral leading left like limit ' +
    'localtime localtimestamp match natural no not nothing notnull null nulls of offset on only or order others outer over partition ' +
    'placing plan pragma preceding primary query raise range recursive references regexp reindex release rename replace restrict ' +
    'returning right rollback row rows savepoint select session_user set similar some symmetric table temp temporary then ties to ' +
    'trailing transaction trigger true unbounded union unique update user using vacuum values variadic verbose view virtual when where window with without'
  ).split(' '),
)

/** Quotes an identifier when it needs it (not lower-case-simple, or a reserved word). */
export function quoteIdentifier(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name)) return name
  return `"${name.replaceAll('"', '""')}"`
}

/** Quotes a string literal. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/**
 * A JavaScript value as a SQL literal for a column of `type`: strings quoted, numbers as
 * written, booleans `true`/`false` on PostgreSQL and `1`/`0` on SQLite, dates as ISO
 * strings, JSON values serialised for json columns.
 */
export function renderLiteral(value: unknown, type: string, dialect: SchemaDialect): string {
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
  if (typeof value === 'boolean') return dialect === 'postgres' ? String(value) : value ? '1' : '0'
  if (value instanceof Date) return quoteString(value.toISOString())
  throw new Error(`cannot be written as a SQL literal (${typeof value})`)
}

/** How each dialect spells a logical type in DDL. */
export function renderType(type: string, dialect: SchemaDialect): string {
  const parsed = parseColumnType(type)
  if (parsed.logical === 'enum') {
    const name = type.slice('enum:'.length)
    return dialect === 'postgres' ? quoteIdentifier(name) : 'TEXT'
  }
  if (parsed.logical === undefined) return type
  const args = parsed.params.length > 0 ? `(${parsed.params.join(',')})` : ''
  if (dialect === 'postgres') {
    switch (parsed.logical) {
      case 'double':
        return 'double precision'
      case 'blob':
        return 'bytea'
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
  // SQLite keeps the declared type as written; these spellings give the right affinity
  return `${parsed.logical.toUpperCase()}${args}`
}
