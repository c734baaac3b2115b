/**
 * Parsing of `DATABASE_URL` in every form dbops accepts: `postgres://`, `postgresql://`,
 * `sqlite:///relative.db`, `sqlite:////absolute.db`, dbmate's `sqlite:relative.db` and
 * `sqlite:/absolute.db`, `:memory:`, and the Python driver
 * suffixes (`postgresql+asyncpg://`, `postgresql+psycopg2://`, `sqlite+aiosqlite://`) that
 * the same team's other services use, so one `.env` serves both. Pure functions.
 */
import path from 'node:path'
import { ConfigError } from '../errors.js'

/** libpq's `sslmode` values, with libpq's meaning (see {@link TlsSettings}). */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const

/** One of {@link SSL_MODES}. */
export type SslMode = (typeof SSL_MODES)[number]

/**
 * TLS settings with libpq's meaning, so dbops and `pg_dump` agree: `prefer` (libpq's
 * default) tries TLS and falls back to plain; `require` encrypts without verifying the
 * server, unless a root certificate is given, which makes it `verify-ca`; `verify-ca`
 * checks the chain; `verify-full` checks the chain and the host name.
 */
export interface TlsSettings {
  mode: SslMode
  /** Path to the CA certificate(s), or `system` for the system store. */
  rootCert?: string
  /** Path to the client certificate. */
  cert?: string
  /** Path to the client key. */
  key?: string
}

/** A SQLite database: an absolute file path, or `:memory:`. */
export interface SqliteTarget {
  dialect: 'sqlite'
  path: string
}

/** A PostgreSQL database. `host` may be a Unix-socket directory (starts with `/`). */
export interface PostgresTarget {
  dialect: 'postgres'
  host: string
  port: number
  database: string
  user: string
  password: string | undefined
  tls: TlsSettings
}

/** What a connection configuration points at. */
export type DatabaseTarget = SqliteTarget | PostgresTarget

/** Driver suffixes of SQLAlchemy URLs that dbops accepts and drops. */
const POSTGRES_DRIVERS = new Set(['asyncpg', 'psycopg2', 'psycopg', 'psycopg2cffi', 'pg8000'])
const SQLITE_DRIVERS = new Set(['aiosqlite', 'pysqlite', 'pysqlcipher'])

/** Where the URL came from, for messages: `DATABASE_URL`, `--url`, `databases.main.url`. */
export interface UrlContext {
  /** The variable, flag or key that held the URL, named in every error. */
  key: string
  /** Directory that relative SQLite paths resolve against. */
  cwd: string
  /** Defaults for parts the URL leaves out (libpq's: user from the OS, port 5432). */
  defaultUser?: string
}

/**
 * Splits `scheme+driver://` into the dialect and the driver suffix.
 * Returns undefined for a string with no `scheme://`.
 */
function splitScheme(url: string): { scheme: string; driver: string | undefined; rest: string } | undefined {
  const match = /^([A-Za-z][A-Za-z0-9.-]*)(?:\+([A-Za-z0-9_]+))?:\/\/(.*)$/s.exec(url)
  if (!match) return undefined
  return { scheme: match[1]!.toLowerCase(), driver: match[2]?.toLowerCase(), rest: match[3]! }
}

/**
 * Normalises a database URL: drops accepted Python driver suffixes and spells PostgreSQL
 * as `postgres://`. The rest of the URL is kept byte for byte.
 *
 * @example normaliseDatabaseUrl('postgresql+asyncpg://u:p@h/app') // 'postgres://u:p@h/app'
 */
export function normaliseDatabaseUrl(url: string, key = 'DATABASE_URL'): string {
  const trimmed = url.trim()
  if (trimmed === ':memory:') return trimmed
  // dbmate's form, without slashes: sqlite:db/app.db (relative), sqlite:/var/lib/app.db (absolute)
  const dbmate = /^sqlite3?:(?!\/\/)(.+)$/i.exec(trimmed)
  if (dbmate) return `sqlite:///${dbmate[1]!}`
  const parts = splitScheme(trimmed)
  if (!parts) {
    throw new ConfigError(`${key} is not a URL (expected postgres://… or sqlite:///…)`, {
      code: 'CONFIG_URL',
      hint: 'Examples: postgres://user:password@host:5432/db, sqlite:///data/app.db',
    })
  }
  if (parts.scheme === 'postgres' || parts.scheme === 'postgresql') {
    if (parts.driver && !POSTGRES_DRIVERS.has(parts.driver)) {
      throw unknownScheme(key, `${parts.scheme}+${parts.driver}`)
    }
    return `postgres://${parts.rest}`
  }
  if (parts.scheme === 'sqlite' || parts.scheme === 'sqlite3') {
    if (parts.driver && !SQLITE_DRIVERS.has(parts.driver)) {
      throw unknownScheme(key, `${parts.scheme}+${parts.driver}`)
    }
    return `sqlite://${parts.rest}`
  }
  throw unknownScheme(key, parts.driver ? `${parts.scheme}+${parts.driver}` : parts.scheme)
}

function unknownScheme(key: string, scheme: string): ConfigError {
  return new ConfigError(`${key} has an unsupported scheme "${scheme}://"`, {
    code: 'CONFIG_URL',
    hint: 'dbops supports postgres://, postgresql:// (with +asyncpg, +psycopg2 …) and sqlite:///path.db',
  })
}

/**
 * Parses a database URL into a {@link DatabaseTarget}. Never echoes the URL in an error
 * (it may hold a password); names `context.key` instead.
 *
 * SQLite follows SQLAlchemy: `sqlite:///data/app.db` is relative to `context.cwd`,
 * `sqlite:////var/db/app.db` is absolute, `sqlite://` and `sqlite:///:memory:` are in memory.
 */
export function parseDatabaseUrl(url: string, context: UrlContext): DatabaseTarget {
  const normalised = normaliseDatabaseUrl(url, context.key)
  if (normalised === ':memory:') return { dialect: 'sqlite', path: ':memory:' }
  if (normalised.startsWith('sqlite://')) return parseSqliteUrl(normalised.slice('sqlite://'.length), context)
  return parsePostgresUrl(normalised, context)
}

function parseSqliteUrl(rest: string, context: UrlContext): SqliteTarget {
  const [location = ''] = rest.split('?')
  if (location === '' || location === '/' || location === '/:memory:') return { dialect: 'sqlite', path: ':memory:' }
  if (!location.startsWith('/')) {
    throw new ConfigError(`${context.key}: a SQLite URL has three slashes before a relative path`, {
      code: 'CONFIG_URL',
      hint: 'Use sqlite:///data/app.db (relative) or sqlite:////var/lib/app.db (absolute).',
    })
  }
  const filePath = decodeURIComponent(location.slice(1))
  return { dialect: 'sqlite', path: path.resolve(context.cwd, filePath) }
}

function parsePostgresUrl(normalised: string, context: UrlContext): PostgresTarget {
  const { key } = context
  const afterScheme = normalised.slice('postgres://'.length)
  // An unencoded '/', '#' or '?' in the password ends the authority early, so the '@'
  // shows up after it: "postgres://u:pa/ss@host/db". Say so instead of a puzzling parse.
  const authorityEnd = afterScheme.search(/[/?#]/)
  const authority = authorityEnd < 0 ? afterScheme : afterScheme.slice(0, authorityEnd)
  const tail = authorityEnd < 0 ? '' : afterScheme.slice(authorityEnd)
  const stray = tail.indexOf('@')
  // A query parameter may hold an '@' (?user=a@b): that one has an '=' before it.
  if (stray >= 0 && !authority.includes('@') && !tail.slice(0, stray).includes('=')) {
    throw new ConfigError(`${key}: the password contains a character that must be URL-encoded (/, # or ?)`, {
      code: 'CONFIG_URL',
      hint: 'URL-encode the password: / as %2F, # as %23, ? as %3F, @ as %40, : as %3A.',
    })
  }
  // libpq's `postgresql://user@/db?host=/run/postgresql`: user info and an empty host, which
  // the WHATWG parser refuses; parse it with a stand-in host, then drop that host again
  const emptyHost = /@(:\d*)?$/.test(authority)
  let parsed: URL
  try {
    parsed = new URL(emptyHost ? `postgres://${authority.replace(/@(?=(:\d*)?$)/, '@empty.invalid')}${tail}` : normalised)
  } catch {
    const portMatch = /:([^/@:]*)$/.exec(authority.slice(authority.lastIndexOf('@') + 1))
    if (portMatch && !/^\d*$/.test(portMatch[1]!)) {
      throw new ConfigError(`${key}: the port "${portMatch[1]}" is not a number`, {
        code: 'CONFIG_URL',
        hint: 'Write the port as digits, e.g. postgres://user@host:5432/db.',
      })
    }
    throw new ConfigError(`${key} is not a valid URL`, {
      code: 'CONFIG_URL',
      hint: 'Expected postgres://user:password@host:5432/database; URL-encode special characters in the password.',
    })
  }
  const params = parsed.searchParams
  const socketHost = params.get('host') ?? undefined
  const host = (emptyHost ? '' : decodeURIComponent(parsed.hostname)) || socketHost || 'localhost'
  const port = parsed.port === '' ? Number(params.get('port') ?? 5432) : Number(parsed.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${key}: the port must be between 1 and 65535`, { code: 'CONFIG_URL' })
  }
  const user = decodeComponent(parsed.username, key, 'user') || params.get('user') || context.defaultUser || 'postgres'
  const password = decodeComponent(parsed.password, key, 'password') || params.get('password') || undefined
  const database = decodeComponent(parsed.pathname.replace(/^\//, ''), key, 'database name') || params.get('dbname') || user
  const sslmode = params.get('sslmode') ?? undefined
  const tls: TlsSettings = { mode: parseSslMode(sslmode, `${key} (sslmode)`) ?? 'prefer' }
  const rootCert = params.get('sslrootcert')
  const cert = params.get('sslcert')
  const keyFile = params.get('sslkey')
  if (rootCert) tls.rootCert = rootCert
  if (cert) tls.cert = cert
  if (keyFile) tls.key = keyFile
  return { dialect: 'postgres', host, port, database, user, password, tls }
}

function decodeComponent(value: string, key: string, what: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw new ConfigError(`${key}: the ${what} has a malformed %-escape`, {
      code: 'CONFIG_URL',
      hint: 'URL-encode special characters: % as %25.',
    })
  }
}

/** Validates an `sslmode` value; undefined passes through. */
export function parseSslMode(value: string | undefined, key: string): SslMode | undefined {
  if (value === undefined || value === '') return undefined
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode
  throw new ConfigError(`${key} must be one of ${SSL_MODES.join(', ')}; got "${value}"`, { code: 'CONFIG_INVALID' })
}

/**
 * Builds the URL of a target back, for display and for child processes that take one.
 * The password is left out unless `withPassword` is set.
 */
export function formatTargetUrl(target: DatabaseTarget, withPassword = false): string {
  if (target.dialect === 'sqlite') return target.path === ':memory:' ? ':memory:' : `sqlite:///${target.path}`
  const user = encodeURIComponent(target.user)
  const auth = target.password !== undefined ? `${user}:${withPassword ? encodeURIComponent(target.password) : '***'}` : user
  const host = target.host.startsWith('/') ? '' : target.host.includes(':') ? `[${target.host}]` : target.host
  const query = target.host.startsWith('/') ? `?host=${encodeURIComponent(target.host)}` : ''
  return `postgres://${auth}@${host}:${target.port}/${encodeURIComponent(target.database)}${query}`
}

/**
 * One line naming the target, for the banner and messages: dialect, host or file,
 * database, user; never the password.
 */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `sqlite ${target.path}`
  return `postgres ${target.host}:${target.port}/${target.database} as ${target.user}`
}
