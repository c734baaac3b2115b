/**
 * The latest migration in the migrations directory, so `backup restore` can warn when the
 * backup's migration head differs from what the code expects.
 */
import fs from 'node:fs'

/** `<version>_<name>.<sql|ts|js>`; the version is a sortable timestamp (digits). */
const MIGRATION_FILE = /^(\d+)_[^/]+\.(sql|ts|js)$/

/**
 * The highest version among `dir`'s migration files, or undefined when the directory is
 * missing or holds none. Versions compare as strings of digits (length first), so
 * `20250101120000` > `9`.
 */
export function latestMigrationVersion(dir: string): string | undefined {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return undefined
  }
  let latest: string | undefined
  for (const name of names) {
    const version = MIGRATION_FILE.exec(name)?.[1]
    if (version === undefined) continue
    if (latest === undefined || compareVersions(version, latest) > 0) latest = version
  }
  return latest
}

/** Orders digit strings numerically without losing precision. */
export function compareVersions(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '')
  const y = b.replace(/^0+(?=\d)/, '')
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0)
}
