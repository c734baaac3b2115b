/**
 * Value parsers for settings. Each takes the raw value (a string from the environment, or a
 * typed value from the config file) and the place it came from, and throws a ConfigError
 * naming that place when the value is wrong. Pure functions.
 */
import { ConfigError } from '../errors.js'

/** A raw setting: environment values are strings, config-file values are typed. */
export type RawValue = string | number | boolean

function invalid(where: string, expected: string, value: RawValue): ConfigError {
  return new ConfigError(`${where} must be ${expected}, got "${String(value)}"`, { code: 'CONFIG_INVALID' })
}

/** A whole number in `[min, max]`. */
export function parseInteger(value: RawValue, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(String(value)) ? Number(value) : Number.NaN
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`
    throw invalid(where, range, value)
  }
  return n
}

/** A number of seconds ≥ `min` (fractions allowed). */
export function parseSeconds(value: RawValue, where: string, min = 0): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+(\.\d+)?\s*$/.test(String(value)) ? Number(value) : Number.NaN
  if (!Number.isFinite(n) || n < min) throw invalid(where, `a number of seconds ≥ ${min}`, value)
  return n
}

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['0', 'false', 'no', 'off', ''])

/** A boolean: `true/false`, `1/0`, `yes/no`, `on/off` (any case). */
export function parseBoolean(value: RawValue, where: string): boolean {
  if (typeof value === 'boolean') return value
  const text = String(value).trim().toLowerCase()
  if (TRUE.has(text)) return true
  if (FALSE.has(text)) return false
  throw invalid(where, 'true or false', value)
}

/** One of `choices`, case-insensitive; returns the spelling in `choices`. */
export function parseChoice<T extends string>(value: RawValue, where: string, choices: readonly T[]): T {
  const text = String(value).trim().toUpperCase()
  const found = choices.find((choice) => choice.toUpperCase() === text)
  if (!found) throw invalid(where, `one of ${choices.join(', ')}`, value)
  return found
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/

/** A PostgreSQL schema name: a plain identifier (dbops quotes it where it uses it). */
export function parseIdentifier(value: RawValue, where: string): string {
  const text = String(value).trim()
  if (!IDENTIFIER.test(text)) throw invalid(where, 'a plain identifier (letters, digits, _)', value)
  return text
}

/**
 * A table name, `name` or `schema.name`, each part a plain identifier. Returns the schema
 * (undefined when not given) and the name.
 */
export function parseTableName(value: RawValue, where: string): { schema: string | undefined; name: string } {
  const parts = String(value).trim().split('.')
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw invalid(where, 'a table name or schema.table, each a plain identifier (letters, digits, _)', value)
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: undefined, name: parts[0]! }
}

/** A non-empty string. */
export function parseText(value: RawValue, where: string): string {
  const text = String(value).trim()
  if (text === '') throw invalid(where, 'a non-empty value', value)
  return text
}

/**
 * The schemas to compare: `'all'`, or a list of plain identifiers (an array from the config
 * file, or `a,b` as text), without repeats.
 */
export function parseSchemaList(value: RawValue | readonly string[], where: string): readonly string[] | 'all' {
  if (typeof value === 'string' && value.trim() === 'all') return 'all'
  const items = Array.isArray(value) ? value : String(value).split(',')
  const names = items.map((item) => parseIdentifier(item, where))
  if (names.length === 0) throw invalid(where, "'all' or a list of schema names", String(value))
  return [...new Set(names)]
}
