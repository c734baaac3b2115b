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
  const filePath = decodeComponent(location.slice(1), context.key, 'path')
  return { dialect: 'sqlite', path: path.resolve(context.cwd, filePath) }
}

/** The advice every message about a password that breaks the URL ends with (docs/configuration.md, "DATABASE_URL forms"). */
const ENCODE_PASSWORD_HINT = 'URL-encode the password: @ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25.'

function passwordNotEncoded(key: string): ConfigError {
  return new ConfigError(`${key}: the password contains a character that must be URL-encoded (@, :, /, ?, # or %)`, {
    code: 'CONFIG_URL',
    hint: `${ENCODE_PASSWORD_HINT} Expected postgres://user:password@host:5432/db.`,
  })
}

/**
 * Whether an '@' turns up after the authority where no URL puts one: in the path, in the
 * fragment, or in a query parameter before its '='. That is the '@' which should have ended
 * the user info, pushed out by an unencoded '/', '?' or '#' in the password. An '@' in a query
 * value (`?user=a@b`) is legitimate.
 */
function hasStrayAt(tail: string): boolean {
  const query = tail.indexOf('?')
  const fragment = tail.indexOf('#')
  for (let at = tail.indexOf('@'); at >= 0; at = tail.indexOf('@', at + 1)) {
    const inFragment = fragment >= 0 && at > fragment
    const inQuery = query >= 0 && at > query && !inFragment
    if (!inQuery) return true
    const paramStart = Math.max(tail.lastIndexOf('&', at), query)
    if (!tail.slice(paramStart, at).includes('=')) return true
  }
  return false
}

/**
 * Whether, in a URL without user info, a query value holds `@host/…`: the shape of
 * `user:12?3@host/db`, where an unencoded '?' in an all-digit password made `user:12` read as
 * host and port. A legitimate value with an '@' (`?user=a@b`) has no '/' after it.
 */
function queryHidesUserInfo(authority: string, tail: string): boolean {
  if (authority.includes('@')) return false
  const query = tail.indexOf('?')
  if (query < 0) return false
  return tail
    .slice(query + 1)
    .split('&')
    .some((param) => /@[^/]*\//.test(param.slice(param.indexOf('=') + 1)))
}

/** The text after the host's ':' in `host[:port]` or `[v6]:port`; undefined without one. */
function portTextOf(hostPort: string): string | undefined {
  const close = hostPort.indexOf(']')
  if (hostPort.startsWith('[') && close < 0) return undefined // not a URL at all: the parser says so
  const afterHost = hostPort.startsWith('[') ? hostPort.slice(close + 1) : hostPort
  const colon = afterHost.indexOf(':')
  return colon < 0 ? undefined : afterHost.slice(colon + 1)
}

/**
 * Refuses the shapes an unencoded password gives a URL before any parser reads a piece of the
 * password as a host, a port or a database. No message quotes a part of the URL: when the
 * user info is misplaced, any part of it may be the password.
 */
function assertPasswordEncoded(authority: string, tail: string, key: string): void {
  if (hasStrayAt(tail) || queryHidesUserInfo(authority, tail)) throw passwordNotEncoded(key)
  const at = authority.lastIndexOf('@')
  const port = portTextOf(authority.slice(at + 1))
  if (port === undefined || /^\d*$/.test(port)) return
  if (at < 0 && tail.includes('@')) throw passwordNotEncoded(key)
  throw new ConfigError(`${key}: the port is not a number`, {
    code: 'CONFIG_URL',
    hint:
      at < 0
        ? `Expected postgres://user:password@host:5432/db; if that was a password, the @host is missing. ${ENCODE_PASSWORD_HINT}`
        : `Write the port as digits: postgres://user:password@host:5432/db. If the password holds @ or :, ${ENCODE_PASSWORD_HINT}`,
  })
}

function parsePostgresUrl(normalised: string, context: UrlContext): PostgresTarget {
  const { key } = context
  const afterScheme = normalised.slice('postgres://'.length)
  const authorityEnd = afterScheme.search(/[/?#]/)
  const authority = authorityEnd < 0 ? afterScheme : afterScheme.slice(0, authorityEnd)
  const tail = authorityEnd < 0 ? '' : afterScheme.slice(authorityEnd)
  assertPasswordEncoded(authority, tail, key)
  // libpq's `postgresql://user@/db?host=/run/postgresql`: user info and an empty host, which
  // the WHATWG parser refuses; parse it with a stand-in host, then drop that host again
  const emptyHost = /@(:\d*)?$/.test(authority)
  let parsed: URL
  try {
    parsed = new URL(emptyHost ? `postgres://${authority.replace(/@(?=(:\d*)?$)/, '@empty.invalid')}${tail}` : normalised)
  } catch {
    throw new ConfigError(`${key} is not a valid URL`, {
      code: 'CONFIG_URL',
      hint: `Expected postgres://user:password@host:5432/database, an IPv6 host in brackets ([::1]). ${ENCODE_PASSWORD_HINT}`,
    })
  }
  const params = parseQuery(parsed.search, key)
  const socketHost = params.get('host')
  const host = (emptyHost ? '' : parseHost(parsed.hostname, key)) || socketHost || 'localhost'
  const port = parsed.port === '' ? Number(params.get('port') ?? 5432) : Number(parsed.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${key}: the port must be between 1 and 65535`, { code: 'CONFIG_URL' })
  }
  const user = decodeComponent(parsed.username, key, 'user') || params.get('user') || context.defaultUser || 'postgres'
  const password = decodeComponent(parsed.password, key, 'password') || params.get('password') || undefined
  const database = decodeComponent(parsed.pathname.replace(/^\//, ''), key, 'database name') || params.get('dbname') || user
  const sslmode = params.get('sslmode')
  const tls: TlsSettings = { mode: parseSslMode(sslmode, `${key} (sslmode)`) ?? 'prefer' }
  const rootCert = params.get('sslrootcert')
  const cert = params.get('sslcert')
  const keyFile = params.get('sslkey')
  if (rootCert) tls.rootCert = rootCert
  if (cert) tls.cert = cert
  if (keyFile) tls.key = keyFile
  return { dialect: 'postgres', host, port, database, user, password, tls }
}

/** The host without the brackets of an IPv6 literal (`[::1]` is `::1` to a socket and to libpq), %-escapes decoded. */
function parseHost(hostname: string, key: string): string {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1)
  return decodeComponent(hostname, key, 'host')
}

/** libpq's connection parameters a URL's query may carry, named in messages. */
const KNOWN_PARAMETERS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
  'application_name',
  'options',
  'target_session_attrs',
])

/**
 * The query parameters, decoded as libpq decodes them: %-escapes only (a `+` stays a plus, so a
 * password or a file name with one survives). The last of repeated names wins.
 */
function parseQuery(search: string, key: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = decodeComponent(equals < 0 ? pair : pair.slice(0, equals), key, 'name of a query parameter')
    // named only when it is a known one: an unknown "name" may be a piece of a misplaced password
    const what = KNOWN_PARAMETERS.has(name) ? `query parameter ${name}` : 'value of a query parameter'
    params.set(name, equals < 0 ? '' : decodeComponent(pair.slice(equals + 1), key, what))
  }
  return params
}

/** `decodeURIComponent`, with an error that names the part of the URL (never its text). */
function decodeComponent(value: string, key: string, what: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw new ConfigError(`${key}: the ${what} has a malformed %-escape`, {
      code: 'CONFIG_URL',
      hint: what === 'password' ? ENCODE_PASSWORD_HINT : 'A % starts an escape of two hex digits of UTF-8; write a literal % as %25.',
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
  const overSocket = target.host.startsWith('/')
  const hostPort = overSocket ? `:${target.port}` : formatHostPort(target.host, target.port)
  const query = overSocket ? `?host=${encodeURIComponent(target.host)}` : ''
  return `postgres://${auth}@${hostPort}/${encodeURIComponent(target.database)}${query}`
}

/** `host:port`, with an IPv6 literal in brackets (`[::1]:5432`) so the port stays readable. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * One line naming the target, for the banner and messages: dialect, host or file,
 * database, user; never the password.
 */
export function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `sqlite ${target.path}`
  return `postgres ${formatHostPort(target.host, target.port)}/${target.database} as ${target.user}`
}
