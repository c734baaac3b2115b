/**
 * A migration that failed, with where: the file and, when known, the line and column. The
 * location feeds the message (`… failed at line 12, column 5: …`) and, under GitHub
 * Actions, the `::error file=…,line=…::` annotation.
 */
import { DbopsError, type DbopsErrorOptions, ExitCode, type ExitCodeValue } from '../errors.js'
import type { SqlMigrationFormatError } from './parse-sql-migration.js'

/** Where a migration failed. */
export interface MigrationLocation {
  /** Absolute path of the file. */
  file: string
  line?: number | undefined
  column?: number | undefined
}

/** A failure tied to a migration file; exit code as given (1 for SQL, 5 for lock_timeout, 6 for dirty). */
export class MigrationFailedError extends DbopsError {
  constructor(
    code: string,
    exitCode: ExitCodeValue,
    message: string,
    readonly location: MigrationLocation,
    options: DbopsErrorOptions = {},
  ) {
    super(code, exitCode, message, options)
  }
}

/** "at line 12, column 5" / "at line 12" / "" */
export function describeLocation(location: { line?: number | undefined; column?: number | undefined }): string {
  if (location.line === undefined) return ''
  return location.column === undefined ? ` at line ${location.line}` : ` at line ${location.line}, column ${location.column}`
}

/** The `line:column` of `file` in an error's message or stack (jiti keeps the source's lines), if any. */
export function locationInStack(err: unknown, file: string): { line: number; column: number } | undefined {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(text)
  return match ? { line: Number(match[1]), column: Number(match[2]) } : undefined
}

// a file dbops will not send (psql syntax, a NUL byte) is bad input, exit 2; a broken one is a failed migration, exit 1
const REFUSALS: Record<SqlMigrationFormatError['reason'], { code: string; exitCode: ExitCodeValue; hint: string }> = {
  format: { code: 'MIGRATION_INVALID', exitCode: ExitCode.failed, hint: 'Fix the file; nothing was applied.' },
  psql: {
    code: 'MIGRATION_PSQL_SYNTAX',
    exitCode: ExitCode.usage,
    hint: 'dbops sends plain SQL, not psql scripts: write rows as INSERT … VALUES instead of COPY … FROM stdin, put values in the SQL instead of \\set variables, and choose the database with DATABASE_URL or --db instead of \\connect. Nothing was applied.',
  },
  nul: {
    code: 'MIGRATION_NUL_BYTE',
    exitCode: ExitCode.usage,
    hint: 'Remove the NUL byte (a file saved as UTF-16, or a binary paste, has them); nothing was applied.',
  },
}

/**
 * A `.sql` migration refused before anything ran, naming the file and line: exit 2 for a file
 * dbops will not send (psql syntax, a NUL byte), exit 1 for one that is broken (markers,
 * options, an unterminated string, transaction control).
 */
export function invalidSqlMigrationError(err: SqlMigrationFormatError, label: string, file: string): MigrationFailedError {
  const refusal = REFUSALS[err.reason]
  return new MigrationFailedError(
    refusal.code,
    refusal.exitCode,
    `Migration ${label} is not valid at line ${err.line}: ${err.message}`,
    { file, line: err.line, column: err.column },
    { hint: refusal.hint },
  )
}
