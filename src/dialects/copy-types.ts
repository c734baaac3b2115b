/**
 * The type mapping of `dbops copy`, in one table: which logical type a source column becomes
 * in the target. Logical types (`sql/column-type.ts`) carry over as they are, with the
 * exceptions below; SQLite's declared types that dbops does not know are mapped by SQLite's
 * own affinity rules (https://sqlite.org/datatype3.html, 3.1), and where the affinity cannot
 * say (no declared type, NUMERIC affinity), by what the data holds. docs/copy.md shows the
 * same table; each row has a round-trip test.
 */
import type { ColumnProfile } from './copy-port.js'
import type { DialectName } from './dialect.js'
import { parseColumnType } from '../sql/column-type.js'

/** SQLite's type affinity of a declared type (its five rules, in order). */
export type SqliteAffinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC'

/** SQLite's affinity rules: INT → INTEGER; CHAR, CLOB, TEXT → TEXT; BLOB or none → BLOB; REAL, FLOA, DOUB → REAL; else NUMERIC. */
export function sqliteAffinity(declared: string): SqliteAffinity {
  const t = declared.toUpperCase()
  if (t.includes('INT')) return 'INTEGER'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT'
  if (t.includes('BLOB') || t.trim() === '') return 'BLOB'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

/** One row of the mapping table, for the docs and the tests. */
export interface TypeMapping {
  from: DialectName
  /** The source type (a logical type, or an affinity rule). */
  source: string
  /** The target type, or how it is chosen. */
  target: string
  note: string
}

/** The mapping table, as docs/copy.md prints it. */
export const COPY_TYPE_MAPPINGS: readonly TypeMapping[] = [
  {
    from: 'sqlite',
    source: 'INTEGER, INT, MEDIUMINT',
    target: 'integer, or bigint when a value needs it',
    note: 'SQLite integers are 64-bit; the data decides',
  },
  { from: 'sqlite', source: 'TINYINT, SMALLINT', target: 'smallint, integer or bigint as the values need', note: '' },
  { from: 'sqlite', source: 'BIGINT, INT8', target: 'bigint', note: '' },
  { from: 'sqlite', source: 'INTEGER PRIMARY KEY [AUTOINCREMENT]', target: 'identity column, restarted past the data', note: '' },
  { from: 'sqlite', source: 'REAL, FLOAT, DOUBLE', target: 'double precision', note: "SQLite's REAL is 8 bytes" },
  { from: 'sqlite', source: 'NUMERIC(p,s), DECIMAL(p,s)', target: 'numeric(p,s)', note: 'values rounded to s digits' },
  { from: 'sqlite', source: 'TEXT, CLOB', target: 'text', note: '' },
  { from: 'sqlite', source: 'VARCHAR(n), NVARCHAR(n)', target: 'varchar(n)', note: 'a longer value is an error' },
  { from: 'sqlite', source: 'CHAR(n), NCHAR(n)', target: 'char(n)', note: '' },
  { from: 'sqlite', source: 'BOOLEAN, BOOL', target: 'boolean', note: "0/1, 't'/'f', 'true'/'false', 'yes'/'no'" },
  { from: 'sqlite', source: 'DATE', target: 'date', note: '' },
  {
    from: 'sqlite',
    source: 'DATETIME, TIMESTAMP',
    target: 'timestamp',
    note: 'text as ISO 8601; numbers as Unix seconds (milliseconds above 10^11)',
  },
  { from: 'sqlite', source: 'TIMESTAMPTZ', target: 'timestamptz', note: 'offsets kept; no offset means UTC' },
  { from: 'sqlite', source: 'JSON', target: 'json', note: 'must parse' },
  { from: 'sqlite', source: 'UUID', target: 'uuid', note: 'text, or a 16-byte blob' },
  { from: 'sqlite', source: 'BLOB', target: 'bytea', note: '' },
  { from: 'sqlite', source: 'other names containing INT', target: 'bigint', note: 'INTEGER affinity' },
  { from: 'sqlite', source: 'other names containing CHAR, CLOB, TEXT', target: 'text', note: 'TEXT affinity' },
  { from: 'sqlite', source: 'other names containing BLOB', target: 'bytea', note: 'BLOB affinity' },
  { from: 'sqlite', source: 'other names containing REAL, FLOA, DOUB', target: 'double precision', note: 'REAL affinity' },
  { from: 'sqlite', source: 'no declared type', target: 'by the data: bigint, double precision, bytea or text', note: '' },
  {
    from: 'sqlite',
    source: 'any other name (NUMBER, STRING, MONEY…)',
    target: 'by the data: bigint, numeric or text',
    note: 'NUMERIC affinity',
  },
  {
    from: 'postgres',
    source:
      'smallint, integer, bigint, real, double precision, numeric, text, varchar, char, boolean, date, time, timestamp, timestamptz, json, jsonb, uuid',
    target: 'the same logical type (SQLite declared type of that name)',
    note: '',
  },
  { from: 'postgres', source: 'bytea', target: 'BLOB', note: '' },
  { from: 'postgres', source: 'identity, serial', target: 'INTEGER PRIMARY KEY when the single-column key, else INTEGER', note: '' },
  { from: 'postgres', source: 'enum types, and types dbops does not know (inet, arrays…)', target: 'TEXT', note: 'their text form' },
]

const INT4 = 2n ** 31n
const INT2 = 2n ** 15n

/** The smallest integer type at least as wide as `type` that holds the profile's values. */
function integerFor(type: 'smallint' | 'integer' | 'bigint', profile: ColumnProfile | undefined): string {
  const fits = (limit: bigint) => profile?.min === undefined || (profile.min >= -limit && (profile.max ?? 0n) < limit)
  if (type === 'smallint' && fits(INT2)) return 'smallint'
  if (type !== 'bigint' && fits(INT4)) return 'integer'
  return 'bigint'
}

/** A type chosen by what the data holds, for a column whose declared type does not say. */
function byData(profile: ColumnProfile | undefined, numbers: 'numeric' | 'double'): string {
  const kinds = profile?.kinds ?? new Set<string>()
  if (kinds.has('text')) return 'text'
  if (kinds.has('blob')) return kinds.size === 1 ? 'blob' : 'text'
  if (kinds.has('real')) return numbers
  return 'bigint'
}

/** Whether a source column's type is one the data decides (the reader is asked for a profile of it). */
export function needsProfile(from: DialectName, type: string): boolean {
  if (from !== 'sqlite') return false
  const logical = parseColumnType(type).logical
  if (logical === 'smallint' || logical === 'integer') return true
  if (logical !== undefined) return false
  const affinity = sqliteAffinity(type)
  return affinity === 'NUMERIC' || (affinity === 'BLOB' && type.trim() === '')
}

/**
 * The logical type a column of `type` in a `from` database becomes in a `to` database (see
 * {@link COPY_TYPE_MAPPINGS}); `profile` is what the column's data holds, where
 * {@link needsProfile} asked for one.
 */
export function copyColumnType(from: DialectName, to: DialectName, type: string, profile?: ColumnProfile): string {
  const parsed = parseColumnType(type)
  if (from === to) return parsed.canonical
  if (from === 'postgres') {
    if (parsed.logical === undefined || parsed.logical === 'enum') return 'text'
    return parsed.canonical
  }
  switch (parsed.logical) {
    case 'smallint':
    case 'integer':
      return integerFor(parsed.logical, profile)
    case 'real':
      return 'double'
    case undefined:
      break
    default:
      return parsed.canonical
  }
  switch (sqliteAffinity(type)) {
    case 'INTEGER':
      return 'bigint'
    case 'TEXT':
      return 'text'
    case 'REAL':
      return 'double'
    case 'BLOB':
      return type.trim() === '' ? byData(profile, 'double') : 'blob'
    default:
      return byData(profile, 'numeric')
  }
}

/**
 * A column default carried from a `from` database to a `to` one, or undefined when it is
 * written in SQL only the source understands (the copy lists it as not copied). Literals
 * stay; SQLite's `datetime('now')` and PostgreSQL's `now()` become `CURRENT_TIMESTAMP`;
 * boolean defaults are spelt for the target; PostgreSQL casts (`'a'::text`) are dropped.
 */
export function copyDefault(from: DialectName, to: DialectName, expression: string, logicalType: string): string | undefined {
  if (from === to) return expression
  let text = expression.trim()
  while (/^\(.*\)$/s.test(text) && balanced(text.slice(1, -1))) text = text.slice(1, -1).trim()
  text = text.replace(/::[a-z_ ]+(\[\])?$/i, '')
  const lower = text.toLowerCase()
  if (lower === 'null') return undefined
  if (/^(current_timestamp|now\(\)|datetime\('now'(,\s*'localtime')?\)|localtimestamp)$/.test(lower)) return 'CURRENT_TIMESTAMP'
  if (/^(current_date|date\('now'\))$/.test(lower)) return 'CURRENT_DATE'
  if (/^(current_time|time\('now'\))$/.test(lower)) return 'CURRENT_TIME'
  if (logicalType === 'boolean') {
    const truthy = /^(1|true|'1'|'t'|'true')$/.test(lower)
    const falsy = /^(0|false|'0'|'f'|'false')$/.test(lower)
    if (!truthy && !falsy) return undefined
    return to === 'sqlite' ? (truthy ? '1' : '0') : truthy ? 'true' : 'false'
  }
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return text
  if (/^'(?:[^']|'')*'$/.test(text)) return text
  if (to === 'postgres' && /^[xX]'[0-9a-fA-F]*'$/.test(text)) return `'\\x${text.slice(2, -1)}'::bytea`
  return undefined
}

function balanced(text: string): boolean {
  let depth = 0
  for (const ch of text) {
    if (ch === '(') depth++
    else if (ch === ')' && --depth < 0) return false
  }
  return depth === 0
}
