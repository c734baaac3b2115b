/**
 * The session `dbops inspect` reads through: the on-call one (read-only, short timeouts), with
 * a damaged database reported as what it is. A corrupt page surfaces as a driver error in the
 * middle of a read ("database disk image is malformed"); untranslated it would be exit 1 with
 * "report a bug", when it is an integrity failure of the database (exit 6) whose way out is a
 * check and a restore.
 */
import { describeTarget } from '../config/database-url.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection } from '../dialects/dialect.js'
import { IntegrityError, errorCodeOf, messageOf } from '../errors.js'
import { usingOnCallSession } from '../health/on-call-session.js'

// SQLite: SQLITE_CORRUPT and its extended codes, SQLITE_NOTADB; PostgreSQL: data_corrupted, index_corrupted
const CORRUPTION_CODES = /^(SQLITE_CORRUPT\w*|SQLITE_NOTADB|XX001|XX002)$/

/**
 * Runs `fn` in the on-call session; a corruption error from the database becomes an
 * {@link IntegrityError} (`DB_CORRUPT`, exit 6) naming the file or database, with a hint to
 * check it (`dbops health --deep`) and restore a backup.
 */
export async function usingInspectSession<T>(
  config: ResolvedConfig,
  base: ConnectOptions,
  fn: (conn: DbConnection) => Promise<T>,
): Promise<T> {
  try {
    return await usingOnCallSession(config, base, fn)
  } catch (err) {
    if (!CORRUPTION_CODES.test(errorCodeOf(err) ?? '')) throw err
    const target = config.target
    const what =
      target.dialect === 'sqlite' ? `SQLite file ${target.path} is corrupt` : `Database ${describeTarget(target)} has corrupt data`
    throw new IntegrityError('DB_CORRUPT', `${what}: ${messageOf(err)}`, {
      hint:
        target.dialect === 'sqlite'
          ? 'Stop writing to it; `dbops health --deep` runs quick_check over the whole file. Restore the newest verified backup (`dbops backup list`, `dbops backup restore --latest`), or salvage rows with the sqlite3 shell’s `.recover`.'
          : 'Check the server log and the storage; `amcheck` (bt_index_check) finds damaged indexes, which REINDEX rebuilds. For damaged table data, restore the newest verified backup (`dbops backup list`, `dbops backup restore --latest`).',
      cause: err,
    })
  }
}
