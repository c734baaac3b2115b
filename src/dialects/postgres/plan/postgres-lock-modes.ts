/**
 * PostgreSQL's table-level lock modes and what each blocks in other sessions, after the
 * conflict table of the documentation ("Explicit Locking", table 13.2): reads are `SELECT`
 * (ACCESS SHARE), writes `INSERT`/`UPDATE`/`DELETE` (ROW EXCLUSIVE), DDL the schema changes
 * and maintenance that take SHARE UPDATE EXCLUSIVE or stronger.
 */
import type { LockEffect } from '../../plan-port.js'

/** Each mode (as `pg_locks.mode` names it) with its label and what it blocks. */
export const POSTGRES_LOCK_MODES: Record<string, LockEffect> = {
  AccessShareLock: { label: 'ACCESS SHARE', blocks: { reads: false, writes: false, ddl: true } },
  RowShareLock: { label: 'ROW SHARE', blocks: { reads: false, writes: false, ddl: true } },
  RowExclusiveLock: { label: 'ROW EXCLUSIVE', blocks: { reads: false, writes: false, ddl: true } },
  ShareUpdateExclusiveLock: { label: 'SHARE UPDATE EXCLUSIVE', blocks: { reads: false, writes: false, ddl: true } },
  ShareLock: { label: 'SHARE', blocks: { reads: false, writes: true, ddl: true } },
  ShareRowExclusiveLock: { label: 'SHARE ROW EXCLUSIVE', blocks: { reads: false, writes: true, ddl: true } },
  ExclusiveLock: { label: 'EXCLUSIVE', blocks: { reads: false, writes: true, ddl: true } },
  AccessExclusiveLock: { label: 'ACCESS EXCLUSIVE', blocks: { reads: true, writes: true, ddl: true } },
}

/** What `mode` blocks; a mode this table does not know is taken to block everything. */
export function postgresLockEffect(mode: string): LockEffect {
  return POSTGRES_LOCK_MODES[mode] ?? { label: mode, blocks: { reads: true, writes: true, ddl: true } }
}
