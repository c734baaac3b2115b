/**
 * A long-lived on-call session for a process that answers many reads (`dbops serve`): one
 * connection (a pool of `POOL_SIZE + MAX_OVERFLOW` on PostgreSQL, one handle on SQLite) in the
 * on-call mode of {@link onCallConnectOptions} — read-only, short timeouts — opened on first
 * use and shared by every read, so a page of rows costs a query, not a login, and the process
 * never holds more connections than the configured pool.
 *
 * Names are still checked against the catalog on every read, but the catalog's name lists
 * (schemas, tables, a table's columns) are remembered for `catalogTtlMs` (default 1 s): a page
 * of rows is then one query, not three, and a table created or dropped shows within a second.
 *
 * When the database goes away the session does not keep failing with driver errors: a read
 * that fails with anything but a dbops error drops the connection and logs in again once; if
 * that login fails, its error (exit 4 unreachable, 7 access) is what the caller gets, and the
 * next read tries again, so the session recovers by itself when the database returns.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { Catalog, ConnectOptions, DbConnection } from '../dialects/dialect.js'
import { connect } from '../dialects/index.js'
import { DbopsError } from '../errors.js'
import { type SharedSession, onCallConnectOptions } from './on-call-session.js'

export type { SharedSession }

/**
 * Opens nothing yet: returns a {@link SharedSession} on `config` whose connection is opened
 * with `base` (application name, echo) in the on-call mode, one connect attempt per use.
 *
 * @example
 * const session = sharedOnCallSession(config, { mode: 'read', command: 'serve' })
 * const tables = await inspectTables(config, { connect, shared: session })
 */
export function sharedOnCallSession(config: ResolvedConfig, base: ConnectOptions, options: { catalogTtlMs?: number } = {}): SharedSession {
  let opening: Promise<DbConnection> | undefined
  let current: DbConnection | undefined
  const ttlMs = options.catalogTtlMs ?? 1000

  const open = (): Promise<DbConnection> => {
    opening ??= (async () => {
      const conn = await connect(config, { ...onCallConnectOptions(base), maxRetries: 0 })
      try {
        await conn.dialect.createCatalog(conn).enterReadOnly()
      } catch (err) {
        await conn.close()
        throw err
      }
      current = withRememberedNames(conn, ttlMs)
      return current
    })().finally(() => {
      if (current === undefined) opening = undefined
    })
    return opening
  }

  const drop = (conn: DbConnection): void => {
    // a failure may come from a stale name list: a fresh connection starts with none
    if (current !== conn) return
    current = undefined
    opening = undefined
    void conn.close().catch(() => undefined)
  }

  return {
    async use(fn) {
      const conn = await open()
      try {
        return await fn(conn)
      } catch (err) {
        if (err instanceof DbopsError) throw err
        // a driver error: the connection may be gone; log in again once (its failure is the answer)
        drop(conn)
        const fresh = await open()
        return fn(fresh)
      }
    },
    poolStats: () => current?.poolStats?.(),
    async close() {
      const conn = current ?? (opening ? await opening.catch(() => undefined) : undefined)
      current = undefined
      opening = undefined
      await conn?.close()
    },
  }
}

/** The catalog reads whose answers are name lists, remembered by {@link withRememberedNames}. */
const REMEMBERED: ReadonlySet<string> = new Set(['listSchemas', 'tableNames', 'listColumns'])

/**
 * `conn`, with its dialect's catalog remembering the name lists (schemas, tables, columns) for
 * `ttlMs`, per arguments; everything else is the connection and the catalog themselves.
 */
function withRememberedNames(conn: DbConnection, ttlMs: number): DbConnection {
  if (ttlMs <= 0) return conn
  const remembered = new Map<string, { at: number; value: Promise<unknown> }>()
  const dialect = Object.create(conn.dialect, {
    createCatalog: {
      value: (target: DbConnection): Catalog => {
        const catalog = conn.dialect.createCatalog(target)
        return new Proxy(catalog, {
          get(object, property, receiver) {
            const member = Reflect.get(object, property, receiver) as unknown
            if (typeof property !== 'string' || !REMEMBERED.has(property) || typeof member !== 'function') return member
            return (...args: unknown[]) => {
              const key = `${property} ${JSON.stringify(args)}`
              const hit = remembered.get(key)
              if (hit && performance.now() - hit.at < ttlMs) return hit.value
              const value = (member as (...a: unknown[]) => Promise<unknown>).apply(object, args)
              remembered.set(key, { at: performance.now(), value })
              value.catch(() => remembered.delete(key))
              return value
            }
          },
        })
      },
    },
  }) as DbConnection['dialect']
  return Object.create(conn, { dialect: { value: dialect } }) as DbConnection
}
