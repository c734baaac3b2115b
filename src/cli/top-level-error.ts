/**
 * Errors that happen outside any command: an unknown command (src/hooks/command-not-found.ts),
 * or oclif failing to load. Same rendering as errors inside a command: one line and a hint on
 * stderr, or the JSON error document.
 */
import { Output, errorJson } from '../ui/output.js'
import { exitErrorCode, toDbopsError } from './to-dbops-error.js'

/** Renders `err` for a run with arguments `argv` and sets the exit code. */
export async function handleTopLevelError(err: unknown, argv: string[]): Promise<void> {
  const exit = exitErrorCode(err)
  if (exit !== undefined) {
    process.exitCode = exit
    return
  }
  const json = argv.includes('--json')
  const out = new Output({ json, quiet: false, verbose: argv.includes('--verbose') })
  const error = toDbopsError(err)
  process.exitCode = error.exitCode
  if (json) out.json(errorJson(error))
  else out.error(error)
}
