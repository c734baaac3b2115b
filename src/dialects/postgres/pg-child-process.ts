/**
 * Running `pg_dump` / `pg_restore` with exactly what they need and nothing else. The child's
 * environment is built from scratch ({@link pgToolEnv}): `PATH`, `HOME` (libpq's `~/.pgpass`
 * and `~/.postgresql/`), `LANG`, `TMPDIR`, `TZ` and, on Windows, `SYSTEMROOT` from dbops' own
 * environment, `LC_MESSAGES=C` so failures can be recognised, and, for a tool that connects,
 * the target dbops resolved: `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, the TLS settings
 * (`PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, with libpq's meaning, as dbops uses
 * them), `PGAPPNAME` and `PGCONNECT_TIMEOUT`.
 * Nothing else of dbops' environment reaches it: not `DATABASE_URL` (which holds the
 * password), not stray `PG*` variables that would redirect it, not `LC_ALL`.
 *
 * The password is never on the command line nor in the environment. On Linux it is in a
 * passfile that has no name: created owner-only in the temporary directory, unlinked at once,
 * written, and handed to the child as file descriptor 3 (`PGPASSFILE=/proc/self/fd/3`); it
 * disappears with the last process that holds it, so a SIGKILLed run leaves nothing behind.
 * Elsewhere it goes in `PGPASSWORD` (the child's environment only). `-w` is always passed so
 * the tool never prompts. Failures are mapped onto the exit-code table from the tool's stderr.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { PostgresTarget } from '../../config/database-url.js'
import { redact } from '../../config/redact.js'
import { AuthFailedError, DatabaseMissingError, DbUnreachableError, DbopsError, ExitCode, InterruptedError } from '../../errors.js'
import { whereOf } from './postgres-errors.js'

/** Variables of dbops' environment a tool may get; everything else stays behind. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ', 'SYSTEMROOT'] as const

/** What a tool that connects needs to know of its target. */
export interface PgToolConnection {
  target: PostgresTarget
  /** `application_name` (`PGAPPNAME`). */
  applicationName: string
  /** Seconds for `PGCONNECT_TIMEOUT`. */
  connectTimeoutSeconds: number
}

/**
 * The child's environment: the few variables of `base` a tool needs, `LC_MESSAGES=C`, and,
 * for a tool that connects, the target's `PG*` settings (never its password: see
 * {@link runPgTool}).
 *
 * @example pgToolEnv(process.env, { target, applicationName: 'dbops/backup create', connectTimeoutSeconds: 10 })
 */
export function pgToolEnv(base: Record<string, string | undefined>, connection?: PgToolConnection): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of PASSED_THROUGH) {
    const value = base[name]
    if (value !== undefined) env[name] = value
  }
  env.LC_MESSAGES = 'C'
  if (connection === undefined) return env
  const { target } = connection
  env.PGHOST = target.host
  env.PGPORT = String(target.port)
  env.PGUSER = target.user
  env.PGDATABASE = target.database
  env.PGSSLMODE = target.tls.mode
  if (target.tls.rootCert !== undefined) env.PGSSLROOTCERT = target.tls.rootCert
  if (target.tls.cert !== undefined) env.PGSSLCERT = target.tls.cert
  if (target.tls.key !== undefined) env.PGSSLKEY = target.tls.key
  env.PGAPPNAME = connection.applicationName
  env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(connection.connectTimeoutSeconds)))
  return env
}

/** The descriptor the passfile has in the child. */
const PASSFILE_FD = 3

/** A passfile line matching every host, port, database and user (libpq escapes `:` and `\`). */
export function passfileLine(password: string): string {
  return `*:*:*:*:${password.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`
}

/**
 * An open descriptor of an owner-only file that holds `password` as a passfile and has no
 * name any more; undefined where that cannot work (not Linux, a password with a line break,
 * no writable temporary directory), and the caller falls back to `PGPASSWORD`.
 */
function namelessPassfile(password: string): number | undefined {
  // /proc/self/fd/N reopens the file itself only on Linux (elsewhere /dev/fd/N shares the offset)
  if (process.platform !== 'linux' || /[\r\n]/.test(password)) return undefined
  const file = path.join(os.tmpdir(), `.dbops-pgpass-${process.pid}-${randomBytes(8).toString('hex')}`)
  let fd: number | undefined
  try {
    fd = fs.openSync(file, 'wx', 0o600)
    fs.unlinkSync(file) // before a byte of the password is written
    fs.writeSync(fd, passfileLine(password))
    return fd
  } catch {
    if (fd !== undefined) fs.closeSync(fd)
    fs.rmSync(file, { force: true })
    return undefined
  }
}

/** Options of {@link runPgTool}. */
export interface RunPgToolOptions {
  /** Where the tool connects; undefined for a tool that connects nowhere (`pg_restore --file`). */
  connection?: PgToolConnection | undefined
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
    const connection = options.connection
    const env = pgToolEnv(process.env, connection)
    const password = connection?.target.password
    const passfile = password === undefined ? undefined : namelessPassfile(password)
    if (passfile !== undefined) env.PGPASSFILE = `/proc/self/fd/${PASSFILE_FD}`
    else if (password !== undefined) env.PGPASSWORD = password
    const wrapper = deathSignalWrapper()
    const [command, argv] = wrapper ? [wrapper, ['--pdeathsig', 'TERM', '--', file, ...args]] : [file, args]
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(command, argv, {
        env,
        stdio: ['ignore', options.stdoutFd ?? 'ignore', 'pipe', ...(passfile === undefined ? [] : [passfile])],
      })
    } finally {
      // the child holds its own copy: the file goes away with it
      if (passfile !== undefined) fs.closeSync(passfile)
    }
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
      reject(mapPgToolError(path.basename(file), code, signal, stderr, connection?.target))
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
