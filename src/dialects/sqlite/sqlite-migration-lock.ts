/**
 * The migration lock of a SQLite database: one run at a time across processes, for the whole
 * run (up, down, repair, baseline, import-dbmate), from before `dbops_migrations` is read until
 * the run ends. A second run waits until the first has finished, so a `started` row it reads
 * is never a migration still in progress: it is dirty.
 *
 * The lock is a lock file `.<file name>.migrate-lock` beside the database (see
 * `sqlite-lock-file.ts`): an fcntl lock the kernel drops when its process dies (SIGKILL
 * included), so no run ever leaves it stale. A waiter polls (a signal ends the wait), says
 * once who holds it, and after the lock timeout exits 5 naming the holder's pid where the OS
 * can tell (`/proc/locks`). `:memory:` databases need no lock: no other process can see them.
 */
import fs from 'node:fs'
import path from 'node:path'
import { LockTimeoutError } from '../../errors.js'
import type { LockHolder, MigrationLockOptions, MigrationSession } from '../migration-port.js'
import type { SqliteConnection } from './sqlite-connection.js'
import { describeFileUsers, findSqliteWriters } from './sqlite-file-users.js'
import { type HeldLockFile, acquireLockFile, formatSeconds, isLockFileHeld } from './sqlite-lock-file.js'
import { SqliteMigrationSession } from './sqlite-migration-session.js'

/**
 * Takes the migration lock of `conn`'s database, waiting up to `options.timeoutMs` (exit 5
 * after, naming the holder), and returns the session that holds it until `release()`.
 */
export async function acquireSqliteMigrationLock(conn: SqliteConnection, options: MigrationLockOptions): Promise<MigrationSession> {
  const file = conn.target.dialect === 'sqlite' ? conn.target.path : ':memory:'
  const lock = file === ':memory:' ? undefined : await acquireMigrationRunLock(file, options)
  return new SqliteMigrationSession(conn, options, lock)
}

/**
 * The lock file of `file`'s migration runs: `.<name>.migrate-lock` in the directory of the
 * real file, so every path to one database (a symlink, a relative path) shares one lock.
 */
export function migrationLockFile(file: string): string {
  const real = fs.realpathSync(file)
  return path.join(path.dirname(real), `.${path.basename(real)}.migrate-lock`)
}

/**
 * The run holding the migration lock of `conn`'s database right now, or undefined when none
 * does (see `Dialect.migrationLockHolder`). The lock file itself says whether it is held; the
 * holder's pid, command line and start time come from `/proc/locks` where the OS can tell, and
 * are undefined where it cannot (another host, another pid namespace): held all the same.
 */
export function findSqliteMigrationLockHolder(conn: SqliteConnection): LockHolder | undefined {
  if (conn.target.dialect !== 'sqlite' || conn.target.path === ':memory:') return undefined
  let lockFile: string
  try {
    lockFile = migrationLockFile(conn.target.path)
  } catch {
    return undefined
  }
  const held = isLockFileHeld(lockFile)
  if (held === false) return undefined
  const holder = findSqliteWriters(lockFile)[0]
  if (holder || !held) return holder
  return { pid: undefined, applicationName: undefined, clientAddress: undefined, since: undefined }
}

async function acquireMigrationRunLock(file: string, options: MigrationLockOptions): Promise<HeldLockFile> {
  const lockFile = migrationLockFile(file)
  return acquireLockFile(lockFile, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    // whoever may migrate the database may take its lock
    mode: fs.statSync(file).mode & 0o666,
    onBusy: () => options.onWait?.(findSqliteWriters(lockFile)[0]),
    timeoutError: () => {
      const holders = findSqliteWriters(lockFile)
      return new LockTimeoutError(
        `Timed out after ${formatSeconds(options.timeoutMs)} waiting for the migration lock of SQLite file ${file}: another dbops run holds it (${describeFileUsers(holders, 'process holding it')})`,
        {
          hint:
            'Another migration run (up, down, repair, baseline) is still going; wait for it, or retry with a longer --lock-timeout.' +
            (holders[0] ? ` If it is stuck, end it: kill ${holders[0].pid}` : ''),
        },
      )
    },
  })
}
