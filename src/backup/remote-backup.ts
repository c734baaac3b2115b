/**
 * Backups on the remote: the same files and manifests as the backup directory, under the
 * remote's prefix. The data file goes up first and the manifest last, so a data object without
 * its manifest is an incomplete upload (listed as such, removed by prune). Downloads go to a
 * temporary name, are checked against the remote manifest's sha256, and only then take the
 * backup's name in the backup directory, where restore and verify work on them as on any
 * local backup.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import path from 'node:path'
import { parseRemoteUrl, type RemoteSettings } from '../config/backup-remote-settings.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, ExitCode, IntegrityError, OperationError, UsageError, errorCodeOf } from '../errors.js'
import { type BackupEntry, backupEntry, prepareBackupDirectory, resolveBackupDirectory } from './backup-directory.js'
import { type BackupOwner } from './backup-identity.js'
import { type BackupManifest, LEVELS, writeManifest } from './backup-manifest.js'
import { manifestNameOf, parseBackupFileName, tempFileName } from './backup-name.js'
import { fsyncDirectory, removeQuietly } from './durable-file.js'
import { type RemoteStore, type StoredCheck, openRemoteStore } from './remote-store.js'
import { AGE_SUFFIX, decryptStream, encryptStream, readIdentities } from './age-crypt.js'

/** What the remote manifest adds: where the copy went and how its bytes were checked. */
export interface RemoteRecord {
  url: string
  uploaded_at: string
  /** `server-sha256`: the server checked the SHA-256 dbops sent; `read-back`: dbops hashed what it stored. */
  stored_check: StoredCheck
}

/** What an encrypted copy's manifest says of the file before encryption (the local backup). */
export interface PlaintextRecord {
  file: string
  size_bytes: number
  sha256: string
}

/**
 * A manifest as stored on the remote. For an encrypted copy, `file`, `size_bytes` and `sha256`
 * are those of the age file stored (so `verify --level hash` needs no identity), `encrypted`
 * and `recipients` say to whom, and `plaintext` describes the backup inside.
 */
export type RemoteManifest = BackupManifest & {
  remote?: RemoteRecord
  encrypted?: boolean
  recipients?: string[]
  plaintext?: PlaintextRecord
}

/**
 * The remote a command uses: `--remote URL` (with the config's endpoint, region and addressing),
 * else `BACKUP_REMOTE_URL` / `backup.remote.url`. Throws (exit 2) when `required` and none is set.
 */
export function remoteSettingsOf(config: ResolvedConfig, flag: string | undefined, required: boolean): RemoteSettings | undefined {
  const configured = config.backup.offsite.remote
  if (flag !== undefined && flag !== 'configured') {
    const parsed = parseRemoteUrl(flag, '--remote')
    return { endpoint: undefined, region: undefined, forcePathStyle: false, ...configured, ...parsed }
  }
  if (configured || (!required && flag === undefined)) return configured
  throw new UsageError('No remote configured', {
    code: 'REMOTE_NOT_CONFIGURED',
    hint: 'Give --remote s3://bucket/prefix, set BACKUP_REMOTE_URL, or backup.remote.url in the config file.',
  })
}

/** Opens the remote of `settings`, runs `work`, closes the client. */
export async function withRemote<T>(settings: RemoteSettings, work: (store: RemoteStore) => Promise<T>): Promise<T> {
  const store = openRemoteStore(settings)
  try {
    return await work(store)
  } finally {
    store.close()
  }
}

/**
 * Uploads a finished local backup: the file (encrypted to `recipients` on the way when there
 * are any, as `<name>.age`), then its manifest with the `remote` record. The local backup is
 * left as it is whatever happens. Exit 6 when the bytes sent are not those the manifest describes.
 */
export async function uploadBackup(
  store: RemoteStore,
  file: string,
  manifest: BackupManifest,
  recipients: readonly string[],
  signal?: AbortSignal,
): Promise<RemoteRecord & { file: string; encrypted: boolean; upload_ms: number; read_back_ms: number }> {
  const name = path.basename(file)
  const encrypted = recipients.length > 0
  const remoteName = encrypted ? `${name}${AGE_SUFFIX}` : name
  const source = fs.createReadStream(file)
  const body = encrypted ? await encryptStream(source, recipients) : source
  const sent = await store.upload(remoteName, body, manifest.size_bytes, signal)
  if (!encrypted && sent.sha256 !== manifest.sha256) {
    throw new IntegrityError('BACKUP_CHANGED', `${name} changed while it was uploaded: its sha256 no longer matches its manifest`, {
      hint: 'Something else writes into the backup directory; run `dbops backup verify` on it.',
    })
  }
  const record: RemoteRecord = { url: store.urlOf(remoteName), uploaded_at: new Date().toISOString(), stored_check: sent.check }
  const stored: RemoteManifest = encrypted
    ? {
        ...manifest,
        file: remoteName,
        size_bytes: sent.size,
        sha256: sent.sha256,
        encrypted: true,
        recipients: [...recipients],
        plaintext: { file: name, size_bytes: manifest.size_bytes, sha256: manifest.sha256 },
        remote: record,
      }
    : { ...manifest, remote: record }
  signal?.throwIfAborted()
  await store.putText(manifestNameOf(remoteName), `${JSON.stringify(stored, null, 2)}\n`, signal)
  return { ...record, file: remoteName, encrypted, upload_ms: sent.upload_ms, read_back_ms: sent.read_back_ms }
}

/** One backup on the remote, as `backup list --remote` shows it. */
export type RemoteEntry = BackupEntry

/**
 * The backups on the remote, newest first: every data object with a backup name, its manifest
 * read (status `incomplete upload` without one), and manifests whose data object is gone.
 */
export async function listRemoteBackups(store: RemoteStore, signal?: AbortSignal, now = new Date()): Promise<RemoteEntry[]> {
  const objects = await store.list(signal)
  const present = new Map(objects.map((o) => [o.name, o]))
  const entries: RemoteEntry[] = []
  for (const object of objects) {
    const isManifest = object.name.endsWith('.json')
    const file = isManifest ? object.name.slice(0, -5) : object.name
    const parsed = parseBackupFileName(file)
    if (!parsed || parsed.extension.endsWith('json')) continue
    if (isManifest && present.has(file)) continue
    const hasManifest = isManifest || present.has(manifestNameOf(file))
    const read = hasManifest ? parseRemoteManifest(await store.getText(manifestNameOf(file), signal), file) : undefined
    const manifest = read && typeof read !== 'string' ? read : null
    const status = isManifest
      ? 'file missing'
      : !hasManifest
        ? 'incomplete upload'
        : typeof read === 'string'
          ? `manifest invalid: ${read}`
          : 'ok'
    entries.push(backupEntry(file, store.urlOf(file), parsed, manifest, isManifest ? null : object.size, now, status))
  }
  return entries.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.file.localeCompare(a.file))
}

function parseRemoteManifest(text: string | undefined, file: string): RemoteManifest | string {
  if (text === undefined) return 'missing'
  try {
    const value = JSON.parse(text) as RemoteManifest
    if (value.file !== file || !/^[0-9a-f]{64}$/.test(String(value.sha256)) || !LEVELS.includes(value.verification?.level)) {
      return 'not a manifest of this file'
    }
    return value
  } catch {
    return 'not JSON'
  }
}

/**
 * The remote backup a command means: a name, an `s3://…` URL's last part, or the newest
 * complete backup of `owner`. Exit 2 for a name not there, 1 for no backup of this database.
 */
export function chooseRemoteBackup(
  entries: RemoteEntry[],
  selector: { name?: string | undefined; owner?: BackupOwner | undefined },
  where: string,
): RemoteEntry {
  if (selector.name !== undefined) {
    const name = path.posix.basename(selector.name.endsWith('.json') ? selector.name.slice(0, -5) : selector.name)
    const found = entries.find((e) => e.file === name)
    if (!found) {
      throw new UsageError(`No backup named ${name} at ${where}`, {
        code: 'BACKUP_NOT_FOUND',
        hint: 'See `dbops backup list --remote` for the backups there.',
      })
    }
    return found
  }
  const owner = selector.owner!
  const newest = entries.find((e) => e.status === 'ok' && owner.owns(e))
  if (!newest) {
    throw new OperationError('BACKUP_NONE', `No complete backup of ${owner.database} at ${where}`, {
      hint: 'Run `dbops backup create --remote …` first (or check the remote URL).',
    })
  }
  return newest
}

/** Options of {@link fetchRemoteBackup}. */
export interface FetchOptions {
  /** Where the backup lands (default: the backup directory). */
  dir?: string | undefined
  /** Check the bytes against the manifest before the file takes its name (default true; an encrypted copy is always checked). */
  check?: boolean
  signal?: AbortSignal | undefined
}

/**
 * Downloads a remote backup and its manifest into the backup directory: streamed to a
 * temporary name, checked (size and sha256, exit 6 on a mismatch), decrypted when it is
 * encrypted (the identity from `BACKUP_AGE_IDENTITY_FILE`, exit 7 without it) and checked
 * again, then renamed to the backup's own name; the manifest written beside it. Disk full:
 * exit 1, the partial file removed. Returns the local path.
 */
export async function fetchRemoteBackup(
  config: ResolvedConfig,
  store: RemoteStore,
  entry: RemoteEntry,
  options: FetchOptions = {},
): Promise<string> {
  if (entry.status !== 'ok' || !entry.manifest) {
    throw new IntegrityError(
      'BACKUP_MANIFEST_MISSING',
      `Backup ${entry.file} at ${store.urlOf('')} failed the manifest check: ${entry.status}`,
      {
        hint: 'An upload without its manifest was never finished; do not trust it. Pick another backup (`dbops backup list --remote`).',
      },
    )
  }
  const manifest = entry.manifest as RemoteManifest
  const plain = manifest.encrypted ? manifest.plaintext : undefined
  if (manifest.encrypted && !plain) {
    throw new IntegrityError('BACKUP_MANIFEST_INVALID', `The manifest of ${entry.file} says it is encrypted but not what it holds`, {
      hint: 'Do not trust this backup. Pick another one.',
    })
  }
  const identities = manifest.encrypted ? readIdentities() : []
  const where = options.dir === undefined ? resolveBackupDirectory(config) : { dir: options.dir, explicit: true }
  prepareBackupDirectory(where)
  const localName = plain?.file ?? entry.file
  const finalPath = path.join(where.dir, localName)
  const temp = path.join(where.dir, tempFileName(entry.file, process.pid, 'download'))
  const decrypted = path.join(where.dir, tempFileName(localName, process.pid, 'decrypted'))
  const corrupt = (what: string) =>
    new IntegrityError(
      'BACKUP_CORRUPT',
      `Backup ${entry.file} at ${store.urlOf('')} failed the sha256 check: ${what} do not match its manifest, so nothing was restored`,
      { hint: 'Do not use this copy. Pick an older backup (`dbops backup list --remote`) and check who can write to the bucket.' },
    )
  try {
    removeQuietly(temp, decrypted)
    const got = await store.download(entry.file, temp, options.signal)
    if ((plain || (options.check ?? true)) && (got.size !== manifest.size_bytes || got.sha256 !== manifest.sha256)) {
      throw corrupt('the stored bytes')
    }
    if (plain) {
      const out = await decryptStream(fs.createReadStream(temp), identities, entry.file)
      const hash = createHash('sha256')
      out.on('data', (chunk: Buffer) => hash.update(chunk))
      await pipeline(out, fs.createWriteStream(decrypted, { flags: 'wx', mode: 0o600 }), { signal: options.signal }).catch(
        (err: unknown) => {
          throw errorCodeOf(err) === 'ENOSPC' || options.signal?.aborted ? err : corrupt('the decrypted bytes')
        },
      )
      removeQuietly(temp)
      if (hash.digest('hex') !== plain.sha256) throw corrupt('the decrypted bytes')
      fs.renameSync(decrypted, finalPath)
    } else {
      fs.renameSync(temp, finalPath)
    }
    const { remote: _remote, encrypted: _e, recipients: _r, plaintext: _p, ...local } = manifest
    writeManifest(finalPath, plain ? { ...local, file: plain.file, size_bytes: plain.size_bytes, sha256: plain.sha256 } : local)
    fsyncDirectory(where.dir)
    return finalPath
  } catch (err) {
    removeQuietly(temp, decrypted)
    if (errorCodeOf(err) === 'ENOSPC') {
      throw new DbopsError('BACKUP_NO_SPACE', ExitCode.failed, `No space left on device in ${where.dir} while downloading ${entry.file}`, {
        hint: 'Free space or give another --dir; the partial download was removed.',
        cause: err,
      })
    }
    throw err
  }
}

/**
 * `verify --level hash` of a remote copy without its identity: the stored bytes' size and
 * sha256 against the remote manifest, streamed through a scratch file that is then removed.
 */
export async function checkRemoteHash(store: RemoteStore, entry: RemoteEntry, scratchDir: string, signal?: AbortSignal): Promise<boolean> {
  const manifest = entry.manifest as RemoteManifest
  const temp = path.join(scratchDir, tempFileName(entry.file, process.pid, 'hash'))
  try {
    const got = await store.download(entry.file, temp, signal)
    return got.size === manifest.size_bytes && got.sha256 === manifest.sha256
  } finally {
    removeQuietly(temp)
  }
}
