/**
 * Errors that happen outside any command: an unknown command (exit 2, with a "did you mean"),
 * or oclif failing to load. Same rendering as errors inside a command: one line and a hint on
 * stderr, or the JSON error document.
 */
import { Config } from './oclif.js'
import { UsageError } from '../errors.js'
import { Output, errorJson } from '../ui/output.js'
import { exitErrorCode, toDbopsError } from './to-dbops-error.js'
import { closestMatch } from './closest-match.js'

/** Renders `err` for a run with arguments `argv` and sets the exit code. */
export async function handleTopLevelError(err: unknown, argv: string[], root: string): Promise<void> {
  const exit = exitErrorCode(err)
  if (exit !== undefined) {
    process.exitCode = exit
    return
  }
  const json = argv.includes('--json')
  const out = new Output({ json, quiet: false, verbose: argv.includes('--verbose') })
  let error = toDbopsError(err)
  // oclif's own error when no command matches and no hook took it: "command migrat:statu not found"
  if (/^command \S+ not found$/.test((err as Error | undefined)?.message ?? '')) {
    const words = argv.filter((a) => !a.startsWith('-'))
    const typed = words.join(' ')
    let hint = 'Run `dbops help` for the list of commands.'
    try {
      const config = await Config.load(root)
      const ids = config.commandIDs.map((id) => id.replaceAll(':', ' '))
      const suggestion = closestMatch(typed, ids)
      if (suggestion) hint = `Did you mean \`dbops ${suggestion}\`? Run \`dbops help\` for the list of commands.`
    } catch {
      // the suggestion is a nicety; the error stands without it
    }
    error = new UsageError(`"${typed}" is not a dbops command`, { code: 'UNKNOWN_COMMAND', hint })
  }
  process.exitCode = error.exitCode
  if (json) out.json(errorJson(error))
  else out.error(error)
}
