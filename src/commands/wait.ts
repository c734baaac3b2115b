import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { type WaitResult, waitForDatabase } from '../health/wait-for-database.js'

/** `dbops wait`: until the database accepts a real login and answers SELECT 1. */
export default class Wait extends DbopsCommand<typeof Wait> {
  static override summary = 'Wait until the database accepts a real login.'
  static override description =
    'Retries refused connections, a server starting up and "too many connections" until --timeout (exit 4); ' +
    'stops at once on a wrong password or a missing database (exit 7).'
  static override examples = ['<%= config.bin %> wait --timeout 60 && <%= config.bin %> migrate up']
  static override flags = {
    timeout: Flags.integer({ summary: 'Seconds to wait before giving up.', default: 60, min: 1 }),
  }

  async run(): Promise<WaitResult> {
    const config = await this.loadConfig()
    this.announce(config)
    const result = await waitForDatabase(config, {
      timeoutMs: this.flags.timeout * 1000,
      connect: this.connectOptions(config, 'read'),
      onAttempt: (attempt, reason) => this.out.debug(`attempt ${attempt}: ${reason}`),
    })
    this.out.info(
      `ready after ${result.elapsed_ms} ms (${result.attempts} attempt${result.attempts === 1 ? '' : 's'}), server ${result.server_version}`,
    )
    return result
  }
}
