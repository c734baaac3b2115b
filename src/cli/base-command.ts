/**
 * The base of every dbops command: the common flags (`--json`, `--url`, `--db`, `--config`,
 * `--quiet`, `--verbose`), configuration loading, the "which database" banner, signal
 * handling, and the one place where every outcome maps onto the exit-code table. Commands
 * set `process.exitCode` for a non-error outcome (3: attention) and return their result;
 * errors are thrown as DbopsError and rendered here (JSON under `--json`).
 */
import { Command, Flags, type Interfaces } from './oclif.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { describeTarget } from '../config/database-url.js'
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js'
import { InterruptedError, UsageError } from '../errors.js'
import { Output, errorJson } from '../ui/output.js'
import { exitErrorCode, toDbopsError } from './to-dbops-error.js'

/** Parsed flags of a command class, base flags included. */
export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DbopsCommand)['baseFlags'] & T['flags']>
/** Parsed args of a command class. */
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Whether the environment variable `CI` is set to something true-ish. */
export function isCi(env: Record<string, string | undefined> = process.env): boolean {
  const value = env.CI
  return value !== undefined && value !== '' && value !== 'false' && value !== '0'
}

/** Base class of every command. */
export abstract class DbopsCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    url: Flags.string({ summary: 'Database URL (overrides DATABASE_URL and the config file).', helpGroup: 'GLOBAL' }),
    db: Flags.string({ summary: 'A named database from the config file.', helpGroup: 'GLOBAL' }),
    config: Flags.string({ summary: 'Path to dbops.config.{ts,js,json}.', helpGroup: 'GLOBAL' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print errors only.', helpGroup: 'GLOBAL', exclusive: ['verbose'] }),
    verbose: Flags.boolean({ char: 'v', summary: 'Echo SQL, print stack traces.', helpGroup: 'GLOBAL' }),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  protected out!: Output
  /** Aborted on SIGINT/SIGTERM; pass it to the core. */
  protected readonly abort = new AbortController()
  private resolved: ResolvedConfig | undefined
  private removeSignalHandlers: (() => void) | undefined

  public override async init(): Promise<void> {
    // Output first, from the raw arguments, so that even a parse error is rendered in the
    // mode the user asked for; replaced once the flags are parsed.
    this.out = new Output({
      json: this.argv.includes('--json'),
      quiet: this.argv.includes('--quiet') || this.argv.includes('-q'),
      verbose: this.argv.includes('--verbose') || this.argv.includes('-v'),
    })
    await super.init()
    const { flags, args } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof DbopsCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    this.out = new Output({ json: this.jsonEnabled(), quiet: Boolean(this.flags.quiet), verbose: Boolean(this.flags.verbose) })
    this.installSignalHandlers()
  }

  /** The resolved configuration (read once per run). */
  protected async loadConfig(): Promise<ResolvedConfig> {
    this.resolved ??= await resolveConfig({ flags: { url: this.flags.url, db: this.flags.db, config: this.flags.config } })
    return this.resolved
  }

  /**
   * `--all`: runs `fn` for every database under `databases` in the config file, in the
   * file's order, each with its own resolved config, and returns the results with their
   * names. Stops after the first result for which `stopAfter` is true (a failed run: the
   * databases after it are left as they are). `--url` and `--db` contradict `--all`, and a
   * config file naming no databases has nothing to run on: both exit 2.
   */
  protected async forEachDatabase<R extends object>(
    fn: (config: ResolvedConfig, name: string, index: number) => Promise<R>,
    options: { stopAfter?: (result: R) => boolean } = {},
  ): Promise<Array<{ name: string } & R>> {
    if (this.flags.url || this.flags.db) throw new UsageError('--all cannot be combined with --url or --db')
    const names = (await this.loadConfig()).databases
    if (names.length === 0)
      throw new UsageError('--all: the config file names no databases', {
        hint: 'Add them under `databases` in dbops.config.ts.',
      })
    const results: Array<{ name: string } & R> = []
    for (const [index, name] of names.entries()) {
      const config = await resolveConfig({ flags: { db: name, config: this.flags.config } })
      const result = await fn(config, name, index)
      results.push({ name, ...result })
      if (options.stopAfter?.(result)) break
    }
    return results
  }

  /**
   * Prints the one line naming the database (dialect, host or file, database, user; never
   * the password) when stderr is a TTY, `CI` is set, or with `--verbose`; cron runs stay quiet.
   */
  protected announce(config: ResolvedConfig): void {
    if (this.out.mode.quiet) return
    if (this.out.stderrIsTTY || isCi() || this.out.mode.verbose) {
      const name = config.databaseName === 'default' ? '' : ` (--db ${config.databaseName})`
      this.out.info(this.out.err.dim(`→ ${describeTarget(config.target)}${name}`))
    }
  }

  /** Connect options for this command: application name, abort signal, SQL echo. */
  protected connectOptions(config: ResolvedConfig, mode: 'read' | 'write'): ConnectOptions {
    const echo = config.echo || this.out.mode.verbose
    return {
      mode,
      command: this.id?.replaceAll(':', ' ') ?? 'dbops',
      signal: this.abort.signal,
      onQuery: echo ? (sql, ms) => this.out.info(this.out.err.dim(`sql (${ms.toFixed(1)} ms): ${sql}`)) : undefined,
      onRetry: (attempt, reason, delay) => this.out.debug(`retry ${attempt} in ${delay} ms: ${reason}`),
    }
  }

  /**
   * What every long core operation takes from a command: the abort signal, notes shown with
   * `--verbose`, and warnings on stderr.
   */
  protected reporting(): { signal: AbortSignal; onNote: (text: string) => void; onWarning: (text: string) => void } {
    return {
      signal: this.abort.signal,
      onNote: (text) => this.out.debug(text),
      onWarning: (text) => this.out.warn(text),
    }
  }

  private installSignalHandlers(): void {
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
      if (this.abort.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143) // second signal: now
      this.abort.abort(new InterruptedError(signal))
    }
    const onInt = onSignal('SIGINT')
    const onTerm = onSignal('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    this.removeSignalHandlers = () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
  }

  /** Every error of every command ends here: render it, set the exit code, never rethrow. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    const exit = exitErrorCode(err)
    if (exit !== undefined) {
      process.exitCode = exit
      return
    }
    const error = toDbopsError(err, this.id)
    process.exitCode = error.exitCode
    const out = this.out
    if (out.mode.json) out.json(errorJson(error))
    else out.error(error)
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    this.removeSignalHandlers?.()
    await super.finally(err)
  }

  /** The JSON document goes through the same redacting writer as everything else. */
  protected override logJson(json: unknown): void {
    this.out.json(json)
  }

  protected override toSuccessJson(result: unknown): unknown {
    return result
  }
}
