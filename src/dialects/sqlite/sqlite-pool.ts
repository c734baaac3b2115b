/**
 * SQLite's side of `dbops pool`: there is no server and no pool, so the questions are
 * whether a writer can get the write lock within the busy timeout, how big the WAL is and
 * whether a checkpoint can empty it, and (Linux, best effort) which processes hold the file.
 */
import fs from 'node:fs'
import path from 'node:path'
import { errorCodeOf, messageOf } from '../../errors.js'
import type { DbConnection, PoolProbe } from '../dialect.js'
import { roundMs } from '../run-probe.js'
import { sqliteHandleOf } from './sqlite-catalog.js'
import { describeFileUsers, findSqliteWriters } from './sqlite-file-users.js'
import { fileSize } from './sqlite-health.js'
import type { SqliteHandle } from './sqlite-connection.js'

/** A process holding the database file (or its WAL or shared-memory file) open. */
export interface FileHolder {
  pid: number
  /** `/proc/PID/comm`. */
  command: string | undefined
  /** The files it holds: `db`, `wal`, `shm`. */
  files: string[]
  /** This dbops process. */
  self: boolean
}

/**
 * Tries `BEGIN IMMEDIATE` (the write lock) within the busy timeout, and rolls back at once.
 * This takes the write lock for a moment, which is the question asked; the session's
 * `query_only` is lifted only around it.
 */
function tryWriteLock(handle: SqliteHandle, file: string): Record<string, unknown> {
  const busyTimeoutMs = handle.pragma('busy_timeout', { simple: true }) as number
  const wasQueryOnly = handle.pragma('query_only', { simple: true }) === 1
  const started = performance.now()
  try {
    if (wasQueryOnly) handle.pragma('query_only = 0')
    handle.exec('BEGIN IMMEDIATE')
    handle.exec('ROLLBACK')
    return { acquired: true, waited_ms: roundMs(performance.now() - started), busy_timeout_ms: busyTimeoutMs }
  } catch (err) {
    const code = errorCodeOf(err)
    return {
      acquired: false,
      waited_ms: roundMs(performance.now() - started),
      busy_timeout_ms: busyTimeoutMs,
      error:
        code === 'SQLITE_BUSY'
          ? `another connection holds the write lock${writerOf(file)}; still busy after ${busyTimeoutMs} ms`
          : messageOf(err),
    }
  } finally {
    if (handle.inTransaction) handle.exec('ROLLBACK')
    if (wasQueryOnly) handle.pragma('query_only = 1')
  }
}

/** ": pid 123 (command, since …)" for the process holding the write lock, where the OS can tell. */
function writerOf(file: string): string {
  const writers = file === ':memory:' ? [] : findSqliteWriters(file)
  return writers.length > 0 ? `: ${describeFileUsers(writers)}` : ''
}

/** Processes with `file`, its WAL or its shared-memory file open, from `/proc/*\/fd` (Linux). */
export function findFileHolders(file: string): { holders: FileHolder[] | undefined; note: string | undefined } {
  if (process.platform !== 'linux' || !fs.existsSync('/proc/self/fd')) return { holders: undefined, note: 'only on Linux (/proc)' }
  const real = fs.realpathSync(file)
  const wanted = new Map([
    [real, 'db'],
    [`${real}-wal`, 'wal'],
    [`${real}-shm`, 'shm'],
  ])
  const holders: FileHolder[] = []
  let unreadable = 0
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = fs.readdirSync(path.join('/proc', entry, 'fd'))
    } catch {
      unreadable++ // another user's process, or it just exited
      continue
    }
    const files = new Set<string>()
    for (const fd of fds) {
      try {
        const kind = wanted.get(fs.readlinkSync(path.join('/proc', entry, 'fd', fd)))
        if (kind) files.add(kind)
      } catch {
        // the fd closed while we looked
      }
    }
    if (files.size === 0) continue
    let command: string | undefined
    try {
      command = fs.readFileSync(path.join('/proc', entry, 'comm'), 'utf8').trim()
    } catch {
      command = undefined
    }
    const pid = Number(entry)
    holders.push({ pid, command, files: [...files].sort(), self: pid === process.pid })
  }
  return {
    holders,
    note: unreadable > 0 ? `${unreadable} process${unreadable === 1 ? '' : 'es'} of other users could not be inspected` : undefined,
  }
}

/** Reads SQLite's side of the pool report. */
export async function probeSqlitePool(conn: DbConnection): Promise<PoolProbe> {
  const handle = sqliteHandleOf(conn)
  const file = conn.target.dialect === 'sqlite' ? conn.target.path : ':memory:'
  const journalMode = String(handle.pragma('journal_mode', { simple: true }))
  const writeLock = tryWriteLock(handle, file)
  let checkpoint: Record<string, unknown> | null = null
  if (journalMode === 'wal') {
    const row = (handle.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0]
    if (row)
      checkpoint = {
        busy: row.busy,
        log: row.log,
        checkpointed: row.checkpointed,
        complete: row.busy === 0 && row.checkpointed === row.log,
      }
  }
  const { holders, note } = file === ':memory:' ? { holders: undefined, note: 'in-memory database' } : findFileHolders(file)
  return {
    maxConnections: undefined,
    used: undefined,
    free: undefined,
    freeLimitedBy: undefined,
    byState: [],
    byApplication: [],
    idleInTransaction: [],
    blocked: [],
    visibility: undefined,
    details: {
      file,
      journal_mode: journalMode,
      write_lock: writeLock,
      wal_bytes: file === ':memory:' ? 0 : fileSize(`${file}-wal`),
      checkpoint,
      holders: holders?.map((h) => ({ pid: h.pid, command: h.command ?? null, files: h.files, self: h.self })) ?? null,
      ...(note ? { holders_note: note } : {}),
    },
  }
}
