/**
 * `lintMigrations`: which migrations `dbops migrate lint` reads (the pending ones, every one,
 * or the files named) and the server version its rules judge by: `--pg-version`, else the live
 * server's, else the newest. Without a reachable database it lints every file and says why.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions, DialectName } from '../dialects/dialect.js'
import { usingDatabase } from '../dialects/index.js'
import { DbopsError, ExitCode, UsageError } from '../errors.js'
import { classifyMigrations } from './classify-migrations.js'
import { type LintResult, lintInputOf, lintMigrationFiles } from './lint-migrations.js'
import { displayPath, readMigrationsDir, readRowsReadOnly } from './migration-runner.js'

/** Options of {@link lintMigrations}. */
export interface LintMigrationsOptions {
  /** Every migration in the directory, applied ones included. */
  all?: boolean
  /** These files (paths as given) instead of the directory's. */
  files?: readonly string[]
  /** The server version to judge by (`--pg-version`), e.g. 110000; wins over the live server's. */
  serverVersionNum?: number | undefined
  /** The migrations' dialect when it is not the target's (`--dialect`): no database is read. */
  dialect?: DialectName | undefined
  /** How to connect to the target (a short deadline suits a lint). */
  connect: ConnectOptions
}

/** A lint of the project's migrations: the result, which files, and what was known of the target. */
export interface ProjectLintResult extends LintResult {
  /** `pending`, `all` or `files`. */
  selection: 'pending' | 'all' | 'files'
  /** The version number the rules judged by, or undefined for the newest. */
  serverVersionNum: number | undefined
  /** Set when no database was read: why, in one line. */
  offline: string | undefined
  dialect: DialectName
}

/**
 * A server version string as a number: `15.18` → 150018, `9.6.3` → 90603, `11` → 110000.
 * Undefined for text that is not a version.
 */
export function serverVersionNumber(version: string): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim())
  if (!match) return undefined
  const [major, minor, patch] = [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)]
  if (major >= 10000) return major // already a number such as 150004
  return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100 + patch
}

/** Whether `err` says the database cannot be read right now (unreachable, refused login, missing). */
function isOffline(err: unknown): err is DbopsError {
  return err instanceof DbopsError && (err.exitCode === ExitCode.unreachable || err.exitCode === ExitCode.access)
}

/**
 * Lints the migrations of `config` as `options` says (see {@link LintMigrationsOptions}).
 * Throws what {@link lintMigrationFiles} throws, and a usage error for a named file that does
 * not exist.
 */
export async function lintMigrations(config: ResolvedConfig, options: LintMigrationsOptions): Promise<ProjectLintResult> {
  const dialect = options.dialect ?? config.target.dialect
  const readsTarget = dialect === config.target.dialect
  let offline: string | undefined = readsTarget ? undefined : `--dialect ${dialect} differs from the target's: linting from the files alone`
  let serverVersionNum = options.serverVersionNum
  if (readsTarget && (serverVersionNum === undefined || !options.files)) {
    try {
      const version = await usingDatabase(config, options.connect, async (conn) => conn.serverVersion)
      serverVersionNum ??= serverVersionNumber(version)
    } catch (err) {
      if (!isOffline(err)) throw err
      offline = `cannot read the database (${err.message}): linting from the files alone${options.files || options.all ? '' : ', every migration'}`
    }
  }

  const selection = options.files ? 'files' : options.all || offline ? 'all' : 'pending'
  const files = options.files ? readNamedFiles(config, options.files) : await selectFiles(config, options, selection === 'all')
  const result = await lintMigrationFiles(files, { dialect, serverVersionNum, config: config.lint })
  return { ...result, selection, serverVersionNum, offline, dialect }
}

function readNamedFiles(config: ResolvedConfig, names: readonly string[]): Array<{ file: string; text: string }> {
  return names.map((name) => {
    const full = path.resolve(config.cwd, name)
    if (!fs.existsSync(full) || !fs.statSync(full).isFile())
      throw new UsageError(`${name}: no such migration file`, {
        hint: 'Name .sql migration files, or run `dbops migrate lint` for the pending ones.',
      })
    return { file: displayPath(config, full), text: fs.readFileSync(full, 'utf8') }
  })
}

async function selectFiles(config: ResolvedConfig, options: LintMigrationsOptions, all: boolean) {
  const discovered = readMigrationsDir(config)
  let files = discovered.files
  if (!all) {
    const state = await readRowsReadOnly(config, { connect: options.connect }, 'migrate lint')
    const pending = new Set(
      classifyMigrations(discovered.files, state.rows, state.runner)
        .migrations.filter((m) => m.state === 'pending')
        .map((m) => m.version),
    )
    files = files.filter((f) => pending.has(f.version))
  }
  return files.map((f) => lintInputOf(f, displayPath(config, f.path)))
}
