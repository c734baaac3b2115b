/**
 * The layers a setting is looked up in, in the order of precedence: the environment, then
 * `.env` (both as variables), then the config file's selected entry, then its top level, then
 * the default. Each value found remembers where it came from, for `config show`.
 */
import { ConfigError } from '../errors.js'
import type { DatabaseFileSettings, LoadedConfigFile } from './config-file.js'
import type { RawValue } from './values.js'

/** Where a setting's value came from. */
export type SettingSource = 'flag' | 'env' | 'dotenv' | 'config' | 'default'

/** One resolved setting, as `config show` lists it. */
export interface ConfigSetting {
  /** Setting name, e.g. `pool.size`. */
  key: string
  /** The value as text (passwords redacted). */
  value: string
  source: SettingSource
  /** The variable, flag or key that gave it: `POOL_SIZE`, `--url`, `dbops.config.ts: pool.size`. */
  origin: string
}

/** A value found in a layer, and where. */
export interface Found {
  value: RawValue
  source: SettingSource
  origin: string
}

/** A variable from the environment or `.env` (with its line there). */
export interface Variable {
  value: string
  source: 'env' | 'dotenv'
  line?: number | undefined
}

/**
 * Variables that choose the database, how dbops reaches and trusts it, or where its history
 * lives. Set but empty (a CI secret that does not exist expands to nothing), each is an error,
 * not a fallback to a default that may well be another database. Others fall back: an empty
 * `POOL_SIZE` means the default pool, and an empty `DATABASE_PASSWORD` is what a server with
 * trust or peer authentication gets anyway (a server that wants one says so, exit 7).
 */
const NOT_EMPTY =
  /^(DATABASE_(URL(_.+)?|HOST|PORT|NAME|USER|PATH|SCHEMA|SSLMODE|SSLROOTCERT|SSLCERT|SSLKEY)|SHADOW_DATABASE_URL|DBOPS_CONFIG|DBOPS_MIGRATIONS_TABLE)$/

/**
 * The variable `name` when it has a value; undefined when it is unset, or empty where empty
 * means "not given". Throws for a set but empty variable of {@link NOT_EMPTY}.
 */
export function lookUp(vars: Map<string, Variable>, name: string, dotenvFile: string): Variable | undefined {
  const hit = vars.get(name)
  if (hit === undefined) return undefined
  const strict = NOT_EMPTY.test(name)
  if (strict ? hit.value.trim() !== '' : hit.value !== '') return hit
  if (!strict) return undefined
  const where = hit.source === 'dotenv' ? ` (${dotenvFile}:${hit.line})` : ''
  throw new ConfigError(`${name} is set but empty${where}`, {
    code: 'CONFIG_EMPTY',
    hint: 'Unset it to leave it out, or give it a value. In CI, check that the secret or variable it comes from exists: a missing one expands to nothing.',
  })
}

/**
 * Looks a setting up through the layers, records where it came from, and parses it.
 * Keeps the provenance logic in one place so every setting follows the same precedence.
 */
export class Layers {
  readonly settings: ConfigSetting[] = []

  constructor(
    private readonly vars: Map<string, Variable>,
    private readonly dotenvFile: string,
    private readonly file: LoadedConfigFile | undefined,
    private readonly entry: DatabaseFileSettings | undefined,
    private readonly entryPrefix: string,
  ) {}

  /** The first set variable of `names`, from the environment or `.env` (see {@link lookUp}). */
  variable(names: readonly string[]): Found | undefined {
    for (const name of names) {
      const hit = lookUp(this.vars, name, this.dotenvFile)
      if (hit) return { value: hit.value, source: hit.source, origin: hit.source === 'env' ? name : `${name} (.env)` }
    }
    return undefined
  }

  /** A key of the config file: the selected entry first, then the top level. */
  fileValue(keyPath: string, topLevelToo = true): Found | undefined {
    if (!this.file) return undefined
    const places: Array<[unknown, string]> = []
    if (this.entry) places.push([this.entry, this.entryPrefix])
    if (!this.entry || topLevelToo) places.push([this.file.config, ''])
    for (const [obj, prefix] of places) {
      const value = keyPath.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj)
      if (value !== undefined) return { value: value as RawValue, source: 'config', origin: `${this.file.label}: ${prefix}${keyPath}` }
    }
    return undefined
  }

  /** Resolves one setting: environment/.env, then config file, then the default. */
  pick<T>(
    key: string,
    options: {
      env?: readonly string[]
      file?: string
      def: T
      parse: (value: RawValue, where: string) => T
      show?: (value: T) => string
      /** How `config show` names where the default comes from (default `default`). */
      defaultOrigin?: string
    },
  ): T {
    const found = (options.env && this.variable(options.env)) || (options.file !== undefined ? this.fileValue(options.file) : undefined)
    const value = found ? options.parse(found.value, found.origin) : options.def
    const origin = found?.origin ?? options.defaultOrigin ?? 'default'
    this.record(key, value === undefined ? '' : (options.show ?? String)(value), found?.source ?? 'default', origin)
    return value
  }

  record(key: string, value: string, source: SettingSource, origin: string): void {
    this.settings.push({ key, value, source, origin })
  }
}
