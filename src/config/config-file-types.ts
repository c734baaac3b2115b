/**
 * The shape of `dbops.config.{ts,js,json}`: what each section of the file may hold. Loading and
 * validation are in config-file.ts, which re-exports these types.
 */
/** Pool settings (seconds for times). pg's pool gets `max = size + maxOverflow`. */
export interface PoolFileSettings {
  size?: number
  maxOverflow?: number
  timeout?: number
  recycle?: number
}

/** SQLite pragmas applied on every connection. */
export interface SqliteFileSettings {
  journalMode?: 'WAL' | 'DELETE' | 'TRUNCATE' | 'PERSIST' | 'MEMORY' | 'OFF'
  synchronous?: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'
  cacheSize?: number
  /** Milliseconds to wait on a locked database before "database is locked". */
  busyTimeout?: number
}

/** TLS settings with libpq's names and meaning. */
export interface TlsFileSettings {
  sslmode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
  sslrootcert?: string
  sslcert?: string
  sslkey?: string
}

/** Backup settings: where backups go and how many to keep. */
export interface BackupFileSettings {
  dir?: string
  keepLast?: number
  keepDaily?: number
  keepWeekly?: number
  keepMonthly?: number
  /** Off-site copies: an S3-compatible bucket and prefix (see docs/offsite-backups.md). */
  remote?: RemoteFileSettings
  /** age encryption of backups before they leave the machine. */
  encrypt?: EncryptFileSettings
  /** Hours after which `health` warns that no restore drill ran (default 168). */
  maxDrillAge?: number
}

/** `backup.remote`: where off-site copies go. Credentials come from the AWS SDK's default chain only. */
export interface RemoteFileSettings {
  /** `s3://bucket/prefix`. */
  url?: string
  /** The S3 endpoint of a non-AWS service (MinIO, R2, B2, Garage, Ceph); else `AWS_ENDPOINT_URL_S3` or AWS. */
  endpoint?: string
  region?: string
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO, Garage and Ceph usually need. */
  forcePathStyle?: boolean
}

/** `backup.encrypt`: age recipients (public keys) backups are encrypted to. */
export interface EncryptFileSettings {
  recipients?: string[]
  /** Refuse to upload or restore a backup that is not encrypted. */
  required?: boolean
}

/** The object form of the `schema` key. */
export interface SchemaFileSettings {
  /** The default schema (as the string form); default `public`. */
  default?: string
  /** The schemas compared; default the default schema alone. `'all'`: every non-system schema. */
  schemas?: string[] | 'all'
}

/** Settings of one database: the default one at the top level, or a named entry. */
export interface DatabaseFileSettings {
  /** Connection URL (see docs/configuration.md, "DATABASE_URL forms"). */
  url?: string
  /**
   * PostgreSQL schemas. A string names the default schema (default `public`): where
   * unqualified names live, and the one schema compared by `schema pull`/`diff`, `migrate
   * generate --from-models` and `inspect`, and the history table's default schema. The object form also says which schemas those
   * compare: `{ default: 'public', schemas: ['public', 'app', 'auth'] }`, or `schemas: 'all'`
   * for every schema but the system ones (the flags `--schema a,b` / `--all-schemas` win).
   */
  schema?: string | SchemaFileSettings
  /** Destructive commands refuse without `--yes` on a protected database. */
  protected?: boolean
  pool?: PoolFileSettings
  sqlite?: SqliteFileSettings
  tls?: TlsFileSettings
  /** Seconds: the whole deadline for connecting, retries included (default 10). */
  connectTimeout?: number
  /** Retries on a refused connection or "database is locked", within the deadline (default 3). */
  maxRetries?: number
  /** Echo SQL to stderr. */
  echo?: boolean
  backup?: BackupFileSettings
}

/**
 * `migrate lint` and the lint gate of `migrate up`: rules turned `off` or given another
 * severity by id, the least severity that fails (`failOn`, default `error`), and the size under
 * which the gate counts a table as small (`smallTable`: estimated rows and bytes).
 */
export interface LintFileSettings {
  rules?: Record<string, 'off' | 'warning' | 'error'>
  failOn?: 'error' | 'warning'
  smallTable?: { rows?: number; bytes?: number }
}

/**
 * `dbops doctor`: thresholds by name (docs/doctor.md lists them with their defaults), each a
 * number ≥ 0 or `'off'`; the names are checked by the doctor.
 */
export interface DoctorFileSettings {
  thresholds?: Record<string, number | 'off'>
}

/** The whole config file. */
export interface DbopsConfigFile extends DatabaseFileSettings {
  /**
   * Migrations: the directory, relative to the config file (default `migrations`); how many
   * seconds `migrate` waits for another run's lock (`lockTimeout`; default 60); PostgreSQL's
   * `lock_timeout` for migration statements
   * (`statementLockTimeout`, seconds, default 5, 0 = wait forever); how many times a
   * transactional migration that hit it is retried (`lockRetries`, default 3); the history table
   * (`table`: `name` or, on PostgreSQL, `schema.name`; default `dbops_migrations` in `schema`).
   */
  migrations?: { dir?: string; lockTimeout?: number; statementLockTimeout?: number; lockRetries?: number; table?: string }
  /** Module that exports the schema models (used by `schema diff`). */
  models?: string
  lint?: LintFileSettings
  doctor?: DoctorFileSettings
  /** Named databases, selected with `--db NAME`; `DATABASE_URL_<NAME>` overrides the URL. */
  databases?: Record<string, DatabaseFileSettings>
  /** Named groups of targets for `--fleet NAME` (see {@link FleetFileSettings}). */
  fleets?: Record<string, FleetFileSettings>
}

/**
 * A fleet: the databases (or tenant schemas) one `--fleet NAME` command runs on. Exactly one
 * source: `urls` (a list), `urlsFile` (one URL per line, `#` comments; relative to the config
 * file), or `query` run on the named database `on` (each row's first column a URL or a schema
 * name of that database). `schemas`: a glob (`tenant_*`) that expands each database into its
 * matching schemas. Passwords need not be in the URLs: `DATABASE_PASSWORD` or a `.pgpass`-style
 * `passfile` (or `DATABASE_PASSFILE`) supplies them.
 */
export interface FleetFileSettings {
  urls?: string[]
  urlsFile?: string
  query?: string
  on?: string
  schemas?: string
  passfile?: string
  concurrency?: number
}
