/**
 * Logical column types: one canonical spelling per type, whatever the dialect calls it.
 * `int4`, `integer` and `INT` are `integer`; `character varying(255)` and `VARCHAR(255)` are
 * `varchar(255)`; `timestamp with time zone` is `timestamptz`; SQLite's `DATETIME` is
 * `timestamp`. A PostgreSQL enum type is `enum:<name>`. A type dbops does not know keeps its
 * own spelling, lower-cased (`inet`, `text[]`), and is compared as written.
 */

/** The logical types dbops knows, without parameters. */
export const LOGICAL_TYPES = [
  'smallint',
  'integer',
  'bigint',
  'real',
  'double',
  'numeric',
  'text',
  'varchar',
  'char',
  'boolean',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'json',
  'jsonb',
  'uuid',
  'blob',
] as const

/** One of {@link LOGICAL_TYPES}. */
export type LogicalTypeName = (typeof LOGICAL_TYPES)[number]

/** A parsed column type. */
export interface ParsedColumnType {
  /** Canonical spelling: `varchar(255)`, `numeric(10,2)`, `enum:mood`, or the unknown type as written. */
  canonical: string
  /** The logical type, or undefined when dbops does not know the spelling. */
  logical: LogicalTypeName | 'enum' | undefined
  /** Parameters: length, precision and scale. */
  params: number[]
}

/** Spellings (lower case, parameters removed) of each logical type, across both dialects. */
const SPELLINGS: Record<string, LogicalTypeName> = {
  smallint: 'smallint',
  int2: 'smallint',
  tinyint: 'smallint',
  integer: 'integer',
  int: 'integer',
  int4: 'integer',
  mediumint: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  'unsigned big int': 'bigint',
  real: 'real',
  float4: 'real',
  double: 'double',
  'double precision': 'double',
  float: 'double',
  float8: 'double',
  numeric: 'numeric',
  decimal: 'numeric',
  text: 'text',
  clob: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  nvarchar: 'varchar',
  'varying character': 'varchar',
  'native character': 'char',
  char: 'char',
  character: 'char',
  nchar: 'char',
  bpchar: 'char',
  boolean: 'boolean',
  bool: 'boolean',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  datetime: 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  json: 'json',
  jsonb: 'jsonb',
  uuid: 'uuid',
  blob: 'blob',
  bytea: 'blob',
}

/** Types whose parameter is a precision that does not change the logical type's identity. */
const PRECISION_TYPES = new Set<LogicalTypeName>(['timestamp', 'timestamptz', 'time'])

/**
 * Parses a type as a database or a user spells it. `timestamp(3) with time zone` becomes
 * `timestamptz(3)`; `character varying` without a length becomes `varchar`; PostgreSQL's
 * `numeric` without parameters stays `numeric`. Unknown spellings are returned lower-cased
 * with `logical: undefined`.
 *
 * @example
 * parseColumnType('character varying(255)') // { canonical: 'varchar(255)', logical: 'varchar', params: [255] }
 */
export function parseColumnType(spelling: string): ParsedColumnType {
  let parsed = parsedTypes.get(spelling)
  if (parsed === undefined) {
    parsed = parseUncached(spelling)
    if (parsedTypes.size > 10_000) parsedTypes.clear()
    parsedTypes.set(spelling, parsed)
  }
  return parsed
}

const parsedTypes = new Map<string, ParsedColumnType>()

function parseUncached(spelling: string): ParsedColumnType {
  const text = spelling
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*\)/g, ')')
  if (text.startsWith('enum:')) return { canonical: text, logical: 'enum', params: [] }
  const match = /^([a-z_][a-z0-9_ ]*?)\s*(?:\((\d+)(?:,(\d+))?\))?\s*((?:with|without) time zone)?$/.exec(text)
  if (!match) return { canonical: text, logical: undefined, params: [] }
  const base = match[4] ? `${match[1]!.trim()} ${match[4]}` : match[1]!.trim()
  const logical = SPELLINGS[base]
  if (!logical) return { canonical: text, logical: undefined, params: [] }
  const params = [match[2], match[3]].filter((p): p is string => p !== undefined).map(Number)
  if (logical === 'varchar' || logical === 'char') {
    if (logical === 'char' && params.length === 0) return { canonical: 'char(1)', logical, params: [1] }
    return { canonical: params.length > 0 ? `${logical}(${params[0]})` : logical, logical, params: params.slice(0, 1) }
  }
  if (logical === 'numeric') {
    if (params.length === 0) return { canonical: 'numeric', logical, params }
    const scale = params[1] ?? 0
    return { canonical: `numeric(${params[0]},${scale})`, logical, params: [params[0]!, scale] }
  }
  if (PRECISION_TYPES.has(logical) && params.length > 0 && params[0] !== 6) {
    return { canonical: `${logical}(${params[0]})`, logical, params: params.slice(0, 1) }
  }
  // float(p): PostgreSQL maps 1-24 to real and 25-53 to double precision
  if (base === 'float' && params.length > 0) {
    return params[0]! <= 24 ? { canonical: 'real', logical: 'real', params: [] } : { canonical: 'double', logical: 'double', params: [] }
  }
  return { canonical: logical, logical, params: [] }
}

/** The canonical spelling of a type (see {@link parseColumnType}). */
export function canonicalType(spelling: string): string {
  return parseColumnType(spelling).canonical
}

/** Whether the type is one of the integer types (for identity, serial and rowid). */
export function isIntegerType(type: string): boolean {
  const logical = parseColumnType(type).logical
  return logical === 'smallint' || logical === 'integer' || logical === 'bigint'
}

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 }

/**
 * Whether changing a column from type `from` to type `to` keeps every value: a wider
 * integer, a longer varchar, varchar to text, real to double, more numeric precision with
 * the same scale, an added time zone is not (it reinterprets values). Used for severity.
 */
export function isWideningTypeChange(from: string, to: string): boolean {
  const a = parseColumnType(from)
  const b = parseColumnType(to)
  if (a.canonical === b.canonical) return true
  if (a.logical === undefined || b.logical === undefined) return false
  const ra = INTEGER_RANK[a.logical]
  const rb = INTEGER_RANK[b.logical]
  if (ra !== undefined && rb !== undefined) return rb >= ra
  if (ra !== undefined && b.logical === 'numeric') return b.params.length === 0 || b.params[0]! - b.params[1]! >= 19
  const isString = (t: ParsedColumnType) => t.logical === 'varchar' || t.logical === 'char' || t.logical === 'text'
  if (isString(a) && b.logical === 'text') return true
  if ((a.logical === 'varchar' || a.logical === 'char') && b.logical === 'varchar')
    return b.params.length === 0 || (a.params[0] ?? Infinity) <= b.params[0]!
  if (a.logical === 'real' && b.logical === 'double') return true
  if (a.logical === 'numeric' && b.logical === 'numeric') {
    if (b.params.length === 0) return true
    if (a.params.length === 0) return false
    return b.params[1]! >= a.params[1]! && b.params[0]! - b.params[1]! >= a.params[0]! - a.params[1]!
  }
  if (a.logical === 'json' && b.logical === 'jsonb') return true
  if (a.logical === 'jsonb' && b.logical === 'json') return true
  return false
}
