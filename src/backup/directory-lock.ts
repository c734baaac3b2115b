/**
 * The backup directory's lock: one process at a time writes or deletes the backups of one
 * database in one directory (`backup create`, `backup prune`). It is per series (the
 * database's name and identity tag, see `backupSeriesName`), so two databases that share a
 * name never wait for each other.
 *
 * It is a lock, not a lock file: `.<db>.backup-lock` in the backup directory, held by an fcntl
 * lock the kernel drops when the holder dies (`acquireLockFile` of the dialect seam), so a
 * killed run never leaves the directory locked; the file itself stays and means nothing.
 */
import path from 'node:path'
import { LockTimeoutError } from '../errors.js'
import type { BackupLock, BackupLockOptions } from '../dialects/dialect.js'
import { acquireLockFile } from '../dialects/index.js'
import { PRIVATE_FILE_MODE } from './durable-file.js'

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
  const file = path.join(dir, directoryLockName(series))
  const lock = await acquireLockFile(file, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    mode: PRIVATE_FILE_MODE,
    timeoutError: () =>
      new LockTimeoutError(
        `Another backup or prune of "${database}" is running in ${dir} (lock ${path.basename(file)} is held)` +
          (options.timeoutMs > 0 ? `; waited ${(options.timeoutMs / 1000).toFixed(1)} s` : ''),
        { hint: 'Wait for it to finish and retry, or raise --lock-timeout.' },
      ),
  })
  return {
    async release() {
      lock.release()
    },
  }
}
