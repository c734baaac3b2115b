/**
 * The one connection-config module: every command resolves its target and settings here.
 *
 * Precedence, highest first: command-line flags > environment > `.env` in the working
 * directory > `dbops.config.{ts,js,json}` > defaults. The environment and `.env` describe
 * the default database; `--db NAME` selects a named entry of the config file, and
 * `DATABASE_URL_<NAME>` overrides that entry's URL. Each value remembers where it came from
 * (`config show` prints it), and the chosen target remembers the rule that chose it.
 */
import path from 'node:path'
import { ConfigError } from '../errors.js'
import {
  type DbopsConfigFile,
  type DatabaseFileSettings,
  type FleetFileSettings,
  type DoctorFileSettings,
  type LintFileSettings,
  loadConfigFile,
} from './config-file.js'
import { type DatabaseTarget, formatTargetUrl, parseDatabaseUrl } from './database-url.js'
import { type ConfigSetting, Layers, type Variable, lookUp } from './config-layers.js'
import { loadDotenv } from './env-file.js'
import { registerSecret } from './redact.js'
import { type TargetFlags, resolveTarget } from './resolve-target.js'
import {
  type RawValue,
  parseBoolean,
  parseChoice,
  parseIdentifier,
  parseInteger,
  parseSchemaList,
  parseSeconds,
  parseTableName,
  parseText,
} from './values.js'

export type { ConfigSetting, SettingSource } from './config-layers.js'

/** The history table's default name, in `DATABASE_SCHEMA`. */
export const MIGRATION_TABLE = 'dbops_migrations'

/**
 * Where the migration history lives: `DBOPS_MIGRATIONS_TABLE` / `migrations.table`, by default
 * {@link MIGRATION_TABLE} in `DATABASE_SCHEMA`. `schema` is `main` on SQLite, which has none.
 */
export interface MigrationTableName {
  schema: string
  name: string
}

/** Pool settings, seconds for times; pg gets `max = size + maxOverflow`. */
export interface PoolSettings {
  size: number
  maxOverflow: number
  /** Seconds to wait for a connection from the pool. */
  timeoutSeconds: number
  /** Seconds after which a connection is closed and replaced (0: never). */
  recycleSeconds: number
}

/** SQLite pragmas applied on every connection (foreign keys are always on). */
export interface SqliteSettings {
  journalMode: 'WAL' | 'DELETE' | 'TRUNCATE' | 'PERSIST' | 'MEMORY' | 'OFF'
  synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'
  /** `PRAGMA cache_size`; undefined keeps SQLite's default. */
  cacheSize: number | undefined
  busyTimeoutMs: number
}

/** Backup settings. */
export interface BackupSettings {
  dir: string
  keepLast: number | undefined
  keepDaily: number | undefined
  keepWeekly: number | undefined
  keepMonthly: number | undefined
}

/** Everything a command needs to know about its database, resolved and validated. */
export interface ResolvedConfig {
  cwd: string
  /** The config file read, if any. */
  configFile: string | undefined
  /** `default`, or the `--db` name. */
  databaseName: string
  /** Which rule chose the target, in words: "DATABASE_URL from the environment". */
  rule: string
  target: DatabaseTarget
  /** PostgreSQL: the default schema, where unqualified names live, first on the migrations' `search_path`. */
  schema: string
  /**
   * The schemas `schema pull`/`diff`, `migrate generate --from-models` and `inspect` compare:
   * names, or `'all'` (every non-system schema). Default: the default schema alone.
   */
  schemas: readonly string[] | 'all'
  /**
   * The migration history table: `DBOPS_MIGRATIONS_TABLE` / `migrations.table`, by default
   * `dbops_migrations` in `schema` (where every dbops before this setting kept it, so nobody's
   * history moves). `schema` is `main` on SQLite.
   */
  migrationsTable: MigrationTableName
  pool: PoolSettings
  sqlite: SqliteSettings
  /** The whole deadline for connecting, retries included. */
  connectTimeoutSeconds: number
  maxRetries: number
  echo: boolean
  /** `ENV` or `NODE_ENV` is `production`. */
  production: boolean
  /** The config entry is marked `protected: true`. */
  protected: boolean
  migrationsDir: string
  /** Seconds `migrate` waits for another run's lock; undefined: the dialect's default (60 s, or SQLite's busy timeout). */
  migrationLockTimeoutSeconds: number | undefined
  /** PostgreSQL `lock_timeout` for migration statements, seconds; 0 waits forever. */
  statementLockTimeoutSeconds: number
  /** Retries of a transactional migration that hit `lock_timeout` (`migrations.lockRetries`), default 3. */
  lockRetries: number
  /** The models module, when configured. */
  modelsPath: string | undefined
  /** The config file's `lint` settings, as written (rule ids are checked by the lint). */
  lint: LintFileSettings
  /** The config file's `doctor` settings, as written (threshold names are checked by the doctor). */
  doctor: DoctorFileSettings
  backup: BackupSettings
  /**
   * `SHADOW_DATABASE_URL`: a PostgreSQL database `schema diff --against migrations` and
   * `migrate generate --from-models` may empty and replay into, instead of creating one.
   */
  shadowUrl: string | undefined
  /** Named databases in the config file. */
  databases: string[]
  /** Named fleets of the config file, as written (`--fleet NAME`). */
  fleets: Record<string, FleetFileSettings>
  /**
   * A glob of schemas whose history tables of the same name are sibling tenants' histories
   * (schema-per-tenant fleets, `--schemas`), not this target's history kept elsewhere: the
   * history guard passes over them. Undefined (everyone else): the guard sees every schema.
   */
  historySiblings?: string | undefined
  /** Each setting with its source, for `config show`. */
  settings: ConfigSetting[]
}

/** Inputs of {@link resolveConfig}; all optional. */
export interface ResolveOptions {
  /** Working directory (default `process.cwd()`). */
  cwd?: string
  /** Environment (default `process.env`). */
  env?: Record<string, string | undefined>
  /** The common flags of every command. */
  flags?: TargetFlags
}

/**
 * Resolves the configuration: reads `.env` and the config file, applies the precedence,
 * validates every value (a message names the variable or key at fault), and registers the
 * password for redaction. Never opens the database.
 *
 * @example
 * const config = await resolveConfig({ flags: { db: 'analytics' } })
 * config.target // { dialect: 'postgres', host: 'db', … }
 */
export async function resolveConfig(options: ResolveOptions = {}): Promise<ResolvedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  const flags = options.flags ?? {}
  const dotenv = loadDotenv(cwd)
  const vars = new Map<string, Variable>()
  for (const [name, value] of Object.entries(dotenv.values)) vars.set(name, { value, source: 'dotenv', line: dotenv.lineOf[name] })
  for (const [name, value] of Object.entries(env)) if (value !== undefined) vars.set(name, { value, source: 'env' })

  const file = await loadConfigFile(cwd, flags.config ?? lookUp(vars, 'DBOPS_CONFIG', dotenv.file)?.value)
  const fileConfig: DbopsConfigFile = file?.config ?? {}
  const databaseName = flags.db ?? 'default'
  let entry: DatabaseFileSettings | undefined
  if (flags.db !== undefined) {
    entry = fileConfig.databases?.[flags.db]
    if (!entry) {
      const known = Object.keys(fileConfig.databases ?? {})
      throw new ConfigError(`--db ${flags.db}: no database of that name in ${file ? file.label : 'the config (there is no config file)'}`, {
        code: 'CONFIG_UNKNOWN_DATABASE',
        hint: known.length > 0 ? `Known databases: ${known.join(', ')}.` : 'Add it under `databases` in dbops.config.ts.',
      })
    }
  }
  const layers = new Layers(vars, dotenv.file, file, entry, `databases.${databaseName}.`)

  const { target, rule } = resolveTarget({ cwd, flags, layers, databaseName, entry, fileConfig, file })

  // `schema` in the file: the default schema's name, or { default, schemas }
  const schemaObject = typeof layers.fileValue('schema')?.value === 'object'
  const schema = layers.pick('schema', {
    env: ['DATABASE_SCHEMA'],
    file: schemaObject ? 'schema.default' : 'schema',
    def: 'public',
    parse: parseIdentifier,
  })
  const schemas = layers.pick<readonly string[] | 'all'>('schema.compared', {
    ...(schemaObject ? { file: 'schema.schemas' } : {}),
    def: [schema],
    parse: parseSchemaList,
    show: (value) => (value === 'all' ? 'all' : value.join(',')),
  })
  const pool: PoolSettings = {
    size: layers.pick('pool.size', {
      env: ['POOL_SIZE', 'DB_POOL_SIZE'],
      file: 'pool.size',
      def: 5,
      parse: (v, w) => parseInteger(v, w, 1, 10_000),
    }),
    maxOverflow: layers.pick('pool.max_overflow', {
      env: ['MAX_OVERFLOW', 'DB_MAX_OVERFLOW'],
      file: 'pool.maxOverflow',
      def: 10,
      parse: (v, w) => parseInteger(v, w, 0, 10_000),
    }),
    timeoutSeconds: layers.pick('pool.timeout', {
      env: ['POOL_TIMEOUT', 'DB_POOL_TIMEOUT'],
      file: 'pool.timeout',
      def: 30,
      parse: (v, w) => parseSeconds(v, w, 0),
    }),
    recycleSeconds: layers.pick('pool.recycle', {
      env: ['POOL_RECYCLE', 'DB_POOL_RECYCLE'],
      file: 'pool.recycle',
      def: 0,
      parse: parseRecycle,
    }),
  }
  const sqlite: SqliteSettings = {
    journalMode: layers.pick('sqlite.journal_mode', {
      env: ['SQLITE_JOURNAL_MODE'],
      file: 'sqlite.journalMode',
      def: 'WAL' as const,
      parse: (v, w) => parseChoice(v, w, ['WAL', 'DELETE', 'TRUNCATE', 'PERSIST', 'MEMORY', 'OFF'] as const),
    }),
    synchronous: layers.pick('sqlite.synchronous', {
      env: ['SQLITE_SYNCHRONOUS'],
      file: 'sqlite.synchronous',
      def: 'NORMAL' as const,
      parse: (v, w) => parseChoice(v, w, ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const),
    }),
    cacheSize: layers.pick<number | undefined>('sqlite.cache_size', {
      env: ['SQLITE_CACHE_SIZE'],
      file: 'sqlite.cacheSize',
      def: undefined,
      parse: (v, w) => parseInteger(v, w, -1_000_000_000, 1_000_000_000),
    }),
    busyTimeoutMs: layers.pick('sqlite.busy_timeout_ms', {
      env: ['SQLITE_BUSY_TIMEOUT'],
      file: 'sqlite.busyTimeout',
      def: 5000,
      parse: (v, w) => parseInteger(v, w, 0, 3_600_000),
    }),
  }
  const connectTimeoutSeconds = layers.pick('connect_timeout', {
    env: ['DATABASE_CONNECT_TIMEOUT'],
    file: 'connectTimeout',
    def: 10,
    parse: (v, w) => parseSeconds(v, w, 0.1),
  })
  const maxRetries = layers.pick('max_retries', {
    env: ['DATABASE_MAX_RETRIES'],
    file: 'maxRetries',
    def: 3,
    parse: (v, w) => parseInteger(v, w, 0, 100),
  })
  const echo = layers.pick('echo', { env: ['DATABASE_ECHO', 'SQL_ECHO', 'DB_ECHO_SQL'], file: 'echo', def: false, parse: parseBoolean })
  const envName = layers.variable(['ENV', 'NODE_ENV'])
  const production = envName !== undefined && String(envName.value).trim().toLowerCase() === 'production'
  layers.record('production', String(production), envName?.source ?? 'default', envName?.origin ?? 'default')
  const isProtected = layers.pick('protected', { file: 'protected', def: false, parse: parseBoolean })

  const baseDir = file ? path.dirname(file.path) : cwd
  const migrationsDir = path.resolve(
    baseDir,
    layers.pick('migrations_dir', { env: ['DBOPS_MIGRATIONS_DIR'], file: 'migrations.dir', def: 'migrations', parse: parseText }),
  )
  const migrationLockTimeoutSeconds = layers.pick<number | undefined>('migrations.lock_timeout', {
    env: ['DBOPS_LOCK_TIMEOUT'],
    file: 'migrations.lockTimeout',
    def: undefined,
    parse: (v, w) => parseSeconds(v, w, 0),
  })
  const migrationsTable = pickMigrationsTable(layers, target, schema)
  const statementLockTimeoutSeconds = layers.pick('migrations.statement_lock_timeout', {
    env: ['DBOPS_STATEMENT_LOCK_TIMEOUT'],
    file: 'migrations.statementLockTimeout',
    def: 5,
    parse: (v, w) => parseSeconds(v, w, 0),
  })
  const lockRetries = layers.pick('migrations.lock_retries', {
    env: ['DBOPS_LOCK_RETRIES'],
    file: 'migrations.lockRetries',
    def: 3,
    parse: (v, w) => parseInteger(v, w, 0, 100),
  })
  const models = layers.pick<string | undefined>('models', { file: 'models', def: undefined, parse: parseText })
  const backup: BackupSettings = {
    dir: path.resolve(baseDir, layers.pick('backup.dir', { env: ['BACKUP_DIR'], file: 'backup.dir', def: 'backups', parse: parseText })),
    keepLast: pickKeep(layers, 'keep_last', 'BACKUP_KEEP_LAST', 'backup.keepLast'),
    keepDaily: pickKeep(layers, 'keep_daily', 'BACKUP_KEEP_DAILY', 'backup.keepDaily'),
    keepWeekly: pickKeep(layers, 'keep_weekly', 'BACKUP_KEEP_WEEKLY', 'backup.keepWeekly'),
    keepMonthly: pickKeep(layers, 'keep_monthly', 'BACKUP_KEEP_MONTHLY', 'backup.keepMonthly'),
  }

  const shadow = layers.variable(['SHADOW_DATABASE_URL'])
  const shadowUrl = shadow === undefined ? undefined : String(shadow.value)
  if (shadowUrl !== undefined) {
    const shadowTarget = parseDatabaseUrl(shadowUrl, { key: shadow!.origin, cwd })
    if (shadowTarget.dialect === 'postgres') {
      registerSecret(shadowTarget.password, [shadowTarget.user, shadowTarget.database, shadowTarget.host])
    }
    layers.record('shadow_url', formatTargetUrl(shadowTarget), shadow!.source, shadow!.origin)
  }

  return {
    cwd,
    configFile: file?.path,
    databaseName,
    rule,
    target,
    schema,
    schemas,
    pool,
    sqlite,
    connectTimeoutSeconds,
    maxRetries,
    echo,
    production,
    protected: isProtected,
    migrationsDir,
    migrationLockTimeoutSeconds,
    migrationsTable,
    statementLockTimeoutSeconds,
    lockRetries,
    lint: fileConfig.lint ?? {},
    doctor: fileConfig.doctor ?? {},
    modelsPath: models === undefined ? undefined : path.resolve(baseDir, models),
    backup,
    shadowUrl,
    databases: Object.keys(fileConfig.databases ?? {}),
    fleets: fileConfig.fleets ?? {},
    settings: layers.settings,
  }
}

/**
 * `DBOPS_MIGRATIONS_TABLE` / `migrations.table`: `name` or `schema.name` on PostgreSQL (a bare
 * name is in `schema`); a bare name on SQLite, which has no schemas (`main.name` is accepted).
 */
function pickMigrationsTable(layers: Layers, target: DatabaseTarget, schema: string): MigrationTableName {
  const hasSchemas = target.dialect === 'postgres'
  const home = hasSchemas ? schema : 'main'
  return layers.pick<MigrationTableName>('migrations.table', {
    env: ['DBOPS_MIGRATIONS_TABLE'],
    file: 'migrations.table',
    def: { schema: home, name: MIGRATION_TABLE },
    defaultOrigin: hasSchemas ? 'default (dbops_migrations in DATABASE_SCHEMA)' : 'default',
    show: (table) => (hasSchemas ? `${table.schema}.${table.name}` : table.name),
    parse: (value, where) => {
      const table = parseTableName(value, where)
      if (!hasSchemas && table.schema !== undefined && table.schema !== 'main') {
        throw new ConfigError(`${where}: SQLite has no schemas, got "${String(value)}"`, {
          code: 'CONFIG_INVALID',
          hint: `Give the table name alone, e.g. ${table.name}.`,
        })
      }
      return { schema: table.schema ?? home, name: table.name }
    },
  })
}

function pickKeep(layers: Layers, key: string, envName: string, fileKey: string): number | undefined {
  return layers.pick<number | undefined>(`backup.${key}`, {
    env: [envName],
    file: fileKey,
    def: undefined,
    parse: (v, w) => parseInteger(v, w, 0, 100_000),
  })
}

/** SQLAlchemy's `pool_recycle` uses -1 for "never"; accept it as 0. */
function parseRecycle(value: RawValue, where: string): number {
  const seconds = String(value).trim() === '-1' || value === -1 ? 0 : parseSeconds(value, where, 0)
  return seconds
}
