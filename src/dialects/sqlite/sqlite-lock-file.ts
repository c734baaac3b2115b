/**
 * A lock between processes that no crash can leave behind: a small SQLite database of its own
 * (the lock file), held in `BEGIN EXCLUSIVE` by an open connection. SQLite's lock is an fcntl
 * lock that the kernel releases when the process dies, however it dies (SIGKILL included); the
 * file itself stays and means nothing, so nothing ever has to be cleaned up or broken.
 *
 * A waiter polls with short sleeps rather than waiting in SQLite's busy handler, which would
 * block the event loop: a signal still ends the wait. While it is held, `/proc/locks` shows
 * the holder's write lock, so waiters can name it (see `findSqliteWriters`).
 *
 * Used for the migration lock of a SQLite database and for a backup directory's lock.
 */
import fs from 'node:fs'
import { DbopsError, ExitCode, InterruptedError, errorCodeOf, messageOf } from '../../errors.js'
import { sleep } from '../retry-within-deadline.js'
import { openDatabase } from './open-database.js'

/** First and longest pause between attempts, in milliseconds (doubling in between). */
const FIRST_POLL_MS = 5
const MAX_POLL_MS = 50

/** Options of {@link acquireLockFile}. */
export interface LockFileOptions {
  /** Give up after this many milliseconds; 0 tries once. */
  timeoutMs: number
  /** Ends the wait, throwing its reason (an {@link InterruptedError}). */
  signal?: AbortSignal | undefined
  /** Permission bits of the lock file when this call creates it (the umask does not narrow them). */
  mode: number
  /** Called once, when the first attempt finds the lock held. */
  onBusy?: () => void
  /** The error to throw when the wait times out (typically a `LockTimeoutError` naming the holder). */
  timeoutError: () => Error
}

/** A held lock file. Released when the process dies, whatever kills it. */
export interface HeldLockFile {
  /** Releases the lock; safe to call twice. */
  release(): void
}

/**
 * Takes the lock `file` (created when missing), trying until `timeoutMs` has passed.
 * A lock file that cannot be created or opened is exit 7, naming it.
 */
export async function acquireLockFile(file: string, options: LockFileOptions): Promise<HeldLockFile> {
  const handle = openLockFile(file, options.mode)
  const deadline = Date.now() + options.timeoutMs
  let delay = FIRST_POLL_MS
  let busy = false
  try {
    for (;;) {
      if (options.signal?.aborted) throw abortReason(options.signal)
      try {
        // the lock only: no journal file next to it (BEGIN EXCLUSIVE would otherwise create one)
        handle.pragma('journal_mode = MEMORY')
        handle.exec('BEGIN EXCLUSIVE')
        break
      } catch (err) {
        if (!String(errorCodeOf(err)).startsWith('SQLITE_BUSY')) throw err
      }
      if (!busy) {
        busy = true
        options.onBusy?.()
      }
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw options.timeoutError()
      // a little jitter, so waiters that woke together do not collide again
      await sleep(Math.min(delay + Math.random() * delay, remaining), options.signal)
      delay = Math.min(delay * 2, MAX_POLL_MS)
    }
  } catch (err) {
    handle.close()
    throw err
  }
  let released = false
  return {
    release() {
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

/**
 * Whether a process holds the lock `file` right now: true, false (a missing file included), or
 * undefined when the file cannot be read to tell. Never takes the lock nor waits for it: while
 * a holder keeps the file in `BEGIN EXCLUSIVE`, a read of it fails at once with SQLITE_BUSY.
 */
export function isLockFileHeld(file: string): boolean | undefined {
  let handle: ReturnType<typeof openDatabase>
  try {
    handle = openDatabase(file, { readonly: true, fileMustExist: true, timeout: 0 })
  } catch {
    return fs.existsSync(file) ? undefined : false
  }
  try {
    handle.prepare('SELECT count(*) FROM sqlite_schema').get()
    return false
  } catch (err) {
    return String(errorCodeOf(err)).startsWith('SQLITE_BUSY') ? true : undefined
  } finally {
    handle.close()
  }
}

function openLockFile(file: string, mode: number) {
  try {
    try {
      const fd = fs.openSync(file, 'wx', mode)
      try {
        fs.fchmodSync(fd, mode)
      } finally {
        fs.closeSync(fd)
      }
    } catch (err) {
      if (errorCodeOf(err) !== 'EEXIST') throw err
    }
    return openDatabase(file, { timeout: 0 })
  } catch (err) {
    throw new DbopsError('LOCK_FILE_ACCESS', ExitCode.access, `Cannot open the lock file ${file}: ${messageOf(err)}`, {
      hint: 'Check the permissions of its directory; every process that takes this lock must be able to write the file.',
      cause: err,
    })
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
}

/** A wait in milliseconds as seconds for a message: 1000 -> "1 s", 300 -> "0.3 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}
