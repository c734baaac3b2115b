/**
 * The off-site settings of backups: `backup.remote` (an S3-compatible bucket and prefix, its
 * endpoint, region and addressing), `backup.encrypt` (age recipients) and
 * `backup.maxDrillAge`. Credentials are never settings here: the AWS SDK's default chain finds
 * them (environment, profiles, instance roles), so they never pass through dbops' config.
 */
import { ConfigError } from '../errors.js'
import type { Layers } from './config-layers.js'
import type { RawValue } from './values.js'
import { parseBoolean, parseInteger, parseText } from './values.js'

/** Where off-site copies go. */
export interface RemoteSettings {
  /** `s3://bucket/prefix` as given. */
  url: string
  bucket: string
  /** The key prefix, without a trailing slash ('' for the bucket's root). */
  prefix: string
  /** An explicit endpoint; undefined leaves it to `AWS_ENDPOINT_URL_S3` / AWS. */
  endpoint: string | undefined
  region: string | undefined
  forcePathStyle: boolean
}

/** The off-site part of the backup settings. */
export interface OffsiteSettings {
  remote: RemoteSettings | undefined
  /** age recipients (public keys); empty: backups are not encrypted. */
  recipients: string[]
  /** Backups must be encrypted: an unencrypted one is neither uploaded nor restored. */
  encryptionRequired: boolean
  /** Hours after which `health` warns that no restore drill ran. */
  maxDrillAgeHours: number
}

/**
 * Parses `s3://bucket/prefix`. Throws {@link ConfigError} (exit 2) naming `where`.
 *
 * @example parseRemoteUrl('s3://backups/app', '--remote') // { bucket: 'backups', prefix: 'app' }
 */
export function parseRemoteUrl(value: RawValue, where: string): { url: string; bucket: string; prefix: string } {
  const url = parseText(value, where).trim()
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url)
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1]!)) {
    throw new ConfigError(`${where}: "${url}" is not an s3://bucket/prefix URL`, {
      code: 'CONFIG_INVALID',
      hint: 'Example: s3://my-backups/app (a bucket name of 3-63 lower-case letters, digits, dots and dashes, then an optional prefix).',
    })
  }
  return { url, bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') }
}

/** Reads `backup.remote`, `BACKUP_REMOTE_URL`, `backup.encrypt` and `backup.maxDrillAge`. */
export function pickOffsiteSettings(layers: Layers): OffsiteSettings {
  const where = layers.pick<{ url: string; bucket: string; prefix: string } | undefined>('backup.remote.url', {
    env: ['BACKUP_REMOTE_URL'],
    file: 'backup.remote.url',
    def: undefined,
    parse: parseRemoteUrl,
    show: (v) => v?.url ?? '',
  })
  const endpoint = layers.pick<string | undefined>('backup.remote.endpoint', {
    env: ['BACKUP_REMOTE_ENDPOINT'],
    file: 'backup.remote.endpoint',
    def: undefined,
    parse: parseEndpoint,
  })
  const region = layers.pick<string | undefined>('backup.remote.region', {
    file: 'backup.remote.region',
    def: undefined,
    parse: parseText,
  })
  const forcePathStyle = layers.pick('backup.remote.force_path_style', {
    env: ['BACKUP_REMOTE_FORCE_PATH_STYLE'],
    file: 'backup.remote.forcePathStyle',
    def: false,
    parse: parseBoolean,
  })
  const recipients = layers.pick<string[]>('backup.encrypt.recipients', {
    env: ['BACKUP_AGE_RECIPIENTS'],
    file: 'backup.encrypt.recipients',
    def: [],
    parse: parseRecipients,
    show: (list) => list.join(', '),
  })
  const encryptionRequired = layers.pick('backup.encrypt.required', {
    file: 'backup.encrypt.required',
    def: false,
    parse: parseBoolean,
  })
  const maxDrillAgeHours = layers.pick('backup.max_drill_age', {
    env: ['BACKUP_MAX_DRILL_AGE'],
    file: 'backup.maxDrillAge',
    def: 168,
    parse: (v, w) => parseInteger(v, w, 1, 100_000),
  })
  return {
    remote: where && { ...where, endpoint, region, forcePathStyle },
    recipients,
    encryptionRequired,
    maxDrillAgeHours,
  }
}

function parseEndpoint(value: RawValue, where: string): string {
  const text = parseText(value, where).trim()
  let url: URL
  try {
    url = new URL(text)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${where}: "${text}" is not an http(s) endpoint URL`, {
      code: 'CONFIG_INVALID',
      hint: 'Example: https://<account>.r2.cloudflarestorage.com or http://127.0.0.1:9000.',
    })
  }
  if (url.username || url.password) {
    throw new ConfigError(`${where}: the endpoint must not carry credentials`, {
      code: 'CONFIG_INVALID',
      hint: 'Give the keys through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile.',
    })
  }
  return text
}

/** age recipients: a list (config file) or a comma-separated string (environment). */
function parseRecipients(value: RawValue | readonly string[], where: string): string[] {
  const list = Array.isArray(value) ? (value as string[]) : String(value).split(',')
  const keys = list.map((k) => k.trim()).filter((k) => k !== '')
  for (const key of keys) {
    if (key.startsWith('AGE-SECRET-KEY-')) {
      throw new ConfigError(`${where}: an age identity (secret key) was given where a recipient (public key, age1…) belongs`, {
        code: 'CONFIG_INVALID',
        hint: 'Put the public key (`age-keygen -y key.txt` prints it) here; the identity stays on the machines that restore.',
      })
    }
    if (!/^age1[02-9ac-hj-np-z]{20,}$/.test(key)) {
      throw new ConfigError(`${where}: "${key.slice(0, 20)}" is not an age recipient (age1…)`, {
        code: 'CONFIG_INVALID',
        hint: '`age-keygen -y key.txt` prints the recipient of an identity.',
      })
    }
  }
  return keys
}
