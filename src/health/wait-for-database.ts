/**
 * `dbops wait`: block until the database accepts a real login and answers `SELECT 1`.
 * Retries what waiting can fix (refused, starting up, too many connections, a timeout) until
 * the deadline; stops at once on what it cannot (wrong password, missing database).
 */
import { sql } from '../kysely-runtime.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { connect } from '../dialects/index.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { sleep } from '../dialects/retry-within-deadline.js'
import { DbUnreachableError, DbopsError, ExitCode } from '../errors.js'
import { usingOnCallSession } from './on-call-session.js'

/** The result of {@link waitForDatabase}. */
export interface WaitResult {
  ready: true
  attempts: number
  elapsed_ms: number
  server_version: string
}

/** Options of {@link waitForDatabase}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (exit 4). */
  timeoutMs: number
  connect: Omit<ConnectOptions, 'maxRetries' | 'deadlineMs' | 'mode'>
  /** Called after each failed attempt. */
  onAttempt?: (attempt: number, reason: string) => void
}

/** The result of {@link checkReady}. */
export interface ReadyResult {
  ready: true
  latency_ms: number
  server_version: string
}

/**
 * One real login and `SELECT 1` in the on-call (read-only) mode, within the connect deadline,
 * no retry: a readiness probe's question. Throws the connect failure (exit 4 unreachable, 7
 * access, 2 configuration).
 */
export async function checkReady(config: ResolvedConfig, base: ConnectOptions): Promise<ReadyResult> {
  const started = performance.now()
  return usingOnCallSession(config, base, async (conn) => {
    await sql`SELECT 1`.execute(conn.db)
    return { ready: true, latency_ms: Math.round((performance.now() - started) * 10) / 10, server_version: conn.serverVersion }
  })
}

/**
 * Waits until a login and `SELECT 1` succeed. Throws the last failure, as exit 4, when the
 * time runs out; throws access errors (exit 7) at once.
 */
export async function waitForDatabase(config: ResolvedConfig, options: WaitOptions): Promise<WaitResult> {
  const started = performance.now()
  const deadline = Date.now() + options.timeoutMs
  let delay = 250
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now()
    try {
      const conn = await connect(config, {
        ...options.connect,
        mode: 'read',
        maxRetries: 0,
        deadlineMs: Math.max(100, Math.min(config.connectTimeoutSeconds * 1000, remaining)),
      })
      try {
        await sql`SELECT 1`.execute(conn.db)
        return { ready: true, attempts: attempt, elapsed_ms: Math.round(performance.now() - started), server_version: conn.serverVersion }
      } finally {
        await conn.close()
      }
    } catch (err) {
      if (!(err instanceof DbopsError) || err.exitCode !== ExitCode.unreachable) throw err
      options.onAttempt?.(attempt, err.message)
      const left = deadline - Date.now()
      if (left <= 0) {
        const seconds = (options.timeoutMs / 1000).toFixed(0)
        throw new DbUnreachableError(`Gave up after ${seconds}s and ${attempt} attempts: ${err.message}`, {
          code: err.code,
          hint: err.hint,
          cause: err,
        })
      }
      await sleep(Math.min(delay, left), options.connect.signal)
      delay = Math.min(delay * 2, 2000)
    }
  }
}
