/** A PostgreSQL connection as the dialect's modules share it: Kysely and the pool. */
import type pg from 'pg'
import type { DbConnection } from '../dialect.js'

/** A PostgreSQL connection: Kysely plus the pool, for pinned connections (advisory locks). */
export interface PostgresConnection extends DbConnection {
  readonly pool: pg.Pool
}
