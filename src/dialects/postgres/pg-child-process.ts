/**
 * Running `pg_dump` / `pg_restore` against exactly the target dbops resolved: the child's
 * environment loses every stray `PG*` variable and gets `PGHOST`, `PGPORT`, `PGUSER`,
 * `PGDATABASE` and the TLS settings (`PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`,
 * with libpq's meaning, as dbops uses them). The password goes in the child's environment
 * (`PGPASSWORD`, readable only by the same user on Linux): never on the command line, and never
 * in a file that a SIGKILLed run would leave behind. `-w` is always passed so the tool
 * never prompts. Failures are mapped onto the exit-code table from the tool's stderr.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { PostgresTarget } from '../../config/database-url.js'
import { redact } from '../../config/redact.js'
import { AuthFailedError, DatabaseMissingError, DbUnreachableError, DbopsError, ExitCode, InterruptedError } from '../../errors.js'
import { whereOf } from './postgres-errors.js'

/** Options of {@link pgChildEnv}. */
export interface PgChildEnvOptions {
  /** `application_name` (`PGAPPNAME`). */
  applicationName: string
  /** Seconds for `PGCONNECT_TIMEOUT`. */
  connectTimeoutSeconds: number
}

/**
 * The child's environment: `base` without any `PG*` variable, plus the target's. Messages in
 * English (`LC_MESSAGES=C`) so failures can be recognised.
 *
 * @example pgChildEnv(target, process.env, { applicationName: 'dbops/backup', connectTimeoutSeconds: 10 })
 */
export function pgChildEnv(
  target: PostgresTarget,
  base: Record<string, string | undefined>,
  options: PgChildEnvOptions,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || name.startsWith('PG')) continue
    env[name] = value
  }
  env.PGHOST = target.host
  env.PGPORT = String(target.port)
  env.PGUSER = target.user
  env.PGDATABASE = target.database
  env.PGSSLMODE = target.tls.mode
  if (target.tls.rootCert !== undefined) env.PGSSLROOTCERT = target.tls.rootCert
  if (target.tls.cert !== undefined) env.PGSSLCERT = target.tls.cert
  if (target.tls.key !== undefined) env.PGSSLKEY = target.tls.key
  env.PGAPPNAME = options.applicationName
  env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(options.connectTimeoutSeconds)))
  // the child's environment only; without a password libpq falls back to ~/.pgpass, as pg
  // does for dbops' own connections
  if (target.password !== undefined) env.PGPASSWORD = target.password
  env.LC_MESSAGES = 'C'
  return env
}

/** Options of {@link runPgTool}. */
export interface RunPgToolOptions {
  env: Record<string, string>
  /** The database the tool connects to, for messages; undefined when it connects nowhere. */
  target?: PostgresTarget | undefined
  signal?: AbortSignal | undefined
  /** A file descriptor the tool's stdout goes to (`pg_dump`'s archive); ignored otherwise. */
  stdoutFd?: number | undefined
}

let wrapperLookup: string | null | undefined

/**
 * `setpriv` (util-linux) when it can set a parent-death signal, else null. The tool then runs
 * as `setpriv --pdeathsig TERM -- pg_dump …` and dies with dbops even when dbops is killed
 * with SIGKILL: `pg_dump` writes straight into the file, so no broken pipe would stop it, and
 * an orphan would go on holding its snapshot and filling a file the next run has swept.
 * Elsewhere (macOS) the tool runs directly; SIGINT and SIGTERM still stop it.
 */
export function deathSignalWrapper(): string | null {
  if (wrapperLookup !== undefined) return wrapperLookup
  wrapperLookup = null
  if (process.platform !== 'linux') return wrapperLookup
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, 'setpriv')
    if (!fs.existsSync(candidate)) continue
    // the option's name is in the binary (its --help text): no process started to ask
    try {
      if (fs.readFileSync(candidate).includes('--pdeathsig')) wrapperLookup = candidate
    } catch {
      // unreadable: run the tool directly
    }
    break
  }
  return wrapperLookup
}

/** What a finished tool run printed on stderr (capped). */
export interface PgToolRun {
  stderr: string
}

const STDERR_CAP = 64 * 1024

/**
 * Runs a PostgreSQL client tool; resolves when it exits 0, rejects with the tool's error
 * mapped by {@link mapPgToolError} otherwise. An abort kills it (SIGTERM) and rejects with
 * the abort's reason.
 */
export function runPgTool(file: string, args: string[], options: RunPgToolOptions): Promise<PgToolRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortError(options.signal))
    const wrapper = deathSignalWrapper()
    const [command, argv] = wrapper ? [wrapper, ['--pdeathsig', 'TERM', '--', file, ...args]] : [file, args]
    const child = spawn(command, argv, {
      env: options.env,
      stdio: ['ignore', options.stdoutFd ?? 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_CAP) stderr += chunk.toString()
    })
    const onAbort = () => child.kill('SIGTERM')
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.once('error', (err) => {
      options.signal?.removeEventListener('abort', onAbort)
      reject(
        new DbopsError('PG_TOOL_FAILED', ExitCode.failed, `Could not run ${file}: ${err.message}`, {
          cause: err,
        }),
      )
    })
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort)
      if (options.signal?.aborted) return reject(abortError(options.signal))
      if (code === 0) return resolve({ stderr })
      reject(mapPgToolError(path.basename(file), code, signal, stderr, options.target))
    })
  })
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
}

/** The most telling line of a tool's stderr: the first `error:` / `FATAL:` line, else the last line. */
export function telltaleLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  const line = lines.find((l) => /error:|FATAL:|fatal:/.test(l)) ?? lines.at(-1) ?? ''
  return redact(line.replace(/^(pg_dump|pg_restore): /, ''))
}

/**
 * Maps a tool's failure onto the exit-code table: authentication (7), a missing database (7),
 * an unreachable server (4), no space left (1, saying so), anything else (1, with the tool's line).
 */
export function mapPgToolError(
  tool: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  target: PostgresTarget | undefined,
): DbopsError {
  const line = telltaleLine(stderr)
  const cause = new Error(redact(stderr))
  if (target !== undefined) {
    const mapped = mapConnectionFailure(tool, stderr, line, target, cause)
    if (mapped) return mapped
  }
  if (/No space left on device|could not write to output file/i.test(stderr)) {
    return new DbopsError('BACKUP_NO_SPACE', ExitCode.failed, `${tool}: no space left on device (${line})`, {
      hint: 'Free space in the backup directory (or prune old backups), then retry.',
      cause,
    })
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
  return new DbopsError(`${tool.toUpperCase()}_FAILED`, ExitCode.failed, `${tool} ${how}: ${line || 'no message'}`, {
    hint: 'Run with --verbose for the whole output.',
    cause,
  })
}

function mapConnectionFailure(tool: string, stderr: string, line: string, target: PostgresTarget, cause: Error): DbopsError | undefined {
  const where = whereOf(target)
  if (/password authentication failed|no password supplied|authentication failed|fe_sendauth/i.test(stderr)) {
    return new AuthFailedError(`${tool}: authentication failed for user "${target.user}" at ${where}`, { cause })
  }
  if (/database ".*" does not exist/i.test(stderr)) {
    return new DatabaseMissingError(`${tool}: database "${target.database}" does not exist at ${where}`, { cause })
  }
  if (
    /could not connect|connection refused|timeout expired|could not translate host name|server closed the connection unexpectedly|the database system is (starting up|shutting down)/i.test(
      stderr,
    )
  ) {
    return new DbUnreachableError(`${tool} could not reach ${where}: ${line}`, { cause })
  }
  return undefined
}
