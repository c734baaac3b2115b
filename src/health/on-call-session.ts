/**
 * The session every on-call command (`health`, `pool`, `inspect`) runs in: read-only, with a
 * short `statement_timeout` and `lock_timeout`, so a look at a struggling database never
 * writes, never queues behind a lock, and never runs long. On PostgreSQL these are session
 * settings of every pooled connection; on SQLite the file is opened without creating it and
 * `PRAGMA query_only` is set after connecting (see `Catalog.enterReadOnly`).
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ClientPoolStats, ConnectOptions, DbConnection } from '../dialects/dialect.js'
import { usingDatabase } from '../dialects/index.js'

/** Milliseconds a statement may run: catalog reads take milliseconds; 5 s is a stuck one. */
export const ON_CALL_STATEMENT_TIMEOUT_MS = 5000
/** Milliseconds a statement may wait on a lock before giving up rather than queueing. */
export const ON_CALL_LOCK_TIMEOUT_MS = 1000

/**
 * Adds the on-call session to `base`: read mode (a missing SQLite file is exit 7 and is never
 * created), `default_transaction_read_only`, the two timeouts, and an idle-in-transaction
 * timeout so a dbops session can never itself become the stuck session it looks for.
 */
export function onCallConnectOptions(base: ConnectOptions): ConnectOptions {
  return {
    ...base,
    mode: 'read',
    sessionSettings: {
      ...base.sessionSettings,
      default_transaction_read_only: 'on',
      statement_timeout: String(ON_CALL_STATEMENT_TIMEOUT_MS),
      lock_timeout: String(ON_CALL_LOCK_TIMEOUT_MS),
      idle_in_transaction_session_timeout: '10000',
    },
  }
}

/** A session shared by many reads of a long-running process (see `shared-session.ts`). */
export interface SharedSession {
  /** Runs `fn` on the shared connection (opened or reopened as needed). */
  use<T>(fn: (conn: DbConnection) => Promise<T>): Promise<T>
  /** The client pool's counts (undefined when not connected, or on a dialect without a pool). */
  poolStats(): ClientPoolStats | undefined
  /** Closes the connection; later reads open a new one. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Runs `fn` in an on-call session (see {@link onCallConnectOptions}), read-only on every
 * dialect, one connect attempt, and closes it afterwards; or, given `shared` (a server's
 * long-lived session), on that one, left open.
 */
export async function usingOnCallSession<T>(
  config: ResolvedConfig,
  base: ConnectOptions,
  fn: (conn: DbConnection) => Promise<T>,
  shared?: SharedSession,
): Promise<T> {
  if (shared) return shared.use(fn)
  return usingDatabase(config, { ...onCallConnectOptions(base), maxRetries: 0 }, async (conn) => {
    await conn.dialect.createCatalog(conn).enterReadOnly()
    return fn(conn)
  })
}
