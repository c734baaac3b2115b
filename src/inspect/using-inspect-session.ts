/**
 * The session `dbops inspect` reads through: the on-call one (read-only, short timeouts), with
 * a damaged database reported as what it is. A corrupt page surfaces as a driver error in the
 * middle of a read ("database disk image is malformed"); untranslated it would be exit 1 with
 * "report a bug", when it is an integrity failure of the database (exit 6) whose way out is a
 * check and a restore.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DbConnection } from '../dialects/dialect.js'
import { dialectTraits } from '../dialects/index.js'
import { IntegrityError, errorCodeOf, messageOf } from '../errors.js'
import { usingOnCallSession } from '../health/on-call-session.js'
import type { SharedSession } from '../health/shared-session.js'

/** Options of the inspect functions. */
export interface InspectOptions {
  /** How to connect (application name, signal, echo); the on-call session is added. */
  connect: ConnectOptions
  /** A long-lived session to read through instead of opening one (`dbops serve`). */
  shared?: SharedSession | undefined
}

/**
 * Runs `fn` in the on-call session (or in `shared`, a server's long-lived one); a corruption error from the database (by the dialect's
 * error codes) becomes an {@link IntegrityError} (`DB_CORRUPT`, exit 6) naming the file or
 * database, with the dialect's hint to check it and restore a backup.
 */
export async function usingInspectSession<T>(
  config: ResolvedConfig,
  options: InspectOptions,
  fn: (conn: DbConnection) => Promise<T>,
): Promise<T> {
  try {
    return await usingOnCallSession(config, options.connect, fn, options.shared)
  } catch (err) {
    const corruption = dialectTraits(config.target.dialect).corruption
    if (!corruption.codes.test(errorCodeOf(err) ?? '')) throw err
    throw new IntegrityError('DB_CORRUPT', `${corruption.describe(config.target)}: ${messageOf(err)}`, {
      hint: corruption.hint,
      cause: err,
    })
  }
}
