/**
 * `dbops.config.{ts,js,json}`: the file form of the configuration, its typed
 * {@link defineConfig} helper, and loading. TypeScript and JavaScript files are loaded with
 * jiti (no build step); jiti is imported only when such a file exists, to keep start-up fast.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ConfigError, messageOf } from '../errors.js'
import { importUserModule } from './import-user-module.js'

import type { DbopsConfigFile } from './config-file-types.js'

export type {
  PoolFileSettings,
  SqliteFileSettings,
  TlsFileSettings,
  BackupFileSettings,
  RemoteFileSettings,
  EncryptFileSettings,
  SchemaFileSettings,
  DatabaseFileSettings,
  LintFileSettings,
  DoctorFileSettings,
  DbopsConfigFile,
  FleetFileSettings,
} from './config-file-types.js'

/**
 * Types a config file. Returns its argument unchanged.
 *
 * @example
 * // dbops.config.ts
 * import { defineConfig } from 'dbops'
 * export default defineConfig({
 *   url: 'sqlite:///data/app.db',
 *   databases: { prod: { url: process.env.PROD_DATABASE_URL, protected: true } },
 * })
 */
export function defineConfig(config: DbopsConfigFile): DbopsConfigFile {
  return config
}

/** Names looked for in the working directory, in order. */
export const CONFIG_FILE_NAMES = ['dbops.config.ts', 'dbops.config.mts', 'dbops.config.js', 'dbops.config.mjs', 'dbops.config.json']

/** A loaded config file: where it is and what it says (validated). */
export interface LoadedConfigFile {
  path: string
  /** The file name as shown in messages (relative to the working directory when inside it). */
  label: string
  config: DbopsConfigFile
}

/**
 * Finds and loads the config file: `explicitPath` (from `--config`), which must exist, or
 * the first of {@link CONFIG_FILE_NAMES} in `cwd`. Returns undefined when there is none.
 */
export async function loadConfigFile(cwd: string, explicitPath?: string): Promise<LoadedConfigFile | undefined> {
  let file: string | undefined
  if (explicitPath) {
    file = path.resolve(cwd, explicitPath)
    if (!fs.existsSync(file)) {
      throw new ConfigError(`Config file ${explicitPath} does not exist`, {
        code: 'CONFIG_FILE_MISSING',
        hint: 'Check --config, or run `dbops init` to create dbops.config.ts.',
      })
    }
  } else {
    file = CONFIG_FILE_NAMES.map((name) => path.join(cwd, name)).find((candidate) => fs.existsSync(candidate))
    if (!file) return undefined
  }
  const label = path.relative(cwd, file).startsWith('..') ? file : path.relative(cwd, file)
  const raw = await importConfig(file, label)
  validateConfigFile(raw, label)
  return { path: file, label, config: raw as DbopsConfigFile }
}

async function importConfig(file: string, label: string): Promise<unknown> {
  try {
    if (file.endsWith('.json')) return JSON.parse(fs.readFileSync(file, 'utf8'))
    const mod = await importUserModule<Record<string, unknown>>(file, { entry: 'authoring', interopDefault: true })
    return mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod
  } catch (err) {
    throw new ConfigError(`Could not load ${label}: ${locateLoadError(err, file)}`, {
      code: 'CONFIG_FILE_INVALID',
      hint: `Fix the syntax error in ${label}, or point --config at another file.`,
      cause: err,
    })
  }
}

/** The first line of a load error, with the line and column when the loader gives them (config and models files). */
export function locateLoadError(err: unknown, file: string): string {
  const message = messageOf(err).replace(`${file}: `, '')
  const stack = err instanceof Error ? (err.stack ?? '') : ''
  const where = new RegExp(`${escapeRegExp(path.basename(file))}:(\\d+):(\\d+)`).exec(`${message}\n${stack}`)
  if (where && !message.includes(`:${where[1]}:`)) return `${message} (line ${where[1]}, column ${where[2]})`
  return message
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * How a key is checked: its type, the shape of a nested object, or a function that returns
 * what the value should have been (undefined when it is fine) for a key of several forms.
 */
type Check = 'string' | 'boolean' | 'number' | Record<string, unknown> | ((value: unknown, label: string, keyPath: string) => void)

const POOL_SCHEMA: Record<string, Check> = { size: 'number', maxOverflow: 'number', timeout: 'number', recycle: 'number' }
const SQLITE_SCHEMA: Record<string, Check> = {
  journalMode: 'string',
  synchronous: 'string',
  cacheSize: 'number',
  busyTimeout: 'number',
}
const TLS_SCHEMA: Record<string, Check> = { sslmode: 'string', sslrootcert: 'string', sslcert: 'string', sslkey: 'string' }
const BACKUP_SCHEMA: Record<string, Check> = {
  dir: 'string',
  keepLast: 'number',
  keepDaily: 'number',
  keepWeekly: 'number',
  keepMonthly: 'number',
  remote: { url: 'string', endpoint: 'string', region: 'string', forcePathStyle: 'boolean' },
  encrypt: {
    recipients: (value: unknown, label: string, keyPath: string) => {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
        throw wrongType(label, keyPath, 'a list of age public keys', value)
    },
    required: 'boolean',
  },
  maxDrillAge: 'number',
}
const LINT_SCHEMA: Record<string, Check> = {
  rules: checkLintRules,
  failOn: (value, label, keyPath) => {
    if (value !== 'error' && value !== 'warning') throw wrongType(label, keyPath, "'error' or 'warning'", value)
  },
  smallTable: { rows: 'number', bytes: 'number' },
}

/** `lint.rules`: rule ids to `'off'`, `'warning'` or `'error'` (the ids are checked against the dialect's rules by the lint). */
function checkLintRules(value: unknown, label: string, keyPath: string): void {
  if (!isPlainObject(value)) throw wrongType(label, keyPath, "an object of rule ids to 'off', 'warning' or 'error'", value)
  for (const [rule, setting] of Object.entries(value)) {
    if (setting !== 'off' && setting !== 'warning' && setting !== 'error') {
      throw new ConfigError(`${label}: ${keyPath}.${rule} must be 'off', 'warning' or 'error', got ${JSON.stringify(setting)}`, {
        code: 'CONFIG_FILE_INVALID',
      })
    }
  }
}
/** `doctor.thresholds`: names to a number ≥ 0 or `'off'` (the names are checked by the doctor). */
function checkDoctorThresholds(value: unknown, label: string, keyPath: string): void {
  if (!isPlainObject(value)) throw wrongType(label, keyPath, "an object of threshold names to a number or 'off'", value)
  for (const [name, setting] of Object.entries(value)) {
    if (setting !== 'off' && (typeof setting !== 'number' || !Number.isFinite(setting) || setting < 0)) {
      throw new ConfigError(`${label}: ${keyPath}.${name} must be a number ≥ 0 or 'off', got ${JSON.stringify(setting)}`, {
        code: 'CONFIG_FILE_INVALID',
      })
    }
  }
}
const SCHEMA_EXAMPLE = "Example: schema: { default: 'public', schemas: ['public', 'app'] } (or schemas: 'all')."

/** `schema`: a name, or `{ default?: string, schemas?: string[] | 'all' }`. */
function checkSchemaKey(value: unknown, label: string, keyPath: string): void {
  if (typeof value === 'string') return
  if (!isPlainObject(value)) throw wrongType(label, keyPath, 'a schema name or an object { default, schemas }', value, SCHEMA_EXAMPLE)
  checkObject(value, { default: 'string', schemas: checkSchemaList }, label, `${keyPath}.`)
}

function checkSchemaList(value: unknown, label: string, keyPath: string): void {
  if (value === 'all' || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))) return
  throw wrongType(label, keyPath, "'all' or a non-empty list of schema names", value, SCHEMA_EXAMPLE)
}

const DATABASE_SCHEMA: Record<string, Check> = {
  url: 'string',
  schema: checkSchemaKey,
  protected: 'boolean',
  pool: POOL_SCHEMA,
  sqlite: SQLITE_SCHEMA,
  tls: TLS_SCHEMA,
  connectTimeout: 'number',
  maxRetries: 'number',
  echo: 'boolean',
  backup: BACKUP_SCHEMA,
}
const FILE_SCHEMA: Record<string, Check> = {
  ...DATABASE_SCHEMA,
  migrations: { dir: 'string', lockTimeout: 'number', statementLockTimeout: 'number', lockRetries: 'number', table: 'string' },
  models: 'string',
  lint: LINT_SCHEMA,
  doctor: { thresholds: checkDoctorThresholds },
  fleets: checkFleets,
}

const FLEET_EXAMPLE =
  "Example: fleets: { tenants: { urlsFile: 'tenants.txt' } } (or { urls: [...] }, or { query: 'SELECT url FROM tenants', on: 'main' })."

/** `fleets`: named groups, each with exactly one of `urls`, `urlsFile` or `query` (+ `on`). */
function checkFleets(value: unknown, label: string, keyPath: string): void {
  if (!isPlainObject(value)) throw wrongType(label, keyPath, 'an object of named fleets', value, FLEET_EXAMPLE)
  for (const [name, fleet] of Object.entries(value)) {
    const at = `${keyPath}.${name}`
    if (!isPlainObject(fleet)) throw wrongType(label, at, 'an object', fleet, FLEET_EXAMPLE)
    checkObject(
      fleet,
      {
        urls: (v, l, k) => {
          if (!Array.isArray(v) || !v.every((u) => typeof u === 'string')) throw wrongType(l, k, 'a list of URLs', v, FLEET_EXAMPLE)
        },
        urlsFile: 'string',
        query: 'string',
        on: 'string',
        schemas: 'string',
        passfile: 'string',
        concurrency: 'number',
      },
      label,
      `${at}.`,
    )
    const sources = ['urls', 'urlsFile', 'query'].filter((key) => fleet[key] !== undefined)
    if (sources.length !== 1)
      throw new ConfigError(
        `${label}: ${at} needs exactly one of urls, urlsFile or query, got ${sources.length === 0 ? 'none' : sources.join(' and ')}`,
        {
          code: 'CONFIG_FILE_INVALID',
          hint: FLEET_EXAMPLE,
        },
      )
    if ((fleet.query === undefined) !== (fleet.on === undefined))
      throw new ConfigError(`${label}: ${at}: query and on go together (the query runs on the database named by on)`, {
        code: 'CONFIG_FILE_INVALID',
        hint: FLEET_EXAMPLE,
      })
  }
}

/**
 * Checks the shape of a config file: unknown keys (typos) and values of the wrong type are
 * errors naming the file and the key path. Values are range-checked later, by the resolver.
 */
export function validateConfigFile(raw: unknown, label: string): void {
  if (!isPlainObject(raw)) {
    throw new ConfigError(`${label} must export an object (export default defineConfig({ … }))`, {
      code: 'CONFIG_FILE_INVALID',
    })
  }
  checkObject(raw, FILE_SCHEMA, label, '')
  const databases = raw.databases
  if (databases === undefined) return
  if (!isPlainObject(databases)) throw wrongType(label, 'databases', 'an object of named databases', databases)
  for (const [name, entry] of Object.entries(databases)) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new ConfigError(`${label}: databases.${name}: a database name may use letters, digits, _ and -`, {
        code: 'CONFIG_FILE_INVALID',
      })
    }
    if (!isPlainObject(entry)) throw wrongType(label, `databases.${name}`, 'an object', entry)
    checkObject(entry, DATABASE_SCHEMA, label, `databases.${name}.`)
  }
}

function checkObject(obj: Record<string, unknown>, schema: Record<string, Check>, label: string, prefix: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (prefix === '' && key === 'databases') continue
    const check = schema[key]
    if (check === undefined) {
      throw new ConfigError(`${label}: unknown key ${prefix}${key}`, {
        code: 'CONFIG_FILE_INVALID',
        hint: `Known keys here: ${Object.keys(schema).join(', ')}.`,
      })
    }
    if (value === undefined) continue
    if (typeof check === 'function') {
      check(value, label, `${prefix}${key}`)
    } else if (typeof check === 'string') {
      if (typeof value !== check || (check === 'number' && !Number.isFinite(value))) {
        throw wrongType(label, `${prefix}${key}`, `a ${check}`, value)
      }
    } else {
      if (!isPlainObject(value)) throw wrongType(label, `${prefix}${key}`, 'an object', value)
      checkObject(value, check as Record<string, Check>, label, `${prefix}${key}.`)
    }
  }
}

function wrongType(label: string, keyPath: string, expected: string, value: unknown, hint?: string): ConfigError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
  return new ConfigError(`${label}: ${keyPath} must be ${expected}, got ${got}`, { code: 'CONFIG_FILE_INVALID', ...(hint ? { hint } : {}) })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
