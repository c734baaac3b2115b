/**
 * SQLite restores through the online backup API into the target, as `sqlite3 .restore` does:
 * the target is written in place under SQLite's own locks, never renamed over, so connections
 * to a live (WAL) database stay valid.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { DatabaseTarget } from '../../config/database-url.js'
import { DbopsError, ExitCode, messageOf } from '../../errors.js'
import type { RestoreOutcome, RestoreRequest } from '../backup-port.js'
import { copyWithBackupApi, gunzipInto, isGzipFile, mapCopyError, openReadOnly } from './sqlite-backup.js'
import { sqliteFileIdentity } from './sqlite-identity.js'

/** The mode of a restored database's new file: the configured database's, else owner-only. */
function newFileMode(configuredPath: string): number {
  try {
    return fs.statSync(configuredPath).mode & 0o666
  } catch {
    return 0o600
  }
}

/**
 * Restores a SQLite backup into `request.target` through the online backup API (the target's
 * own locks, WAL-safe; never a rename over a live file). A missing target is created with the
 * configured database file's mode (0600 when there is none: a database is never made readable
 * by others on the way back); an existing one with data goes through `beforeReplace` first.
 * Default target: a new file `<name>-restored-<stamp>.db` beside the `configured` database.
 * The whole file is replaced, so no table of the target survives.
 */
export async function restoreSqliteBackup(configured: DatabaseTarget, request: RestoreRequest): Promise<RestoreOutcome> {
  if (configured.dialect !== 'sqlite') throw new TypeError('restoreSqliteBackup needs a SQLite configuration')
  let target = request.target
  if (target === undefined) {
    const base = path.basename(configured.path).replace(/\.[^.]*$/, '')
    // the UTC time to the millisecond without separators: 20250101T030000000Z
    const stamp = new Date().toISOString().replace(/[-:.]/g, '')
    target = { dialect: 'sqlite', path: path.join(path.dirname(configured.path), `${base}-restored-${stamp}.db`) }
  }
  if (target.dialect !== 'sqlite') throw new TypeError('a SQLite backup restores into a SQLite target')
  const destination = target.path
  const scratch: string[] = []
  try {
    let file = request.file
    if (isGzipFile(file)) {
      const plain = request.scratchPath('restore-raw')
      scratch.push(plain)
      await gunzipInto(file, plain, request.signal)
      file = plain
    }
    const existed = fs.existsSync(destination) && fs.statSync(destination).size > 0
    const createdHere = !fs.existsSync(destination)
    if (existed) await request.beforeReplace?.(target, sqliteFileIdentity(destination))
    else if (createdHere) {
      fs.mkdirSync(path.dirname(destination), { recursive: true })
      const mode = newFileMode(configured.path)
      fs.closeSync(fs.openSync(destination, 'wx', mode))
      fs.chmodSync(destination, mode) // the umask does not widen or narrow it
    }
    const from = openReadOnly(file)
    try {
      await copyWithBackupApi(from, destination, {
        signal: request.signal,
        onProgress: request.onProgress,
        // the target's writers do not restart a copy into it; restarts here would mean a changing backup file
        maxRestarts: 1,
      })
    } catch (err) {
      // a file this restore created and could not fill is removed: nothing half-restored stays behind
      if (createdHere) for (const f of ['', '-journal', '-wal', '-shm']) fs.rmSync(`${destination}${f}`, { force: true })
      const mapped = mapCopyError(err, destination)
      if (mapped instanceof DbopsError) throw mapped
      throw new DbopsError('RESTORE_FAILED', ExitCode.failed, `Restoring into ${destination} failed: ${messageOf(err)}`, {
        hint: /page size/i.test(messageOf(err))
          ? 'The target is in WAL mode with another page size; restore into a new file (omit --target-url / --in-place) and swap it in while the application is stopped.'
          : 'Is the target locked by a long transaction? Stop the writers and retry.',
        cause: err,
      })
    } finally {
      from.close()
    }
    return { target, created: !existed, replaced: existed, tablesNotInBackup: [] }
  } finally {
    for (const f of scratch) fs.rmSync(f, { force: true })
  }
}
