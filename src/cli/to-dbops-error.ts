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

// oclif rewrites the message of any error thrown while a flag's value is parsed to
// "Parsing --name \n\t<reason>\nSee more help with --help"; its first line alone says nothing
const FLAG_PARSE_FAILURE = /^Parsing --([\w-]+) ?\n\t([\s\S]*?)(?:\nSee more help with --help)?$/

// oclif's relationship checks (dependsOn, exclusive, exactlyOne) list their reasons under a
// heading that says nothing: "The following error occurred:\n  <reason>\nSee more help with --help"
const FAILED_VALIDATION = /^The following errors? occurred:\n([\s\S]*?)(?:\nSee more help with --help)?$/

/** Converts any thrown value to a DbopsError. `commandId` names the help to suggest. */
export function toDbopsError(err: unknown, commandId?: string): DbopsError {
  const help = commandId ? `dbops ${commandId.replaceAll(':', ' ')} --help` : 'dbops --help'
  const flagFailure = err instanceof Error ? FLAG_PARSE_FAILURE.exec(err.message) : null
  if (flagFailure) {
    const reason = flagFailure[2]!.replace(/\s*\n\s*/g, ' ').trim()
    // a DbopsError from a flag's own parser already names the flag and the allowed values
    if (err instanceof DbopsError) return new DbopsError(err.code, err.exitCode, reason, { hint: err.hint, cause: err })
    return new UsageError(`--${flagFailure[1]}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`, {
      hint: `See \`${help}\`.`,
      cause: err,
    })
  }
  if (err instanceof DbopsError) return err
  if (err instanceof Error && 'parse' in err) {
    // oclif's parser errors (unknown flag, missing argument, bad option value)
    const reasons = (FAILED_VALIDATION.exec(err.message)?.[1] ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
    return new UsageError(reasons.length > 0 ? reasons.join('; ') : messageOf(err), { hint: `See \`${help}\`.`, cause: err })
  }
  const oclifExit = (err as { oclif?: { exit?: number } } | undefined)?.oclif?.exit
  if (oclifExit === 2) return new UsageError(messageOf(err), { cause: err })
  return new DbopsError('INTERNAL', ExitCode.failed, messageOf(err) || 'Unexpected error', {
    hint: 'Run again with --verbose for the stack trace, and report it if it looks like a bug in dbops.',
    cause: err,
  })
}
