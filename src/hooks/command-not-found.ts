/**
 * oclif's `command_not_found` hook: an unknown command is a usage error (exit 2, code
 * `UNKNOWN_COMMAND`) whose hint names the closest command. The error reaches bin/run.js,
 * which renders it like any other (one line and a hint, or the JSON error document).
 */
import type { Hook } from '@oclif/core'
import { closestMatch } from '../cli/closest-match.js'
import { UsageError } from '../errors.js'

const commandNotFound: Hook<'command_not_found'> = async function ({ id, argv, config }) {
  const typed = [...id.split(':'), ...(argv ?? []).filter((a) => !a.startsWith('-'))].join(' ')
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
