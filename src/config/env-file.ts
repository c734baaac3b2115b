/**
 * Reading `.env` from the working directory. It describes the default database, like the
 * environment, but the environment wins key by key. Parsed with Node's own `.env` parser
 * (`util.parseEnv`, the one behind `node --env-file`), after a check of every line: that
 * parser skips a line without `=` (and may swallow the next line into a name), so a typo
 * would silently drop `DATABASE_URL` and dbops would fall back to its default database.
 */
import fs from 'node:fs'
import path from 'node:path'
import util from 'node:util'
import { ConfigError, messageOf } from '../errors.js'

/** A `.env` file read and checked. */
export interface Dotenv {
  /** The file's absolute path. */
  file: string
  values: Record<string, string>
  /** The line each name is set on (1-based), for messages. */
  lineOf: Record<string, number>
}

/** `NAME=`, optionally after `export `; what follows `=` is the value. */
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.?)/

/**
 * Reads `cwd/.env`; an absent file has no values. Throws a ConfigError naming the file and
 * the line of the first line that is neither `NAME=value`, a `#` comment nor blank (the line
 * itself is not quoted: it may hold a secret).
 */
export function loadDotenv(cwd: string): Dotenv {
  const file = path.join(cwd, '.env')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, values: {}, lineOf: {} }
    throw new ConfigError(`Could not read .env: ${messageOf(err)}`, { code: 'CONFIG_DOTENV', cause: err })
  }
  return { file, values: util.parseEnv(text) as Record<string, string>, lineOf: checkLines(text, file) }
}

/** Reads `cwd/.env` into a plain object (see {@link loadDotenv}). */
export function readDotenv(cwd: string): Record<string, string> {
  return loadDotenv(cwd).values
}

/** Checks each line as Node's parser reads it; returns the line of each name. */
function checkLines(text: string, file: string): Record<string, number> {
  const lines = text.split(/\r?\n/)
  const lineOf: Record<string, number> = {}
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const match = ASSIGNMENT.exec(line)
    if (!match) {
      throw new ConfigError(`${file}:${index + 1}: expected NAME=value`, {
        code: 'CONFIG_DOTENV',
        hint: 'Write NAME=value, or comment the line out with #. Quote a value that spans lines.',
      })
    }
    lineOf[match[1]!] = index + 1
    // a quoted value that closes on a later line spans the lines in between (as in Node's parser)
    const quote = match[2]!
    if (quote === '"' || quote === "'" || quote === '`') {
      const rest = line.slice(match[0].length)
      if (!rest.includes(quote)) {
        const closing = lines.findIndex((later, at) => at > index && later.includes(quote))
        if (closing > index) index = closing
      }
    }
  }
  return lineOf
}
