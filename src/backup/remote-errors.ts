/**
 * What a failed S3 request means to dbops: the SDK's and the network's errors mapped to the exit
 * codes (7 refused or missing bucket, naming the credential source; 4 unreachable), never with a key.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { RemoteSettings } from '../config/backup-remote-settings.js'
import { DbopsError, ExitCode, errorCodeOf } from '../errors.js'

export function storedMismatch(url: string, what: string): DbopsError {
  return new DbopsError('REMOTE_CHECKSUM_MISMATCH', ExitCode.integrity, `The upload to ${url} did not store the file's bytes: ${what}`, {
    hint: 'Check the endpoint (a proxy that rewrites bodies?) and run `backup create --remote` again.',
  })
}

export function nameOf(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as Error).name : ''
}

export function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
}

const ACCESS_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'Forbidden',
  'InvalidClientTokenId',
])
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
])

/** Words for the SDK's record of where its credentials came from (`$source`). */
const CREDENTIAL_SOURCES: Array<[RegExp, string]> = [
  [/ENV_VARS/, 'the environment (AWS_ACCESS_KEY_ID)'],
  [/PROFILE|SSO|PROCESS/, 'profile'],
  [/STS_WEB_ID|WEB_ID/, 'web identity (AWS_WEB_IDENTITY_TOKEN_FILE)'],
  [/IMDS/, 'the instance role (instance metadata)'],
  [/HTTP/, 'the container credentials endpoint'],
]

/** Which source of the SDK's default chain gave the credentials, in words (never the keys). */
async function credentialSource(client: S3Client): Promise<string> {
  try {
    const creds = (await client.config.credentials()) as { $source?: Record<string, unknown> }
    const keys = Object.keys(creds.$source ?? {}).join(' ')
    for (const [pattern, words] of CREDENTIAL_SOURCES) {
      if (pattern.test(keys)) return words === 'profile' ? `profile "${process.env.AWS_PROFILE ?? 'default'}"` : words
    }
    return "the AWS SDK's default credential chain"
  } catch {
    return 'none found'
  }
}

/** Maps an SDK or network error to dbops' exit codes; the secret key is never part of the message. */
export async function remoteError(
  err: unknown,
  action: string,
  settings: RemoteSettings,
  client: S3Client,
  signal?: AbortSignal,
): Promise<unknown> {
  if (signal?.aborted) return signal.reason ?? err
  if (err instanceof DbopsError) return err
  const name = nameOf(err)
  const status = statusOf(err)
  const where = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`
  if (name === 'CredentialsProviderError') {
    return new DbopsError('REMOTE_NO_CREDENTIALS', ExitCode.access, `No AWS credentials found to ${action} at ${where}`, {
      hint: 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run where an instance role applies).',
      cause: err,
    })
  }
  if (ACCESS_ERRORS.has(name) || status === 403 || status === 401) {
    const source = await credentialSource(client)
    return new DbopsError(
      'REMOTE_ACCESS_DENIED',
      ExitCode.access,
      `The remote ${where} refused the credentials from ${source} to ${action} (${name || `HTTP ${status}`})`,
      {
        hint: 'Check the access key, its secret and its permissions on the bucket (and the endpoint: keys of one service do not work on another).',
        cause: err,
      },
    )
  }
  if (
    name === 'NoSuchBucket' ||
    (status === 404 && action.startsWith('reach bucket')) ||
    (status === 404 && name === 'NotFound' && !action.startsWith('read'))
  ) {
    return new DbopsError(
      'REMOTE_BUCKET_MISSING',
      ExitCode.access,
      `Bucket ${settings.bucket} does not exist at ${settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? 'AWS S3'}`,
      {
        hint: 'Create the bucket, or check backup.remote.url and the endpoint.',
        cause: err,
      },
    )
  }
  const code = errorCodeOf(err) ?? ''
  if (
    NETWORK_CODES.has(code) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    name === 'AbortError' ||
    /socket hang up|ECONNRESET|premature close|aborted/i.test(err instanceof Error ? err.message : '') ||
    (status !== undefined && status >= 500)
  ) {
    return new DbopsError(
      'REMOTE_UNREACHABLE',
      ExitCode.unreachable,
      `Could not ${action} at ${where}: ${code || name || `HTTP ${status}`} (after retries)`,
      {
        hint: `Is the endpoint ${settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? '(AWS S3)'} reachable? Retry later.`,
        cause: err,
      },
    )
  }
  return new DbopsError('REMOTE_FAILED', ExitCode.failed, `Could not ${action} at ${where}: ${name || code || 'error'}`, {
    hint: 'Run with --verbose for the server response.',
    cause: err,
  })
}
