/**
 * Maps anything thrown during a command onto a {@link DbopsError}, so one table of exit
 * codes holds for every path: oclif's flag-parse errors become usage errors (exit 2),
 * unknown failures become exit 1 with their message.
 */
import { DbopsError, ExitCode, UsageError, messageOf } from '../errors.js'

/** Whether `err` is oclif's `ExitError` (thrown by `this.exit(n)`); returns its code. */
export function exitErrorCode(err: unknown): number | undefined {
  if (err instanceof Error && err.name === 'ExitError') {
    const exit = (err as { oclif?: { exit?: number } }).oclif?.exit
    return typeof exit === 'number' ? exit : 0
  }
  return undefined
}

/** Converts any thrown value to a DbopsError. `commandId` names the help to suggest. */
export function toDbopsError(err: unknown, commandId?: string): DbopsError {
  if (err instanceof DbopsError) return err
  if (err instanceof Error && 'parse' in err) {
    // oclif's parser errors (unknown flag, missing argument, bad option value)
    const help = commandId ? `dbops ${commandId.replaceAll(':', ' ')} --help` : 'dbops --help'
    return new UsageError(messageOf(err), { hint: `See \`${help}\`.`, cause: err })
  }
  const oclifExit = (err as { oclif?: { exit?: number } } | undefined)?.oclif?.exit
  if (oclifExit === 2) return new UsageError(messageOf(err), { cause: err })
  return new DbopsError('INTERNAL', ExitCode.failed, messageOf(err) || 'Unexpected error', {
    hint: 'Run again with --verbose for the stack trace, and report it if it looks like a bug in dbops.',
    cause: err,
  })
}
