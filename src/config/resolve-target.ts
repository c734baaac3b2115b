/**
 * Which database a command talks to: the target chosen from the flags, the environment, `.env`
 * and the config file (first rule that applies wins), with its PostgreSQL TLS settings, and
 * the rule that chose it in words for `config show`.
 */
import os from 'node:os'
import path from 'node:path'
import { ConfigError } from '../errors.js'
import type { DbopsConfigFile, DatabaseFileSettings, LoadedConfigFile } from './config-file.js'
import { type DatabaseTarget, type TlsSettings, formatHostPort, parseDatabaseUrl, parseSslMode } from './database-url.js'
import type { Layers, SettingSource } from './config-layers.js'
import { registerSecret } from './redact.js'
import { parseInteger, parseText } from './values.js'

/** The common flags of every command that choose the database. */
export interface TargetFlags {
  url?: string | undefined
  db?: string | undefined
  config?: string | undefined
}

/** The default target: a SQLite file at `./data/app.db`. */
export const DEFAULT_SQLITE_PATH = 'data/app.db'

/** What the target is chosen from. */
export interface TargetSources {
  cwd: string
  flags: TargetFlags
  layers: Layers
  /** `default`, or the `--db` name. */
  databaseName: string
  /** The config file's entry for `--db NAME`. */
  entry: DatabaseFileSettings | undefined
  fileConfig: DbopsConfigFile
  file: LoadedConfigFile | undefined
}

/**
 * Chooses the target (see {@link chooseTarget} for the order), resolves a PostgreSQL
 * target's TLS settings and registers its password for redaction, and records the target
 * and its rule in `sources.layers` for `config show`.
 */
export function resolveTarget(sources: TargetSources): { target: DatabaseTarget; rule: string } {
  const { target, rule } = chooseTarget(sources)
  if (target.dialect === 'postgres') {
    target.tls = resolveTls(target.tls, sources.layers, ruleSource(rule))
    registerSecret(target.password, [target.user, target.database, target.host])
  }
  sources.layers.record('target', describeTargetForSettings(target), ...ruleSource(rule))
  return { target, rule }
}

function ruleSource(rule: string): [SettingSource, string] {
  if (rule.startsWith('--url')) return ['flag', '--url']
  if (rule.includes('(.env)')) return ['dotenv', rule]
  if (rule.includes('environment')) return ['env', rule]
  if (rule.startsWith('default')) return ['default', rule]
  return ['config', rule]
}

function describeTargetForSettings(target: DatabaseTarget): string {
  if (target.dialect === 'sqlite') return `sqlite ${target.path}`
  return `postgres ${target.user}@${formatHostPort(target.host, target.port)}/${target.database}`
}

/**
 * Chooses the target. Order: `--url`; with `--db NAME`, `DATABASE_URL_<NAME>` then the
 * entry's `url`; without it, `DATABASE_URL`, then `DATABASE_HOST`…, then `DATABASE_PATH`,
 * then the config file's top-level `url`, then SQLite at `./data/app.db`.
 */
function chooseTarget({ cwd, flags, layers, databaseName, entry, fileConfig, file }: TargetSources): {
  target: DatabaseTarget
  rule: string
} {
  const defaultUser = safeUserName()
  const fromUrl = (url: string, key: string, rule: string) => {
    const target = parseDatabaseUrl(url, { key, cwd, defaultUser })
    return { target: fillPassword(target, layers), rule }
  }
  if (flags.url !== undefined) return fromUrl(flags.url, '--url', '--url flag')

  if (entry) {
    const envName = `DATABASE_URL_${databaseName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
    const override = layers.variable([envName])
    if (override)
      return fromUrl(
        String(override.value),
        override.origin,
        `--db ${databaseName}: ${override.origin} from the ${sourceWord(override.source)}`,
      )
    if (entry.url !== undefined) {
      const key = `${file!.label}: databases.${databaseName}.url`
      return fromUrl(entry.url, key, `--db ${databaseName}: databases.${databaseName}.url in ${file!.label}`)
    }
    throw new ConfigError(`${file!.label}: databases.${databaseName} has no url, and ${envName} is not set`, {
      code: 'CONFIG_INVALID',
      hint: `Set ${envName}, or add url to databases.${databaseName}.`,
    })
  }

  const url = layers.variable(['DATABASE_URL'])
  if (url) return fromUrl(String(url.value), url.origin, `DATABASE_URL from the ${sourceWord(url.source)}`)

  const host = layers.variable(['DATABASE_HOST'])
  if (host) {
    const port = layers.variable(['DATABASE_PORT'])
    const target: DatabaseTarget = {
      dialect: 'postgres',
      // an IPv6 literal, as written in a URL: [::1] is ::1 to a socket and to libpq
      host: String(host.value).replace(/^\[(.*)\]$/, '$1'),
      port: port ? parseInteger(port.value, port.origin, 1, 65535) : 5432,
      user: String(layers.variable(['DATABASE_USER'])?.value ?? defaultUser),
      database: '',
      password: layers.variable(['DATABASE_PASSWORD'])?.value as string | undefined,
      tls: { mode: 'prefer' },
    }
    target.database = String(layers.variable(['DATABASE_NAME'])?.value ?? target.user)
    return { target, rule: `DATABASE_HOST and friends from the ${sourceWord(host.source)}` }
  }
  const parts = ['DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD'].filter((name) => layers.variable([name]))
  if (parts.length > 0 && !layers.variable(['DATABASE_PATH'])) {
    throw new ConfigError(`${parts.join(', ')} ${parts.length === 1 ? 'is' : 'are'} set but DATABASE_HOST is not`, {
      code: 'CONFIG_INVALID',
      hint: 'Set DATABASE_HOST (with DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD), or DATABASE_URL.',
    })
  }
  const sqlitePath = layers.variable(['DATABASE_PATH'])
  if (sqlitePath) {
    const p = parseText(sqlitePath.value, sqlitePath.origin)
    return {
      target: { dialect: 'sqlite', path: p === ':memory:' ? p : path.resolve(cwd, p) },
      rule: `DATABASE_PATH from the ${sourceWord(sqlitePath.source)}`,
    }
  }
  if (fileConfig.url !== undefined) return fromUrl(fileConfig.url, `${file!.label}: url`, `url in ${file!.label}`)
  return {
    target: { dialect: 'sqlite', path: path.resolve(cwd, DEFAULT_SQLITE_PATH) },
    rule: `default: SQLite at ./${DEFAULT_SQLITE_PATH}`,
  }
}

/** `DATABASE_PASSWORD` fills in the password of a URL that has none (secrets kept apart). */
function fillPassword(target: DatabaseTarget, layers: Layers): DatabaseTarget {
  if (target.dialect === 'postgres' && target.password === undefined) {
    const password = layers.variable(['DATABASE_PASSWORD'])
    if (password) target.password = String(password.value)
  }
  return target
}

function sourceWord(source: SettingSource): string {
  return source === 'dotenv' ? 'environment (.env)' : 'environment'
}

/** TLS: the URL's own parameters win (as in libpq), then DATABASE_SSL*, then the config file. */
function resolveTls(fromUrl: TlsSettings, layers: Layers, urlSource: [SettingSource, string]): TlsSettings {
  const tls: TlsSettings = { ...fromUrl }
  const urlHasMode = fromUrl.mode !== 'prefer'
  const mode = layers.variable(['DATABASE_SSLMODE']) ?? layers.fileValue('tls.sslmode')
  if (!urlHasMode && mode) tls.mode = parseSslMode(String(mode.value), mode.origin) ?? 'prefer'
  const files: Array<['rootCert' | 'cert' | 'key', string, string]> = [
    ['rootCert', 'DATABASE_SSLROOTCERT', 'tls.sslrootcert'],
    ['cert', 'DATABASE_SSLCERT', 'tls.sslcert'],
    ['key', 'DATABASE_SSLKEY', 'tls.sslkey'],
  ]
  for (const [field, envName, fileKey] of files) {
    if (tls[field] !== undefined) continue
    const found = layers.variable([envName]) ?? layers.fileValue(fileKey)
    if (found) tls[field] = String(found.value)
  }
  if (urlHasMode) layers.record('tls.sslmode', tls.mode, urlSource[0], `sslmode in ${urlSource[1]}`)
  else layers.record('tls.sslmode', tls.mode, mode?.source ?? 'default', mode?.origin ?? 'default (libpq: prefer)')
  return tls
}

function safeUserName(): string {
  try {
    return os.userInfo().username
  } catch {
    return 'postgres'
  }
}
