/**
 * Mapping of connection failures from pg and Node's sockets onto dbops' typed errors,
 * naming the step that failed (name lookup, TCP connect, TLS, authentication, …) and the
 * server, never the password.
 */
import { type PostgresTarget, formatHostPort } from '../../config/database-url.js'
import { identifyServer } from './identify-server.js'
import { AuthFailedError, DatabaseMissingError, DbUnreachableError, DbopsError, ExitCode, errorCodeOf, messageOf } from '../../errors.js'

/** SQLSTATEs and socket errors that waiting can fix. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  '57P01', // admin_shutdown
])

/** Whether a connect failure is worth another attempt. */
export function isTransientConnectError(err: unknown): boolean {
  const code = errorCodeOf(err)
  if (code && TRANSIENT_CODES.has(code)) return true
  return isTimeout(err) || /Connection terminated unexpectedly/i.test(messageOf(err))
}

function isTimeout(err: unknown): boolean {
  return /timeout|timed out/i.test(messageOf(err))
}

/** `host:port` (`[::1]:5432` for IPv6), or the socket directory. */
export function whereOf(target: PostgresTarget): string {
  return target.host.startsWith('/') ? `socket ${target.host} port ${target.port}` : formatHostPort(target.host, target.port)
}

/**
 * Turns a pg/socket connect error into a {@link DbopsError}; errors that already are one
 * pass through. `timeoutMs` is the deadline that ran out, for the message.
 */
export function mapConnectError(err: unknown, target: PostgresTarget, timeoutMs: number): DbopsError {
  if (err instanceof DbopsError) return err
  const code = errorCodeOf(err)
  const where = whereOf(target)
  const options = { cause: err }
  switch (code) {
    case '28P01':
    case '28000':
      return new AuthFailedError(
        code === '28P01'
          ? `Authentication failed for user "${target.user}" at ${where}`
          : `The server at ${where} rejected user "${target.user}" for database "${target.database}" (${messageOf(err)})`,
        options,
      )
    case '3D000':
      return new DatabaseMissingError(`Database "${target.database}" does not exist at ${where}`, {
        ...options,
        hint: 'Check the database name in DATABASE_URL, or create it (createdb).',
      })
    case '57P03':
      return new DbUnreachableError(`The server at ${where} is starting up or shutting down`, { ...options, code: 'DB_STARTING' })
    case '53300':
      return new DbUnreachableError(`The server at ${where} has too many connections`, {
        ...options,
        code: 'DB_TOO_MANY_CONNECTIONS',
        hint: 'Wait for connections to be released, or check `dbops pool` for who holds them.',
      })
    case 'ECONNREFUSED':
      return new DbUnreachableError(`Connection refused at ${where} (TCP connect)`, options)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DbUnreachableError(`Could not resolve host "${target.host}" (name lookup)`, {
        ...options,
        hint: 'Check the host name in DATABASE_URL or DATABASE_HOST.',
      })
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new DbUnreachableError(`No route to ${where} (TCP connect)`, options)
  }
  const message = messageOf(err)
  if (/does not support SSL/i.test(message)) {
    return new DbopsError(
      'TLS_UNAVAILABLE',
      ExitCode.access,
      `The server at ${where} does not accept TLS, and sslmode is ${target.tls.mode}`,
      {
        ...options,
        hint: 'Enable TLS on the server, or set sslmode=prefer (or disable) if plain connections are acceptable.',
      },
    )
  }
  if (/certificate|self[- ]signed|SSL|TLS|altnames/i.test(message) && !isTimeout(err)) {
    return new DbopsError('TLS_FAILED', ExitCode.access, `TLS handshake with ${where} failed: ${message}`, {
      ...options,
      hint: 'Check DATABASE_SSLMODE and DATABASE_SSLROOTCERT (verify-full also checks the host name).',
    })
  }
  if (isTimeout(err)) {
    return new DbUnreachableError(`Timed out after ${(timeoutMs / 1000).toFixed(1)}s connecting to ${where}`, {
      ...options,
      code: 'DB_TIMEOUT',
      hint: 'The server accepted no login in time. Is it up and reachable? Raise DATABASE_CONNECT_TIMEOUT if it is slow.',
    })
  }
  if (/terminated unexpectedly|ECONNRESET/i.test(message)) {
    return new DbUnreachableError(`The connection to ${where} was closed during login`, options)
  }
  return new DbopsError('DB_CONNECT_FAILED', ExitCode.failed, `Could not connect to ${where}: ${message}`, options)
}

/** How long the check of what listens on the port may take after a failed login. */
const IDENTIFY_TIMEOUT_MS = 1000

/**
 * {@link mapConnectError}, and for the failures a service that is not PostgreSQL causes (a
 * TLS error on an answer that is neither `S` nor `N`, a timeout, a connection closed during
 * login) one more connection to see what listens on the port: a service that answers
 * otherwise is named by what it sent (`SSH-2.0-OpenSSH_9.6`, `HTTP/1.1 400 Bad Request`),
 * one that hangs up at once as such. Both exit 4: the port may be PostgreSQL's again soon
 * (a restart, a failover), and the message says what to check.
 */
export async function explainConnectError(err: unknown, target: PostgresTarget, timeoutMs: number): Promise<DbopsError> {
  const mapped = mapConnectError(err, target, timeoutMs)
  const closed = /terminated unexpectedly|ECONNRESET/i.test(messageOf(err)) && mapped.exitCode === ExitCode.unreachable
  if (!closed && !['TLS_FAILED', 'DB_TIMEOUT', 'DB_CONNECT_FAILED'].includes(mapped.code)) return mapped
  const identity = await identifyServer(target, IDENTIFY_TIMEOUT_MS)
  const where = whereOf(target)
  const hint = 'Another service listens there: check the host and port in DATABASE_URL (or DATABASE_HOST and DATABASE_PORT).'
  if (identity.kind === 'other') {
    return new DbUnreachableError(`The server at ${where} did not answer as PostgreSQL (it sent "${identity.sent}")`, {
      code: 'DB_NOT_POSTGRES',
      cause: err,
      hint,
    })
  }
  if (identity.kind === 'closed' && (closed || mapped.code === 'TLS_FAILED')) {
    return new DbUnreachableError(`The server at ${where} closed the connection before answering as PostgreSQL`, {
      cause: err,
      hint: `A proxy with no server behind it, or a service that is not PostgreSQL? ${hint.replace(/^Another service listens there: c/, 'C')}`,
    })
  }
  return mapped
}
