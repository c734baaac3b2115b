/**
 * Reading `.env` from the working directory. It describes the default database, like the
 * environment, but the environment wins key by key. Parsed with Node's own `.env` parser
 * (`util.parseEnv`, the one behind `node --env-file`).
 */
import fs from 'node:fs'
import path from 'node:path'
import util from 'node:util'
import { ConfigError, messageOf } from '../errors.js'

/** Reads `cwd/.env` into a plain object; an absent file is an empty object. */
export function readDotenv(cwd: string): Record<string, string> {
  const file = path.join(cwd, '.env')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError(`Could not read .env: ${messageOf(err)}`, { code: 'CONFIG_DOTENV', cause: err })
  }
  return util.parseEnv(text) as Record<string, string>
}
