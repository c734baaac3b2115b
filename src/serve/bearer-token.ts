/**
 * The bearer token of `dbops serve` (`DBOPS_SERVE_TOKEN`): compared in constant time (as
 * digests, so its length does not leak either), never logged, never echoed.
 */
import crypto from 'node:crypto'
import net from 'node:net'

const digest = (text: string) => crypto.createHash('sha256').update(text).digest()

/** Whether the `Authorization` header carries `token` as a bearer token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!match) return false
  return crypto.timingSafeEqual(digest(match[1]!), digest(token))
}

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  const bare = host.replace(/^\[|\]$/g, '')
  if (net.isIPv4(bare)) return bare.startsWith('127.')
  return bare === '::1'
}
