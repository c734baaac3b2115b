/**
 * `dbops doctor` on PostgreSQL: the check ids this dialect answers and the reads behind them
 * (postgres-doctor-indexes.ts, -maintenance.ts, -activity.ts). Opening it reads what the
 * role may see (for the "skipped" notes) and how many connections are free, so the checks
 * run concurrently on a few connections and never on the last free ones.
 */
import type { DbConnection } from '../dialect.js'
import type { DoctorReadOptions, DoctorReader, DoctorReading } from '../doctor-port.js'
import { type ActivityScope, readActivityScope, readConnectionSlots } from './postgres-activity.js'
import {
  readBlocking,
  readConnections,
  readIdleInTransaction,
  readLongTransactions,
  readReplicaLag,
  readReplicationSlots,
} from './postgres-doctor-activity.js'
import {
  readBloat,
  readDuplicateIndexes,
  readForeignKeysWithoutIndex,
  readInvalidIndexes,
  readTablesWithoutPrimaryKey,
  readUnusedIndexes,
} from './postgres-doctor-indexes.js'
import {
  readAnalyze,
  readCacheHit,
  readSequences,
  readSettings,
  readTopQueries,
  readVacuum,
  readWraparound,
} from './postgres-doctor-maintenance.js'

type Read = (conn: DbConnection, scope: ActivityScope, options: DoctorReadOptions) => Promise<DoctorReading>

/** The reads by check id, in report order: what is about to break first, then waste, then hygiene. */
const READS: Record<string, Read> = {
  xid_wraparound: (c, _s, o) => readWraparound(c.db, o.limits),
  sequences: (c, _s, o) => readSequences(c.db, o.limits),
  replication_slots: (c) => readReplicationSlots(c.db),
  replica_lag: (c) => readReplicaLag(c.db),
  connections: (c, s) => readConnections(c.db, s),
  long_transactions: (c, s, o) => readLongTransactions(c.db, s, o.limits),
  idle_in_transaction: (c, s, o) => readIdleInTransaction(c.db, s, o.limits),
  blocking: (c, s, o) => readBlocking(c.db, s, o.limits),
  invalid_indexes: (c) => readInvalidIndexes(c.db),
  duplicate_indexes: (c) => readDuplicateIndexes(c.db),
  unused_indexes: (c) => readUnusedIndexes(c.db),
  fk_without_index: (c) => readForeignKeysWithoutIndex(c.db),
  tables_without_pk: (c) => readTablesWithoutPrimaryKey(c.db),
  bloat: (c, _s, o) => readBloat(c.db, o.limits),
  vacuum: (c, _s, o) => readVacuum(c.db, o.limits),
  analyze: (c, _s, o) => readAnalyze(c.db, o.limits),
  cache_hit: (c) => readCacheHit(c.db),
  top_queries: (c, s) => readTopQueries(c.db, s.versionNum),
  settings: (c) => readSettings(c.db),
}

/**
 * Opens the doctor on `conn`: at most `maxConnections` at once, fewer so that `reserve` of the
 * free connections stay free (never fewer than the one already held).
 */
export async function openPostgresDoctor(conn: DbConnection, options: { maxConnections: number; reserve: number }): Promise<DoctorReader> {
  // one after the other: only the connection already held, until the cap is known
  const scope = await readActivityScope(conn.db)
  const slots = await readConnectionSlots(conn.db)
  const concurrency = Math.max(1, Math.min(options.maxConnections, slots.free + 1 - options.reserve))
  return {
    checkIds: Object.keys(READS),
    concurrency,
    read(id, readOptions) {
      const read = READS[id]
      if (!read) throw new TypeError(`no PostgreSQL doctor check ${id}`)
      return read(conn, scope, readOptions)
    },
  }
}
