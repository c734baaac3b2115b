/**
 * Finding `pg_dump` and `pg_restore`: the one named by `PG_DUMP` / `PG_RESTORE`, else every
 * copy on `PATH` and in the standard installation directories (Debian/Ubuntu
 * `/usr/lib/postgresql/<v>/bin`, RHEL `/usr/pgsql-<v>/bin`, Homebrew
 * `/opt/homebrew/opt/postgresql@<v>/bin` and `/usr/local/opt/postgresql@<v>/bin`), each asked
 * for its `--version`. The pick must have a major version at least the server's (`pg_dump`
 * refuses newer servers); among those, the server's own major is preferred, else the newest.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { DbopsError, ExitCode } from '../../errors.js'
import { compareNatural } from '../../compare-text.js'

/** The client tools dbops runs. */
export type PgToolName = 'pg_dump' | 'pg_restore'

/** One copy of a tool that was found, with its version when it answered. */
export interface PgToolCandidate {
  path: string
  /** Where it was found: `PG_DUMP`, `PATH`, `/usr/lib/postgresql/*`, … */
  origin: string
  /** `15.18`, or undefined when `--version` failed. */
  version: string | undefined
  major: number | undefined
}

/** The chosen tool. */
export interface PgTool {
  path: string
  version: string
  major: number
  /** Everything that was found, for `--verbose`. */
  candidates: PgToolCandidate[]
}

/** Options of {@link findPgTool}. */
export interface FindPgToolOptions {
  /** The server's major version (or the archive's): the tool's must be at least this. */
  minMajor: number | undefined
  /** The environment to read `PATH` and `PG_DUMP` / `PG_RESTORE` from (default `process.env`). */
  env?: Record<string, string | undefined>
  /** Directories to look in first (beside an explicitly chosen `pg_dump`). */
  preferDirs?: string[]
  /** Glob-like roots of the standard installations; tests replace them. */
  standardDirs?: string[]
}

/** The standard installation directories, `*` standing for a version. */
export const STANDARD_PG_DIRS = [
  '/usr/lib/postgresql/*/bin',
  '/usr/pgsql-*/bin',
  '/opt/homebrew/opt/postgresql@*/bin',
  '/usr/local/opt/postgresql@*/bin',
  '/opt/homebrew/bin',
  '/usr/local/bin',
]

/** The variable that names a tool explicitly. */
export function toolVariable(tool: PgToolName): string {
  return tool === 'pg_dump' ? 'PG_DUMP' : 'PG_RESTORE'
}

/** The major version of `15.18` (15), `9.6.24` (9.6 counts as 9), `17beta1` (17). */
export function majorOf(version: string): number | undefined {
  const m = /^(\d+)/.exec(version)
  return m ? Number(m[1]) : undefined
}

/** Parses `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `15.18`. */
export function parseToolVersion(output: string): string | undefined {
  return /\(PostgreSQL\)\s+(\d+(?:\.\d+)*(?:\w+)?)/.exec(output)?.[1] ?? /\b(\d+\.\d+(?:\.\d+)?)\b/.exec(output)?.[1]
}

function expandDir(pattern: string): string[] {
  const star = pattern.indexOf('*')
  if (star < 0) return [pattern]
  const parent = path.dirname(pattern.slice(0, star + 1))
  const entryPattern = pattern.slice(parent.length + 1).split('/')[0]!
  const rest = pattern.slice(parent.length + 1 + entryPattern.length)
  const [before, after] = entryPattern.split('*') as [string, string]
  let entries: string[]
  try {
    entries = fs.readdirSync(parent)
  } catch {
    return []
  }
  return entries
    .filter((e) => e.startsWith(before) && e.endsWith(after) && e.length >= before.length + after.length)
    .sort((a, b) => compareNatural(b, a))
    .map((e) => path.join(parent, e) + rest)
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file)
  } catch {
    return path.resolve(file)
  }
}

function askVersion(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 10_000, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } }, (err, stdout) => {
      resolve(err ? undefined : parseToolVersion(String(stdout)))
    })
  })
}

/**
 * Lists every copy of `tool` found, in search order, once per real path; Debian's pg_wrapper
 * only when no real binary was found.
 */
export async function listPgToolCandidates(tool: PgToolName, options: FindPgToolOptions): Promise<PgToolCandidate[]> {
  const env = options.env ?? process.env
  const places: Array<{ file: string; origin: string }> = []
  for (const dir of options.preferDirs ?? []) places.push({ file: path.join(dir, tool), origin: dir })
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''))
    places.push({ file: path.join(dir, tool), origin: 'PATH' })
  for (const pattern of options.standardDirs ?? STANDARD_PG_DIRS) {
    for (const dir of expandDir(pattern)) places.push({ file: path.join(dir, tool), origin: pattern })
  }
  const seen = new Set<string>()
  const found = places.flatMap((place) => {
    if (!isExecutableFile(place.file)) return []
    const real = realPath(place.file)
    if (seen.has(real)) return [] // /bin and /usr/bin are often one directory
    seen.add(real)
    return [{ ...place, wrapper: path.basename(real) === 'pg_wrapper' }]
  })
  // Debian's /usr/bin/pg_dump is pg_wrapper, a perl script that runs one of the real
  // binaries in /usr/lib/postgresql/N/bin: ~150 ms of perl start-up on each call, to pick a
  // version that dbops picks itself from the same binaries. Ask it only when it is all there is.
  const unique = found.some((f) => !f.wrapper) ? found.filter((f) => !f.wrapper) : found
  // asked all at once: each answer is a process start
  return Promise.all(
    unique.map(async (place) => {
      const version = await askVersion(place.file)
      return {
        path: place.file,
        origin: place.origin,
        version,
        major: version === undefined ? undefined : majorOf(version),
      }
    }),
  )
}

function installHint(tool: PgToolName, minMajor: number | undefined): string {
  const v = minMajor ?? 'N'
  return (
    `Install the PostgreSQL ${v} client tools or newer (Debian/Ubuntu: apt install postgresql-client-${v}; ` +
    `RHEL: dnf install postgresql${v}; macOS: brew install postgresql@${v}), or set ${toolVariable(tool)} to a ${tool} ${v}+.`
  )
}

function describeCandidates(candidates: PgToolCandidate[]): string {
  return candidates.map((c) => `${c.version ?? 'unknown version'} (${c.path})`).join(', ')
}

/**
 * Finds `tool` whose major version is at least `minMajor`. `PG_DUMP` / `PG_RESTORE`, when set,
 * is the only candidate. Throws `PG_TOOL_NOT_FOUND` (none anywhere) or `PG_TOOL_TOO_OLD` (the
 * message lists every version found and the hint what to install); both exit 1.
 *
 * @example const dump = await findPgTool('pg_dump', { minMajor: 15 }) // { path: '/usr/lib/postgresql/15/bin/pg_dump', … }
 */
export async function findPgTool(tool: PgToolName, options: FindPgToolOptions): Promise<PgTool> {
  const env = options.env ?? process.env
  const variable = toolVariable(tool)
  const explicit = env[variable]
  let candidates: PgToolCandidate[]
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutableFile(explicit)) {
      throw new DbopsError('PG_TOOL_NOT_FOUND', ExitCode.failed, `${variable}=${explicit}: no executable ${tool} there`, {
        hint: `Point ${variable} at the ${tool} binary, or unset it to search PATH and the standard directories.`,
      })
    }
    const version = await askVersion(explicit)
    candidates = [
      {
        path: explicit,
        origin: variable,
        version,
        major: version === undefined ? undefined : majorOf(version),
      },
    ]
  } else {
    candidates = await listPgToolCandidates(tool, options)
  }
  const working = candidates.filter((c): c is PgToolCandidate & { version: string; major: number } => c.major !== undefined)
  if (working.length === 0) {
    const where = explicit
      ? `${variable}=${explicit} did not answer --version`
      : `${tool} was not found on PATH or in ${STANDARD_PG_DIRS.join(', ')}`
    throw new DbopsError('PG_TOOL_NOT_FOUND', ExitCode.failed, `${where}`, {
      hint: installHint(tool, options.minMajor),
    })
  }
  const min = options.minMajor
  const fitting = working.filter((c) => min === undefined || c.major >= min)
  if (fitting.length === 0) {
    throw new DbopsError(
      'PG_TOOL_TOO_OLD',
      ExitCode.failed,
      `No ${tool} fits the server (PostgreSQL ${min}): found ${describeCandidates(working)}; ${tool} must be version ${min} or newer`,
      { hint: installHint(tool, min) },
    )
  }
  const exact = fitting.find((c) => c.major === min)
  const chosen = exact ?? [...fitting].sort((a, b) => b.major - a.major)[0]!
  return { path: chosen.path, version: chosen.version, major: chosen.major, candidates }
}
