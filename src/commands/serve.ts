import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { registerSecret } from '../config/redact.js'
import { InterruptedError, UsageError, errorCodeOf } from '../errors.js'
import { buildServer } from '../serve/build-server.js'

/** `dbops serve`: health probes, a REST API, Prometheus metrics and a read-only web console over HTTP. */
export default class Serve extends DbopsCommand<typeof Serve> {
  static override summary = 'Serve health probes, a read-only REST API, /metrics and a web console over HTTP.'
  static override description =
    'Routes: /live, /ready (login + SELECT 1, cached 1 s), /health (200 / 503), /metrics (Prometheus), /api/v1/db/… ' +
    '(status, is-ready, tables, tables/NAME, tables/NAME/schema, migrations/status, backups, pool) and the console at /. ' +
    'Database sessions are read-only with short timeouts. Binds 127.0.0.1 unless --host; any other host requires ' +
    'DBOPS_SERVE_TOKEN as a bearer token on every route but /live and /ready. --allow-writes adds POST ' +
    'migrations/run and migrations/generate (token always required). One JSON log line per request on stderr. ' +
    'SIGTERM: stops accepting, lets requests in flight finish, closes the pool, exits 143.'
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 8080',
    'DBOPS_SERVE_TOKEN=$(openssl rand -hex 32) <%= config.bin %> serve --host 0.0.0.0',
  ]
  static override flags = {
    port: Flags.integer({ summary: 'TCP port (0: any free one).', default: 4545, min: 0, max: 65535 }),
    host: Flags.string({ summary: 'Interface to listen on; not loopback requires DBOPS_SERVE_TOKEN.', default: '127.0.0.1' }),
    'allow-writes': Flags.boolean({ summary: 'Add POST migrations/run and migrations/generate (bearer token required).' }),
  }

  async run(): Promise<void> {
    const config = await this.loadConfig()
    const token = process.env.DBOPS_SERVE_TOKEN
    registerSecret(token)
    this.announce(config)
    const echo = config.echo || this.out.mode.verbose
    const app = await buildServer(config, {
      host: this.flags.host,
      allowWrites: this.flags['allow-writes'],
      token,
      onQuery: echo ? (sql, ms) => this.out.info(this.out.err.dim(`sql (${ms.toFixed(1)} ms): ${sql}`)) : undefined,
    })
    let address: string
    try {
      address = await app.listen({ port: this.flags.port, host: this.flags.host })
    } catch (err) {
      await app.close()
      const code = errorCodeOf(err)
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw new UsageError(`Cannot listen on ${this.flags.host}:${this.flags.port}: ${code}`, {
          code: 'SERVE_LISTEN_FAILED',
          hint: 'Choose another --port (or --host).',
        })
      throw err
    }
    const mode = this.flags['allow-writes'] ? 'writes allowed' : 'read-only'
    this.out.info(`dbops serve: listening on ${address} (${mode})`)
    const signal = this.abort.signal
    const reason = await new Promise<unknown>((resolve) => {
      if (signal.aborted) resolve(signal.reason)
      signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
    })
    // stop accepting, let requests in flight finish, then close the pool
    await app.close()
    process.exitCode = reason instanceof InterruptedError ? reason.exitCode : 143
  }
}
