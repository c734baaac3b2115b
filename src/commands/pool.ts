import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { DEFAULT_RESERVE, type PoolReport, checkPool } from '../health/check-pool.js'
import { ExitCode } from '../errors.js'
import { renderPoolReport } from '../ui/render-pool.js'

/** `dbops pool`: who holds the connections, what waits on what, does the pool work? */
export default class Pool extends DbopsCommand<typeof Pool> {
  static override summary = 'Show who holds the connections and what waits on what; try the configured pool.'
  static override description =
    'PostgreSQL: sessions by state, application and user; idle-in-transaction sessions; blocked queries with the pid ' +
    'blocking them and the statement that would end it (printed, never run); then N connections acquired concurrently ' +
    'through the configured pool (POOL_SIZE + MAX_OVERFLOW, POOL_TIMEOUT) with acquire latency. N is capped so that ' +
    `--reserve free connections (default ${DEFAULT_RESERVE}) stay free, unless --force.\n` +
    'SQLite: whether the write lock can be taken within the busy timeout (taken and released at once), the WAL size, ' +
    'a passive checkpoint, and the processes holding the file open (Linux).\n' +
    'Exit 0, or 3 when something needs attention (blocked queries, failed acquires, a pool that does not fit, no write lock).'
  static override examples = ['<%= config.bin %> pool', '<%= config.bin %> pool --connections 20 --json']
  static override flags = {
    connections: Flags.integer({ summary: 'Connections to acquire concurrently (default: the pool max).', helpValue: 'N', min: 1 }),
    reserve: Flags.integer({ summary: 'Free connections to leave alone.', default: DEFAULT_RESERVE, min: 0 }),
    force: Flags.boolean({ summary: 'Take more than the free connections minus the reserve.' }),
  }

  async run(): Promise<PoolReport> {
    const config = await this.loadConfig()
    this.announce(config)
    const report = await checkPool(config, {
      connections: this.flags.connections,
      reserve: this.flags.reserve,
      force: this.flags.force,
      connect: this.connectOptions(config, 'read'),
    })
    this.out.result(renderPoolReport(report, this.out.out))
    if (report.client?.capped && report.client.cap_reason) this.out.warn(report.client.cap_reason)
    if (report.client === null && this.flags.connections !== undefined)
      this.out.warn(`--connections: ${report.dialect} has no connection pool to try; ignored`)
    if (report.attention.length > 0) process.exitCode = ExitCode.attention
    return report
  }
}
