/**
 * dbops' own version, recorded in every manifest so a backup says which dbops wrote it.
 */
import fs from 'node:fs'

let cached: string | undefined

/** The `version` of dbops' package.json (read once); `unknown` if it cannot be read. */
export function dbopsVersion(): string {
  if (cached !== undefined) return cached
  try {
    // src/backup and dist/backup both sit two levels below the package root
    const pkg = JSON.parse(
      fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string }
    cached = pkg.version ?? 'unknown'
  } catch {
    cached = 'unknown'
  }
  return cached
}
