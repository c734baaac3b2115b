/**
 * Grading a traced statement by the target's real sizes: a lock that blocks reads or writes
 * on a large table while the statement rewrites or scans it is `high` (it blocks for the
 * duration); the same lock held briefly is `medium` (it still queues the application behind
 * any running query, up to `lock_timeout`); anything on a small table, on a table created in
 * the same plan, or a lock that blocks only DDL is `low`. Pure.
 */
import { formatBytes } from '../backup/durable-file.js'
import type { HeldLock, LockEffect, RelationSize, StatementTrace } from '../dialects/plan-port.js'

/** How bad a statement is for the running application. */
export type PlanGrade = 'low' | 'medium' | 'high'

/** A lock of the plan with what it blocks. */
export interface PlanLock extends HeldLock {
  label: string
  blocks: LockEffect['blocks']
  /** Taken by an earlier statement of the same transaction, and still held. */
  held_before?: boolean
}

/**
 * Under both of these a table counts as small: locking it is over before anyone notices.
 * The default of the config file's `lint.smallTable`, which the lint gate reads too.
 */
export const SMALL_TABLE = { rows: 10_000, bytes: 10 * 1024 * 1024 }

/** What the grading reads besides the trace. */
export interface GradeContext {
  /** Relations of the target (those in the copy before the plan ran). */
  existing: ReadonlySet<string>
  sizes: ReadonlyMap<string, RelationSize>
  lockEffect(mode: string): LockEffect
  /** Default {@link SMALL_TABLE}. */
  smallTable?: { rows?: number | undefined; bytes?: number | undefined } | undefined
}

/** A statement's grade, what it blocks, and the one sentence saying why. */
export interface StatementGrade {
  locks: PlanLock[]
  blocks: LockEffect['blocks']
  grade: PlanGrade
  reason: string
}

const ORDER: Record<PlanGrade, number> = { low: 0, medium: 1, high: 2 }

/** The worse of two grades. */
export function worseGrade(a: PlanGrade, b: PlanGrade): PlanGrade {
  return ORDER[a] >= ORDER[b] ? a : b
}

/** `20 k`, `310 M`: a row estimate in a few characters. */
export function formatCount(n: number): string {
  if (n < 1000) return String(Math.round(n))
  if (n < 1e6) return `${Math.round(n / 1e3)} k`
  if (n < 1e9) return `${Math.round(n / 1e6)} M`
  return `${Math.round(n / 1e9)} G`
}

/** The table whose work a statement does: from `table.column`, `name on table`, or a relation itself. */
function workedTables(trace: StatementTrace): Map<string, string> {
  const work = new Map<string, string>()
  for (const name of trace.rewritten) work.set(name, 'a full rewrite')
  for (const label of trace.validated) work.set(label.slice(label.lastIndexOf(' on ') + 4), `a scan to validate ${label.split(' on ')[0]}`)
  for (const label of trace.notNullChecked) work.set(label.slice(0, label.lastIndexOf('.')), 'a scan to check NOT NULL')
  for (const label of trace.indexesBuilt) work.set(label.slice(label.lastIndexOf(' on ') + 4), `an index build (${label.split(' on ')[0]})`)
  return work
}

function blocksText(blocks: LockEffect['blocks']): string {
  if (blocks.reads && blocks.writes) return 'blocks reads and writes'
  if (blocks.writes) return 'blocks writes (reads go on)'
  return 'blocks only other DDL'
}

/** Grades one traced statement (see the module comment). */
export function gradeStatement(trace: StatementTrace, context: GradeContext): StatementGrade {
  const locks: PlanLock[] = trace.locks.map((lock) => ({ ...lock, ...context.lockEffect(lock.mode) }))
  const work = workedTables(trace)
  const blocks = { reads: false, writes: false, ddl: false }
  let grade: PlanGrade = 'low'
  let reason: string | undefined
  let reasonGrade: PlanGrade | undefined
  for (const lock of locks) {
    const table = lock.table ?? lock.relation
    const hurts = lock.blocks.reads || lock.blocks.writes
    // a relation made by this plan (a new table, or a new index being built) is seen by no one else yet
    if (!context.existing.has(table) || !context.existing.has(lock.relation)) {
      const created = context.existing.has(table) ? lock.relation : table
      if (hurts && reasonGrade === undefined) reason = `${lock.label} on ${created}, created in this plan: nothing else uses it yet`
      continue
    }
    blocks.reads ||= lock.blocks.reads
    blocks.writes ||= lock.blocks.writes
    blocks.ddl ||= lock.blocks.ddl
    if (!hurts) continue
    const size = context.sizes.get(table)
    const sizeText = size ? ` (${formatBytes(size.bytes)}, ~${formatCount(size.rows)} rows)` : ''
    const limit = { ...SMALL_TABLE, ...context.smallTable }
    const small = !size || (size.rows < limit.rows && size.bytes < limit.bytes)
    const heavy = work.get(table)
    const lockGrade: PlanGrade = small ? 'low' : heavy ? 'high' : 'medium'
    if (reasonGrade !== undefined && ORDER[lockGrade] <= ORDER[reasonGrade]) continue
    reasonGrade = lockGrade
    grade = worseGrade(grade, lockGrade)
    const what = blocksText(lock.blocks)
    reason = heavy
      ? `${lock.label} on ${table}${sizeText} with ${heavy}: ${what} for the duration${small ? ' (a small table: short)' : ''}`
      : `${lock.label} on ${table}${sizeText}, held briefly: ${what} while held, and queues them behind running queries (up to lock_timeout)`
  }
  return {
    locks,
    blocks,
    grade,
    reason: reason ?? (locks.length === 0 ? 'no table lock held' : 'no lock that blocks reads or writes of existing tables'),
  }
}
