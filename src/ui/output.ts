/**
 * Where things are printed. stdout carries the result (one JSON document under `--json`);
 * progress, logs, warnings and errors go to stderr. Colour comes from chalk's stderr
 * instance (and its stdout one for results), off when `NO_COLOR` is set. Every line passes
 * through `redact()` first. Errors and warnings are plain text that can quote file names and
 * database messages, so their control characters are escaped (`printable`); results and
 * progress lines carry colour, and their renderers escape what they quote.
 */
import chalk, { Chalk, type ChalkInstance, chalkStderr } from 'chalk'
import { redact } from '../config/redact.js'
import { type DbopsError } from '../errors.js'
import { printableLines } from '../printable-text.js'

/** The output switches every command has. */
export interface OutputMode {
  json: boolean
  quiet: boolean
  verbose: boolean
}

/** A writable stream as far as printing goes. */
export interface TextStream {
  write(text: string): unknown
  isTTY?: boolean
}

/**
 * Colour level for a stream: 0 when `NO_COLOR` is set (any non-empty value, per
 * no-color.org; chalk itself does not look at it). For the process's own streams, chalk's
 * detection (its stderr instance for stderr); for others, TTY and `FORCE_COLOR`.
 */
export function colorLevel(stream: TextStream, env: Record<string, string | undefined>): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (stream === process.stderr) return chalkStderr.level
  if (stream === process.stdout) return chalk.level
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return 1
  if (!stream.isTTY || env.TERM === 'dumb') return 0
  return env.COLORTERM === 'truecolor' ? 3 : 2
}

/** Printing for one command run. */
export class Output {
  /** Colours for stderr. */
  readonly err: ChalkInstance
  /** Colours for stdout. */
  readonly out: ChalkInstance

  constructor(
    readonly mode: OutputMode,
    private readonly stdout: TextStream = process.stdout,
    private readonly stderr: TextStream = process.stderr,
    env: Record<string, string | undefined> = process.env,
  ) {
    this.err = new Chalk({ level: colorLevel(stderr, env) })
    this.out = new Chalk({ level: colorLevel(stdout, env) })
  }

  /** Whether stderr is a terminal. */
  get stderrIsTTY(): boolean {
    return this.stderr.isTTY === true
  }

  /** Whether stdout is a terminal (redraws clear the screen only there). */
  get stdoutIsTTY(): boolean {
    return this.stdout.isTTY === true
  }

  /**
   * A result line on stdout; nothing under `--json` (the JSON document is the result) or
   * `--quiet` (errors only: a cron job that succeeds prints nothing; the exit code says how it went).
   */
  result(text: string): void {
    if (this.mode.json || this.mode.quiet) return
    this.stdout.write(`${redact(text)}\n`)
  }

  /** The JSON document on stdout. */
  json(value: unknown): void {
    this.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`)
  }

  /** One JSON document on one line of stdout: the stream form of `--watch --json`. */
  jsonLine(value: unknown): void {
    this.stdout.write(`${redact(JSON.stringify(value))}\n`)
  }

  /** Raw text on stdout (a screen redraw); nothing under `--json` or `--quiet`. */
  raw(text: string): void {
    if (this.mode.json || this.mode.quiet) return
    this.stdout.write(redact(text))
  }

  /** A progress or log line on stderr; silent with `--quiet`. */
  info(text: string): void {
    if (this.mode.quiet) return
    this.stderr.write(`${redact(text)}\n`)
  }

  /** A line only with `--verbose`. */
  debug(text: string): void {
    if (!this.mode.verbose) return
    this.stderr.write(`${this.err.dim(redact(text))}\n`)
  }

  /** A warning on stderr; silent with `--quiet`. */
  warn(text: string): void {
    if (this.mode.quiet) return
    this.stderr.write(`${this.err.yellow('warning:')} ${redact(printableLines(text))}\n`)
  }

  /**
   * An error on stderr: one line, then the hint; the stack (and causes) only with
   * `--verbose`. Printed even with `--quiet`.
   */
  error(err: DbopsError): void {
    const lines = [`${this.err.red.bold('error:')} ${printableLines(err.message)}`]
    if (err.hint) lines.push(`${this.err.dim('hint:')} ${printableLines(err.hint)}`)
    if (this.mode.verbose) {
      lines.push(this.err.dim(`code: ${err.code}, exit ${err.exitCode}`))
      let cause: unknown = err
      while (cause instanceof Error) {
        if (cause.stack) lines.push(this.err.dim(cause.stack))
        cause = cause.cause
      }
    }
    this.stderr.write(`${redact(lines.join('\n'))}\n`)
  }
}

/**
 * The JSON shape of an error: `{"error": {"code", "message", "hint"}}`, with `sqlstate` when
 * the database reported the failure and has SQLSTATEs (a failed PostgreSQL migration).
 */
export function errorJson(err: DbopsError): { error: { code: string; message: string; hint: string | null; sqlstate?: string } } {
  return {
    error: {
      code: err.code,
      message: err.message,
      hint: err.hint ?? null,
      ...(err.sqlstate === undefined ? {} : { sqlstate: err.sqlstate }),
    },
  }
}
