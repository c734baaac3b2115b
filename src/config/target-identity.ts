/**
 * What a many-target command (fleets) needs to know of a target without asking its dialect:
 * which server it lives on, what makes two targets the same, how to name it without a
 * password, and how to give it a password from elsewhere. Kept with the URL parsing, the one
 * other place that knows the shapes of {@link DatabaseTarget}.
 */
import path from 'node:path'
import { registerSecret } from './redact.js'
import { type DatabaseTarget, type PostgresTarget, formatHostPort, formatTargetUrl } from './database-url.js'

/** `host:port` of a server target; undefined for a file (SQLite has no server and no connection limit). */
export function targetServer(target: DatabaseTarget): string | undefined {
  return target.dialect === 'postgres' ? formatHostPort(target.host.toLowerCase(), target.port) : undefined
}

/**
 * A key equal for two targets that are the same database (and schema), however their URLs
 * are spelled: host case, query parameters, password and user do not count.
 */
export function targetIdentity(target: DatabaseTarget, schema: string): string {
  return target.dialect === 'sqlite' ? `file:${target.path}` : `${targetServer(target)}/${target.database}/${schema}`
}

/**
 * How results name a target, never with a password: `host:port/database`, with `/schema`
 * for a schema target; a file relative to `cwd` when inside it.
 */
export function targetLabel(target: DatabaseTarget, schema: string | undefined, cwd: string): string {
  if (target.dialect === 'sqlite') {
    const relative = path.relative(cwd, target.path)
    return relative.startsWith('..') ? target.path : relative
  }
  return `${formatHostPort(target.host, target.port)}/${target.database}${schema === undefined ? '' : `/${schema}`}`
}

/** The URL of `target` without its password (for resolving the settings a URL of its kind gets). */
export function passwordlessUrl(target: DatabaseTarget): string {
  return formatTargetUrl(target.dialect === 'postgres' ? { ...target, password: undefined } : target)
}

/**
 * `target` with a password when it takes one and has none (`lookUp(target)`'s answer), the
 * password registered for redaction.
 */
export function withPassword(target: DatabaseTarget, lookUp: (target: PostgresTarget) => string | undefined): DatabaseTarget {
  if (target.dialect !== 'postgres') return target
  const password = target.password ?? lookUp(target)
  registerSecret(password, [target.user, target.database, target.host])
  return { ...target, password }
}
