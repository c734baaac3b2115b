/**
 * Typed errors. Every failure dbops reports is a {@link DbopsError}: a stable `code` a
 * pipeline can match on, a one-line `message` that says what failed and where, a `hint`
 * with the way out, and an `exitCode` from the table in DESIGN.md. The original error
 * travels as `cause` and is only printed with `--verbose`.
 */

/**
 * Exit codes, the same in every command, so a pipeline can tell a retry from a fix.
 * See the table in docs/exit-codes.md ("Exit codes").
 */
export const ExitCode = {
  /** Success; healthy; nothing to report. */
  ok: 0,
  /** The operation failed (a migration's SQL, a backup, a failed health check). */
  failed: 1,
  /** Bad usage or bad configuration. */
  usage: 2,
  /** Finished, attention needed (pending migrations, drift, a health warning). */
  attention: 3,
  /** The database could not be reached, transiently: worth a retry. */
  unreachable: 4,
  /** A migration or backup lock was not acquired in time: worth a retry. */
  lockTimeout: 5,
  /** Integrity: changed, missing or dirty migrations, a backup failing verification. */
  integrity: 6,
  /** Access: authentication failed, missing database, missing SQLite file. */
  access: 7,
  /** Interrupted by SIGINT. */
  sigint: 130,
  /** Interrupted by SIGTERM. */
  sigterm: 143,
} as const

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** Options shared by every {@link DbopsError} constructor. */
export interface DbopsErrorOptions {
  /** The way out, printed on its own line after the message. */
  hint?: string
  /** The underlying error (driver error, file-system error). */
  cause?: unknown
  /** The database's SQLSTATE when the database reported the failure (PostgreSQL). */
  sqlstate?: string | undefined
}

/**
 * The base of every error dbops reports on purpose.
 *
 * @example
 * throw new DbopsError('BACKUP_FAILED', ExitCode.failed, 'pg_dump exited with code 1', { hint: '…' })
 */
export class DbopsError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly hint: string | undefined
  /** The database's SQLSTATE (`42703`), when the database reported the failure and has them. */
  readonly sqlstate: string | undefined

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: DbopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.exitCode = exitCode
    this.hint = options.hint
    this.sqlstate = options.sqlstate
  }
}

/** Bad usage: an unknown flag, a missing argument, a flag value out of range. Exit 2. */
export class UsageError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'USAGE', ExitCode.usage, message, options)
  }
}

/**
 * Bad configuration: a malformed URL, a value of the wrong type, an unknown `--db` entry,
 * a config file that does not load. The message names the variable or key at fault. Exit 2.
 */
export class ConfigError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'CONFIG_INVALID', ExitCode.usage, message, options)
  }
}

/** The server could not be reached, transiently (refused, timed out, starting up, full). Exit 4. */
export class DbUnreachableError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'DB_UNREACHABLE', ExitCode.unreachable, message, {
      hint: 'Is the server up and reachable? Check DATABASE_URL or --url, then retry.',
      ...options,
    })
  }
}

/** Authentication failed (28P01, 28000) or the TLS handshake was refused. Exit 7. */
export class AuthFailedError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'AUTH_FAILED', ExitCode.access, message, {
      hint: 'Check the user and password in DATABASE_URL (or DATABASE_USER / DATABASE_PASSWORD).',
      ...options,
    })
  }
}

/** The database does not exist: PostgreSQL 3D000, or a missing SQLite file. Exit 7. */
export class DatabaseMissingError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'DB_NOT_FOUND', ExitCode.access, message, options)
  }
}

/** A migration or backup lock was not acquired within the timeout. Exit 5. */
export class LockTimeoutError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions = {}) {
    super('LOCK_TIMEOUT', ExitCode.lockTimeout, message, options)
  }
}

/** Integrity: a changed, missing or dirty migration, a backup failing verification. Exit 6. */
export class IntegrityError extends DbopsError {
  constructor(code: string, message: string, options: DbopsErrorOptions = {}) {
    super(code, ExitCode.integrity, message, options)
  }
}

/** The operation itself failed (SQL error in a migration, a backup tool's failure). Exit 1. */
export class OperationError extends DbopsError {
  constructor(code: string, message: string, options: DbopsErrorOptions = {}) {
    super(code, ExitCode.failed, message, options)
  }
}

/** A destructive command refused by the production guard. Exit 2 (re-run with `--yes`). */
export class ProductionGuardError extends DbopsError {
  constructor(message: string, options: DbopsErrorOptions = {}) {
    super('PRODUCTION_GUARD', ExitCode.usage, message, {
      hint: 'Re-run with --yes if you mean it.',
      ...options,
    })
  }
}

/** The run was interrupted by SIGINT (exit 130) or SIGTERM (exit 143). */
export class InterruptedError extends DbopsError {
  readonly signal: 'SIGINT' | 'SIGTERM'

  constructor(signal: 'SIGINT' | 'SIGTERM', message = `Interrupted by ${signal}`) {
    super('INTERRUPTED', signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm, message)
    this.signal = signal
  }
}

/** Whether `err` is a {@link DbopsError}. */
export function isDbopsError(err: unknown): err is DbopsError {
  return err instanceof DbopsError
}

/**
 * Returns the errno-style `code` of a Node or driver error (`ECONNREFUSED`, `28P01`), or
 * undefined. Looks through `AggregateError` (Node's happy-eyeballs connect) to the first code.
 */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const innerCode = errorCodeOf(inner)
      if (innerCode) return innerCode
    }
  }
  return undefined
}

/** The message of any thrown value, on one line. */
export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n')[0]?.trim() ?? ''
}
