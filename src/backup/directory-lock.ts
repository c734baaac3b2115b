/**
 * The backup directory's lock: one process at a time writes or deletes the backups of one
 * database in one directory (`backup create`, `backup prune`). It is per series (the
 * database's name and identity tag, see `backupSeriesName`), so two databases that share a
 * name never wait for each other.
 *
 * It is a lock, not a lock file: a small SQLite database `.<db>.backup-lock` in the backup
 * directory, held in `BEGIN EXCLUSIVE` by an open connection. SQLite's lock is an fcntl lock
 * that the kernel releases when the process dies, however it dies (SIGKILL included), so a
 * killed run never leaves the directory locked; the file itself stays and means nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sleep } from '../dialects/retry-within-deadline.js'
import { LockTimeoutError, errorCodeOf } from '../errors.js'
import type { BackupLock, BackupLockOptions } from '../dialects/dialect.js'
import { PRIVATE_FILE_MODE } from './durable-file.js'

/** How often a waiter tries again. */
const POLL_MS = 100

/** The lock file's name for a series of backups. */
export function directoryLockName(series: string): string {
  return `.${series}.backup-lock`
}

/**
 * Takes the lock of the backups of `series` in `dir`, trying until `timeoutMs` (0: once).
 * Contention throws {@link LockTimeoutError} (exit 5) naming the database (`database`,
 * default the series) and the lock.
 */
export async function acquireDirectoryLock(
  dir: string,
  series: string,
  options: BackupLockOptions,
  database = series,
): Promise<BackupLock> {
  // loaded on demand: a PostgreSQL run that never locks a directory does not load better-sqlite3
  const { openDatabase } = await import('../dialects/sqlite/open-database.js')
  const file = path.join(dir, directoryLockName(series))
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE))
  const handle = openDatabase(file, { timeout: 0 })
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    try {
      // the lock only: no journal file next to it (BEGIN EXCLUSIVE would otherwise create one)
      handle.pragma('journal_mode = MEMORY')
      handle.exec('BEGIN EXCLUSIVE')
      break
    } catch (err) {
      if (!String(errorCodeOf(err)).startsWith('SQLITE_BUSY') || Date.now() >= deadline || options.signal?.aborted) {
        handle.close()
        if (options.signal?.aborted) throw options.signal.reason
        if (!String(errorCodeOf(err)).startsWith('SQLITE_BUSY')) throw err
        throw new LockTimeoutError(
          `Another backup or prune of "${database}" is running in ${dir} (lock ${path.basename(file)} is held)` +
            (options.timeoutMs > 0 ? `; waited ${(options.timeoutMs / 1000).toFixed(1)} s` : ''),
          { hint: 'Wait for it to finish and retry, or raise --lock-timeout.' },
        )
      }
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())), options.signal)
    }
  }
  let released = false
  return {
    async release() {
      if (released) return
      released = true
      try {
        handle.exec('ROLLBACK')
      } finally {
        handle.close()
      }
    },
  }
}
