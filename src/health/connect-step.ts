/**
 * Names the step at which connecting failed, for `dbops health`: name lookup, TCP connect,
 * TLS, authentication (28P01), missing database (3D000), starting up (57P03), too many
 * connections (53300), or, for SQLite, the file. A timeout is split further with one quick
 * TCP connect: a port that accepts but never answers the login (a hung server, a black-holed
 * proxy) is told apart from one that never accepts.
 */
import net from 'node:net'
import type { DatabaseTarget } from '../config/database-url.js'
import { type DbopsError, errorCodeOf } from '../errors.js'

/** How long the extra TCP connect may take when telling timeouts apart. */
const TCP_PROBE_TIMEOUT_MS = 1000

const STEP_BY_CODE: Record<string, string> = {
  AUTH_FAILED: 'authentication',
  DB_NOT_FOUND: 'missing database',
  DB_FILE_MISSING: 'missing database file',
  DB_FILE_ACCESS: 'file access',
  DB_CORRUPT: 'open (not a database or corrupt)',
  DB_STARTING: 'server starting up',
  DB_TOO_MANY_CONNECTIONS: 'too many connections',
  DB_NOT_POSTGRES: 'protocol (not PostgreSQL)',
  TLS_UNAVAILABLE: 'TLS',
  TLS_FAILED: 'TLS',
  CONFIG_TLS_FILE: 'TLS',
}

const STEP_BY_CAUSE: Record<string, string> = {
  ENOTFOUND: 'name lookup',
  EAI_AGAIN: 'name lookup',
  ECONNREFUSED: 'TCP connect',
  EHOSTUNREACH: 'TCP connect',
  ENETUNREACH: 'TCP connect',
  ECONNRESET: 'login (connection closed)',
}

/** The step named by the error alone; timeouts say `connect (timed out)`. */
export function connectStepOf(err: DbopsError): string {
  const byCode = STEP_BY_CODE[err.code]
  if (byCode) return byCode
  const causeCode = errorCodeOf(err.cause)
  if (causeCode && STEP_BY_CAUSE[causeCode]) return STEP_BY_CAUSE[causeCode]
  if (err.code === 'DB_TIMEOUT') return 'connect (timed out)'
  return 'connect'
}

/** Whether a TCP connection to host:port (or a Unix socket) opens within `timeoutMs`. */
export function canOpenSocket(options: net.NetConnectOpts, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(options)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * The step of a failed connect, with timeouts to a network target split into
 * `TCP connect (no answer)` and `login (TCP connected, the server never answered)`.
 */
export async function describeConnectStep(err: DbopsError, target: DatabaseTarget): Promise<string> {
  const step = connectStepOf(err)
  if (err.code !== 'DB_TIMEOUT' || !('host' in target)) return step
  const options: net.NetConnectOpts = target.host.startsWith('/')
    ? { path: `${target.host}/.s.PGSQL.${target.port}` }
    : { host: target.host, port: target.port }
  return (await canOpenSocket(options, TCP_PROBE_TIMEOUT_MS))
    ? 'login (TCP connected, the server never answered)'
    : 'TCP connect (no answer)'
}
