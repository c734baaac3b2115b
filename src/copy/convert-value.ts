/**
 * Values converted to a column's logical type on their way into the target, and the canonical
 * text of a converted value that both sides' checksums hash. A value that cannot be converted
 * (SQLite lets `'abc'` sit in an INTEGER column) throws {@link ValueNotConvertible}; the copy
 * names the table, column and row key around it.
 *
 * Canonical forms: integers in decimal; floats as JavaScript's shortest round-trip text
 * (`NaN`, `Infinity`, `-Infinity`); numerics without trailing zeros; booleans `t`/`f`; blobs
 * in hex; dates `YYYY-MM-DD`, times `HH:MM:SS[.fraction]`, timestamps `YYYY-MM-DD HH:MM:SS[.fraction]`
 * (with time zone: in UTC, `Z` appended), fractions without trailing zeros; JSON re-serialised
 * with sorted keys; uuids lower case; `char(n)` without trailing blanks.
 */
import type { CopyValue } from '../dialects/copy-port.js'
import { parseColumnType } from '../sql/column-type.js'

/** A value the column's type cannot hold; `reason` says why. */
export class ValueNotConvertible extends Error {
  constructor(readonly reason: string) {
    super(reason)
  }
}

const fail = (reason: string): never => {
  throw new ValueNotConvertible(reason)
}

const RANGES: Record<string, bigint> = { smallint: 2n ** 15n, integer: 2n ** 31n, bigint: 2n ** 63n }

/** A converter for one column: source value → value of `type`. */
export type Converter = (value: unknown) => CopyValue

/** The converter of a column of logical type `type` (canonical spelling: `numeric(10,2)`, `varchar(20)`). */
export function converterFor(type: string, options: { nan: boolean } = { nan: true }): Converter {
  const parsed = parseColumnType(type)
  switch (parsed.logical) {
    case 'smallint':
    case 'integer':
    case 'bigint': {
      const limit = RANGES[parsed.logical]!
      return (v) => {
        if (v === null || v === undefined) return null
        const n = toBigInt(v)
        if (n < -limit || n >= limit) fail(`out of range for ${parsed.logical}`)
        return n
      }
    }
    case 'real':
    case 'double':
      return (v) => {
        if (v === null || v === undefined) return null
        const n = toFloat(v)
        return Number.isNaN(n) && !options.nan ? fail('NaN, which the target cannot store') : n
      }
    case 'numeric': {
      const scale = parsed.params[1]
      return (v) => (v === null || v === undefined ? null : toNumeric(v, scale))
    }
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : toBoolean(v))
    case 'blob':
      return (v) => {
        if (v === null || v === undefined) return null
        if (v instanceof Uint8Array) return v
        if (typeof v === 'string') return Buffer.from(v, 'utf8')
        return fail('not bytes')
      }
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const kind = parsed.logical
      return (v) => (v === null || v === undefined ? null : toTemporal(v, kind))
    }
    case 'json':
    case 'jsonb':
      return (v) => {
        if (v === null || v === undefined) return null
        const text = toText(v)
        try {
          JSON.parse(text)
        } catch {
          fail('not valid JSON')
        }
        return text
      }
    case 'uuid':
      return (v) => (v === null || v === undefined ? null : toUuid(v))
    case 'varchar':
    case 'char': {
      const length = parsed.params[0]
      const isChar = parsed.logical === 'char'
      return (v) => {
        if (v === null || v === undefined) return null
        let text = toText(v)
        if (isChar) text = text.replace(/ +$/, '')
        if (length !== undefined && [...text].length > length) fail(`longer than ${length} characters`)
        return text
      }
    }
    default:
      return (v) => (v === null || v === undefined ? null : toText(v))
  }
}

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : fail('not an integer')
  if (typeof v === 'boolean') return v ? 1n : 0n
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return BigInt(v.trim())
  return fail('not an integer')
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase()
    if (t === 'nan') return NaN
    if (t === 'infinity' || t === 'inf' || t === '+infinity') return Infinity
    if (t === '-infinity' || t === '-inf') return -Infinity
    if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  }
  return fail('not a number')
}

function toNumeric(v: unknown, scale: number | undefined): string {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (!Number.isFinite(v)) fail('not a finite number')
    if (scale !== undefined && Math.abs(v) < 1e21) return v.toFixed(scale)
    return plainDecimal(String(v))
  }
  if (typeof v === 'string') {
    const t = v.trim()
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return t
    if (t.toLowerCase() === 'nan') return 'NaN'
  }
  return fail('not a number')
}

const TRUE = new Set(['t', 'true', '1', 'y', 'yes', 'on'])
const FALSE = new Set(['f', 'false', '0', 'n', 'no', 'off'])

function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'bigint' || typeof v === 'number') {
    if (Number(v) === 1) return true
    if (Number(v) === 0) return false
  }
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase()
    if (TRUE.has(t)) return true
    if (FALSE.has(t)) return false
  }
  return fail('not a boolean')
}

function toText(v: unknown): string {
  let text: string
  if (typeof v === 'string') text = v
  else if (typeof v === 'bigint' || typeof v === 'boolean') text = String(v)
  else if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
  else if (v instanceof Uint8Array) {
    const decoded = new TextDecoder('utf-8', { fatal: true })
    try {
      text = decoded.decode(v)
    } catch {
      return fail('bytes that are not UTF-8 text')
    }
  } else if (v instanceof Date) text = v.toISOString()
  else return fail(`a ${typeof v}`)
  if (text.includes('\u0000')) fail('text with a NUL character')
  return text
}

function toUuid(v: unknown): string {
  if (v instanceof Uint8Array && v.length === 16) {
    const hex = Buffer.from(v).toString('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
  const text = typeof v === 'string' ? v.trim().toLowerCase() : ''
  const m = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/.exec(text)
  return m ? `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}` : fail('not a uuid')
}

const TEMPORAL = /^(\d{4}-\d{2}-\d{2})?(?:[T ]?(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

function toTemporal(v: unknown, kind: 'date' | 'time' | 'timestamp' | 'timestamptz'): string {
  let text: string
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (kind === 'time') return fail('a number in a time column')
    const n = Number(v)
    const ms = Math.abs(n) >= 1e11 ? n : n * 1000
    if (!Number.isFinite(ms)) return fail('not a time')
    text = new Date(ms).toISOString()
  } else if (v instanceof Date) text = v.toISOString()
  else if (typeof v === 'string') text = v.trim()
  else return fail('not a date or time')
  if (/^-?infinity$/i.test(text) && kind !== 'time') return text.toLowerCase()
  const m = TEMPORAL.exec(text)
  if (!m || (m[1] === undefined && m[2] === undefined)) return fail(`not a ${kind}`)
  let [date, hh = '00', mi = '00', ss = '00'] = [m[1], m[2], m[3], m[4]]
  let fraction = (m[5] ?? '').replace(/0+$/, '')
  const offset = m[6]
  if (kind === 'time') {
    if (m[2] === undefined) return fail('not a time')
    return `${hh}:${mi}:${ss}${fraction ? `.${fraction}` : ''}`
  }
  if (date === undefined) return fail(`not a ${kind}`)
  if (kind === 'date') return date
  if (kind === 'timestamptz' && offset !== undefined && offset.toUpperCase() !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replace(':', '')
    const minutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
    const utc = new Date(`${date}T${hh}:${mi}:${ss}Z`).getTime() - minutes * 60_000
    if (!Number.isFinite(utc)) return fail(`not a ${kind}`)
    const iso = new Date(utc).toISOString()
    date = iso.slice(0, 10)
    hh = iso.slice(11, 13)
    mi = iso.slice(14, 16)
    ss = iso.slice(17, 19)
  }
  if (fraction.length > 6) fraction = fraction.slice(0, 6).replace(/0+$/, '')
  const time = `${date} ${hh}:${mi}:${ss}${fraction ? `.${fraction}` : ''}`
  return kind === 'timestamptz' ? `${time}Z` : time
}

/** A decimal in plain notation (no exponent), without trailing fraction zeros: `1.50` → `1.5`, `1e3` → `1000`. */
export function plainDecimal(text: string): string {
  const m = /^([-+]?)(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?$/.exec(text.trim())
  if (!m) return text
  const negative = m[1] === '-'
  let digits = `${m[2]}${m[3]}`
  let point = m[2]!.length + Number(m[4] ?? 0)
  if (point < 0) {
    digits = '0'.repeat(-point) + digits
    point = 0
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length)
  const whole = digits.slice(0, point).replace(/^0+/, '') || '0'
  const fraction = digits.slice(point).replace(/0+$/, '')
  const body = fraction ? `${whole}.${fraction}` : whole
  return negative && body !== '0' ? `-${body}` : body
}

/**
 * The canonical text of a value already converted to logical type `logical` (see the module
 * comment); the same data gives the same text whichever database it came from.
 */
export function canonicalText(value: CopyValue, logical: string | undefined): string {
  if (value === null) return '\u0000'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value)
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`
  if (logical === 'numeric') return value === 'NaN' ? value : plainDecimal(value)
  if (logical === 'json' || logical === 'jsonb') return stableJson(JSON.parse(value))
  return value
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}
