/** A SQLite connection as the dialect's modules share it: Kysely and the raw handle. */
import type Database from 'better-sqlite3'
import type { DbConnection } from '../dialect.js'

/** The subset of better-sqlite3's handle dbops uses directly (pragmas, backup). */
export type SqliteHandle = Database.Database

/** A SQLite connection: the Kysely instance plus the raw handle for pragmas and backups. */
export interface SqliteConnection extends DbConnection {
  readonly handle: SqliteHandle
}
