/**
 * A real S3-compatible server for tests: s3rver on a free loopback port, with a bucket, its
 * data in a temporary directory. Started once per test file (like PostgreSQL is per run).
 * s3rver checks the access key id (S3RVER) but not the signature, and does not check
 * `x-amz-checksum-sha256`; dbops reads uploads back where the server reports no checksum.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver'

/** A running server. */
export interface S3Server {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string
  bucket: string
  /** Where it keeps objects (`<dir>/<bucket>/<key>._S3rver_object`). */
  dir: string
  /** The environment a dbops run needs to reach it (credentials from the standard AWS variables). */
  env(prefix?: string): Record<string, string>
  /** The file holding an object's bytes. */
  objectPath(key: string): string
  close(): Promise<void>
}

/** The access key id and secret s3rver accepts. */
export const S3_KEY_ID = 'S3RVER'
/** s3rver's secret key (it does not check it). */
export const S3_SECRET = 'S3RVER'

/** Starts s3rver with bucket `bucket`. */
export async function startS3Server(bucket = 'backups'): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-s3-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] })
  const { port } = (await server.run()) as { port: number }
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    bucket,
    dir,
    env(prefix = 'app') {
      return {
        BACKUP_REMOTE_URL: `s3://${bucket}/${prefix}`,
        AWS_ENDPOINT_URL_S3: endpoint,
        BACKUP_REMOTE_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: S3_KEY_ID,
        AWS_SECRET_ACCESS_KEY: S3_SECRET,
        AWS_REGION: 'us-east-1',
        // never ask an instance metadata service (no such thing on a test machine)
        AWS_EC2_METADATA_DISABLED: 'true',
      }
    },
    objectPath(key) {
      return path.join(dir, bucket, `${key}._S3rver_object`)
    },
    async close() {
      await server.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
