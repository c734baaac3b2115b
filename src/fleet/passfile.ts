/**
 * A `.pgpass`-style password file for fleets: `hostname:port:database:username:password` per
 * line, `*` matching anything in the first four fields, `\:` and `\\` escapes, `#` comments;
 * the first matching line wins, as in libpq.
 */
import fs from 'node:fs'
import type { PostgresTarget } from '../config/database-url.js'
import { ConfigError, messageOf } from '../errors.js'

/** One line of a passfile. */
export interface PassfileEntry {
  host: string
  port: string
  database: string
  user: string
  password: string
}

/** Reads `file` (exit 2 naming it when it cannot be read). Lines without five fields are skipped. */
export function readPassfile(file: string): PassfileEntry[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`Cannot read the password file ${file}: ${messageOf(err)}`, {
      code: 'PASSFILE_UNREADABLE',
      hint: 'Set fleets.NAME.passfile or DATABASE_PASSFILE to a readable .pgpass-style file.',
      cause: err,
    })
  }
  const entries: PassfileEntry[] = []
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const fields = splitFields(line)
    if (fields.length !== 5) continue
    const [host, port, database, user, password] = fields as [string, string, string, string, string]
    entries.push({ host, port, database, user, password })
  }
  return entries
}

/** The password of the first entry matching `target`, or undefined. */
export function findPassword(entries: readonly PassfileEntry[], target: PostgresTarget): string | undefined {
  const matches = (field: string, value: string) => field === '*' || field === value
  return entries.find(
    (e) =>
      matches(e.host, target.host) &&
      matches(e.port, String(target.port)) &&
      matches(e.database, target.database) &&
      matches(e.user, target.user),
  )?.password
}

function splitFields(line: string): string[] {
  const fields: string[] = []
  let current = ''
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (ch === '\\' && i + 1 < line.length) current += line[++i]
    else if (ch === ':' && fields.length < 4) {
      fields.push(current)
      current = ''
    } else current += ch
  }
  fields.push(current)
  return fields
}
