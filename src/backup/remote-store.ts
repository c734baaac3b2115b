/**
 * An S3-compatible bucket and prefix where backups are copied: the AWS SDK's S3Client and
 * lib-storage's Upload, nothing hand-written. Uploads stream from disk in parts (bounded
 * memory: part size × concurrency), ask the server to check each part's SHA-256, and are
 * aborted (no incomplete object, no parts left) on failure or interruption. Credentials come
 * only from the SDK's default chain; errors name the chain's source, never a key.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import type { RemoteSettings } from '../config/backup-remote-settings.js'
import { DbopsError, ExitCode, errorCodeOf } from '../errors.js'
import { nameOf, remoteError, statusOf, storedMismatch } from './remote-errors.js'

/**
 * Part size of uploads: S3's minimum, 5 MiB, so that parts in flight stay small (5 MiB × 4),
 * grown only for files past 9,000 parts (~44 GiB: S3 allows 10,000 parts).
 */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024

/** The part size for a file of about `sizeBytes`. */
export function partSizeFor(sizeBytes: number): number {
  return Math.max(UPLOAD_PART_BYTES, Math.ceil((sizeBytes * 1.01) / 9000))
}
/** Parts in flight at once. */
export const UPLOAD_CONCURRENCY = 4

/** One object under the remote's prefix. */
export interface RemoteObject {
  /** The name under the prefix (`app-3f2a91c0-20250101T030000.000Z.db`). */
  name: string
  size: number
  lastModified: Date | undefined
}

/** How an upload's bytes were shown to be the ones stored. */
export type StoredCheck = 'server-sha256' | 'read-back'

/** What an upload sent, how it was checked, and how long the steps took. */
export interface UploadOutcome {
  check: StoredCheck
  sha256: string
  size: number
  /** Milliseconds of the transfer (encryption included when the body encrypts). */
  upload_ms: number
  /** Milliseconds of reading the object back (0 when the server checked the SHA-256). */
  read_back_ms: number
}

/** An opened remote: the bucket, the prefix and a client. */
export interface RemoteStore {
  settings: RemoteSettings
  /** `s3://bucket/prefix/name`. */
  urlOf(name: string): string
  /** Fails early (exit 7 / 4) when the bucket is missing, the credentials are refused or the endpoint is down. */
  check(signal?: AbortSignal): Promise<void>
  /**
   * Uploads a stream (multipart, bounded memory); resolves to the sha256 and size of the bytes
   * sent and how the stored bytes were shown to be those: the server's SHA-256 check, or a read-back.
   * `sizeBytes` (about the body's size) sets the part size.
   */
  upload(name: string, body: Readable, sizeBytes: number, signal?: AbortSignal): Promise<UploadOutcome>
  putText(name: string, text: string, signal?: AbortSignal): Promise<void>
  /** The object's text, or undefined when there is no such object. */
  getText(name: string, signal?: AbortSignal): Promise<string | undefined>
  /** Streams the object into `file` (created, owner-only); resolves to the sha256 of the bytes written. */
  download(name: string, file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }>
  list(signal?: AbortSignal): Promise<RemoteObject[]>
  remove(names: string[], signal?: AbortSignal): Promise<void>
  close(): void
}

type Sdk = typeof import('@aws-sdk/client-s3') & Pick<typeof import('@aws-sdk/lib-storage'), 'Upload'>
let sdkLoaded: Promise<Sdk> | undefined
/**
 * The SDK, loaded on first use: it is ~1 MB of code that only the commands with a remote run;
 * a static import would put it on the start-up of every command that can reach this module
 * (`migrate up`, `health`, …).
 */
function loadSdk(): Promise<Sdk> {
  // both are CommonJS: their exports object is the namespace's default, under Node and in the bundle
  sdkLoaded ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => {
    const exportsOf = <T extends object>(ns: T): T => (ns as { default?: T }).default ?? ns
    return Object.assign(Object.create(exportsOf(s3)) as Sdk, { Upload: exportsOf(storage).Upload })
  })
  return sdkLoaded
}

/** Opens the remote: a client configured from the settings and the SDK's default chain. */
export async function openRemoteStore(settings: RemoteSettings): Promise<RemoteStore> {
  const sdk = await loadSdk()
  const {
    AbortMultipartUploadCommand,
    DeleteObjectsCommand,
    GetObjectCommand,
    HeadBucketCommand,
    PutObjectCommand,
    S3Client,
    Upload,
    paginateListObjectsV2,
  } = sdk
  // dbops pins an SDK range that supports Node 20 (see docs/offsite-backups.md); its notice
  // about later releases would be noise on stderr of every cron run
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const client = new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: 4,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    // only the checksums dbops asks for: some S3-compatible services refuse the SDK's default CRC32 trailers
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  const key = (name: string) => (settings.prefix ? `${settings.prefix}/${name}` : name)
  const fail = (err: unknown, action: string, signal?: AbortSignal) => remoteError(err, action, settings, client, signal)

  const store: RemoteStore = {
    settings,
    urlOf: (name) => `s3://${settings.bucket}/${key(name)}`,
    async check(signal) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), { abortSignal: signal })
      } catch (err) {
        throw await fail(err, `reach bucket ${settings.bucket}`, signal)
      }
    },
    async upload(name, body, sizeBytes, signal) {
      const started = performance.now()
      const hash = createHash('sha256')
      let size = 0
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk)
          size += chunk.length
          done(null, chunk)
        },
      })
      body.on('error', (err) => tap.destroy(err))
      const upload = new Upload({
        client,
        params: { Bucket: settings.bucket, Key: key(name), Body: body.pipe(tap), ChecksumAlgorithm: 'SHA256' },
        partSize: partSizeFor(sizeBytes),
        queueSize: UPLOAD_CONCURRENCY,
        // dbops aborts the multipart upload itself (below), so that the failure reported is
        // the first one, not an error of the abort (a server without AbortMultipartUpload)
        leavePartsOnError: true,
      })
      const onAbort = () => void upload.abort()
      signal?.addEventListener('abort', onAbort, { once: true })
      let result: { ChecksumSHA256?: string | undefined }
      try {
        result = await upload.done()
      } catch (err) {
        body.destroy()
        // done() rejects at once on abort(); the parts in flight may still be running, so the
        // multipart upload is aborted here, not left to the library's later cleanup
        const uploadId = (upload as unknown as { uploadId?: string }).uploadId
        if (uploadId) {
          await client
            .send(new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: key(name), UploadId: uploadId }))
            .catch(() => undefined)
        }
        throw await fail(err, `upload ${name}`, signal)
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
      const sha256 = hash.digest('hex')
      const whole = result.ChecksumSHA256
      // the server checked the SHA-256 of each part dbops sent; a single part's is the whole object's
      if (whole) {
        if (!whole.includes('-') && Buffer.from(whole, 'base64').toString('hex') !== sha256) {
          throw storedMismatch(store.urlOf(name), 'the server reported another SHA-256')
        }
        return { check: 'server-sha256', sha256, size, upload_ms: Math.round(performance.now() - started), read_back_ms: 0 }
      }
      // the server said nothing about checksums (s3rver, some gateways): read the bytes back
      const uploaded = performance.now()
      const back = await readBack(sdk, client, settings.bucket, key(name), signal).catch(async (err: unknown) => {
        throw await fail(err, `read back ${name}`, signal)
      })
      if (back !== sha256) throw storedMismatch(store.urlOf(name), 'the bytes read back differ from those sent')
      return {
        check: 'read-back',
        sha256,
        size,
        upload_ms: Math.round(uploaded - started),
        read_back_ms: Math.round(performance.now() - uploaded),
      }
    },
    async putText(name, text, signal) {
      try {
        const body = Buffer.from(text)
        await client.send(
          new PutObjectCommand({
            Bucket: settings.bucket,
            Key: key(name),
            Body: body,
            ContentType: 'application/json',
            ChecksumAlgorithm: 'SHA256',
          }),
          { abortSignal: signal },
        )
      } catch (err) {
        throw await fail(err, `upload ${name}`, signal)
      }
    },
    async getText(name, signal) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key(name) }), { abortSignal: signal })
        return await out.Body!.transformToString()
      } catch (err) {
        if (statusOf(err) === 404 && nameOf(err) !== 'NoSuchBucket') return undefined
        throw await fail(err, `read ${name}`, signal)
      }
    },
    async download(name, file, signal) {
      const hash = createHash('sha256')
      let size = 0
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key(name) }), { abortSignal: signal })
        const tap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk)
            size += chunk.length
            done(null, chunk)
          },
        })
        await pipeline(out.Body as Readable, tap, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }), { signal })
      } catch (err) {
        if (errorCodeOf(err) === 'ENOSPC' || errorCodeOf(err) === 'EEXIST' || errorCodeOf(err) === 'EACCES') throw err
        if (statusOf(err) === 404 && nameOf(err) !== 'NoSuchBucket') {
          throw new DbopsError('REMOTE_NOT_FOUND', ExitCode.usage, `No object ${store.urlOf(name)}`, {
            hint: 'See `dbops backup list --remote` for the backups there.',
          })
        }
        throw await fail(err, `download ${name}`, signal)
      }
      return { sha256: hash.digest('hex'), size }
    },
    async list(signal) {
      const objects: RemoteObject[] = []
      const start = settings.prefix ? `${settings.prefix}/` : ''
      try {
        for await (const page of paginateListObjectsV2({ client }, { Bucket: settings.bucket, Prefix: start }, { abortSignal: signal })) {
          for (const o of page.Contents ?? []) {
            const name = o.Key!.slice(start.length)
            if (name === '' || name.includes('/')) continue
            objects.push({ name, size: o.Size ?? 0, lastModified: o.LastModified })
          }
        }
      } catch (err) {
        throw await fail(err, `list ${store.urlOf('')}`, signal)
      }
      return objects
    },
    async remove(names, signal) {
      for (let i = 0; i < names.length; i += 1000) {
        const batch = names.slice(i, i + 1000)
        try {
          await client.send(
            new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: batch.map((n) => ({ Key: key(n) })), Quiet: true } }),
            { abortSignal: signal },
          )
        } catch (err) {
          throw await fail(err, `delete ${batch.join(', ')}`, signal)
        }
      }
    },
    close: () => client.destroy(),
  }
  return store
}

async function readBack(sdk: Sdk, client: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })
  for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
