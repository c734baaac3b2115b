/**
 * oclif's `command_not_found` hook: an unknown command is a usage error (exit 2, code
 * `UNKNOWN_COMMAND`) whose hint names the closest command. The error reaches bin/run.js,
 * which renders it like any other (one line and a hint, or the JSON error document).
 */
import type { Hook } from '@oclif/core'
import { closestMatch } from '../closest-match.js'
import { UsageError } from '../errors.js'

const commandNotFound: Hook<'command_not_found'> = async function ({ id, config }) {
  // The words as typed, up to the first flag (what follows a flag is its value). Not from
  // `id`: oclif joins the words with ':', which cuts a URL apart so that its password no
  // longer looks like one to the redaction every printed line goes through.
  const words: string[] = []
  for (const arg of process.argv.slice(2)) {
    if (arg.startsWith('-')) break
    words.push(arg)
  }
  const typed = words.length > 0 ? words.join(' ') : id.replaceAll(':', ' ')
  const suggestion = closestMatch(
    typed,
    config.commandIDs.map((c) => c.replaceAll(':', ' ')),
  )
  const help = 'Run `dbops help` for the list of commands.'
  throw new UsageError(`"${typed}" is not a dbops command`, {
    code: 'UNKNOWN_COMMAND',
    hint: suggestion ? `Did you mean \`dbops ${suggestion}\`? ${help}` : help,
  })
}

export default commandNotFound
