/**
 * What listens on a PostgreSQL target's port, asked the way a PostgreSQL client asks first:
 * an SSLRequest, to which a PostgreSQL server answers one byte (`S` or `N`) or an error
 * message. Used after a failed login, when the driver's message ("There was an error
 * establishing an SSL connection", a timeout, "Connection terminated unexpectedly") could mean
 * that another service (SSH, HTTP, a proxy with nothing behind it) holds the port.
 */
import net from 'node:net'
import type { PostgresTarget } from '../../config/database-url.js'

/** What answered: PostgreSQL, something else (with the start of what it sent), nothing, or no connection. */
export type ServerIdentity =
  { kind: 'postgres' } | { kind: 'other'; sent: string } | { kind: 'closed' } | { kind: 'silent' } | { kind: 'unreachable' }

/** The SSLRequest message: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])

/** How long to wait for more bytes after the first ones, to tell `S` from `SSH-2.0-…`. */
const SETTLE_MS = 100

/** The longest sample quoted in a message. */
const SAMPLE_CHARS = 40

/**
 * Opens one connection to the target, sends an SSLRequest and classifies the answer. Never
 * throws; gives up after `timeoutMs`. Reads at most a few hundred bytes and closes.
 */
export function identifyServer(target: PostgresTarget, timeoutMs: number): Promise<ServerIdentity> {
  return new Promise((resolve) => {
    const options: net.NetConnectOpts = target.host.startsWith('/')
      ? { path: `${target.host}/.s.PGSQL.${target.port}` }
      : { host: target.host, port: target.port }
    const socket = net.connect(options)
    const chunks: Buffer[] = []
    let connected = false
    let settle: NodeJS.Timeout | undefined
    let finished = false
    const done = (identity: ServerIdentity) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(settle)
      socket.destroy()
      resolve(identity)
    }
    const classify = () => done(classifyAnswer(Buffer.concat(chunks)))
    const timer = setTimeout(() => (chunks.length > 0 ? classify() : done({ kind: connected ? 'silent' : 'unreachable' })), timeoutMs)
    socket.once('connect', () => {
      connected = true
      socket.write(SSL_REQUEST)
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      settle ??= setTimeout(classify, SETTLE_MS)
      if (Buffer.concat(chunks).length >= 256) classify()
    })
    socket.once('end', () => (chunks.length > 0 ? classify() : done({ kind: 'closed' })))
    socket.once('error', () => (chunks.length > 0 ? classify() : done({ kind: connected ? 'closed' : 'unreachable' })))
  })
}

/** PostgreSQL answers an SSLRequest with exactly `S` or `N`, or with an ErrorResponse (`E`, then its length). */
function classifyAnswer(answer: Buffer): ServerIdentity {
  if (answer.length === 1 && (answer[0] === 0x53 || answer[0] === 0x4e)) return { kind: 'postgres' }
  if (answer[0] === 0x45 && answer.length >= 5) {
    const length = answer.readInt32BE(1)
    if (length > 4 && length < 65536) return { kind: 'postgres' }
  }
  return { kind: 'other', sent: sampleOf(answer) }
}

/** The first line of what was sent, printable: other bytes as `\xNN`, cut at {@link SAMPLE_CHARS}. */
function sampleOf(answer: Buffer): string {
  const text = answer.toString('latin1')
  const firstLine = text.split(/[\r\n]/, 1)[0] ?? ''
  const printable = firstLine.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/"/g, '\\"')
  return printable.length > SAMPLE_CHARS ? `${printable.slice(0, SAMPLE_CHARS)}…` : printable
}
