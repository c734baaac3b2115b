/**
 * A migration that failed, with where: the file and, when known, the line and column. The
 * location feeds the message (`… failed at line 12, column 5: …`) and, under GitHub
 * Actions, the `::error file=…,line=…::` annotation.
 */
import { DbopsError, type DbopsErrorOptions, type ExitCodeValue } from '../errors.js'

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
