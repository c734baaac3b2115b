/**
 * age encryption of backups (the `age-encryption` package, the format `age -d` reads):
 * streaming both ways, in the format's 64 KiB chunks, so memory stays flat whatever the
 * backup's size. Recipients (public keys) encrypt; the identity (secret key) is read only
 * from the file `BACKUP_AGE_IDENTITY_FILE` names, and never printed.
 */
import fs from 'node:fs'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { DbopsError, ExitCode, errorCodeOf } from '../errors.js'

/** The suffix of an encrypted backup's name on the remote (`app-….db.age`). */
export const AGE_SUFFIX = '.age'

type AgeModule = typeof import('age-encryption')
let loaded: Promise<AgeModule> | undefined
/** The library, loaded on first use (most commands never encrypt). */
function age(): Promise<AgeModule> {
  loaded ??= import('age-encryption')
  return loaded
}

/** `input` encrypted to `recipients`, as a stream. */
export async function encryptStream(input: Readable, recipients: readonly string[]): Promise<Readable> {
  const { Encrypter } = await age()
  const encrypter = new Encrypter()
  for (const recipient of recipients) encrypter.addRecipient(recipient)
  const out = await encrypter.encrypt(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>)
  return Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>)
}

/**
 * The identities in `BACKUP_AGE_IDENTITY_FILE` (lines `AGE-SECRET-KEY-1…`, comments skipped).
 * Exit 7 when the variable is unset, the file unreadable or holding no identity.
 */
export function readIdentities(env: Record<string, string | undefined> = process.env): string[] {
  const file = env.BACKUP_AGE_IDENTITY_FILE
  if (file === undefined || file === '') {
    throw new DbopsError('AGE_IDENTITY_MISSING', ExitCode.access, 'This backup is encrypted and no age identity was given', {
      hint: 'Set BACKUP_AGE_IDENTITY_FILE to the file holding the identity (AGE-SECRET-KEY-1…) of one of its recipients.',
    })
  }
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new DbopsError(
      'AGE_IDENTITY_MISSING',
      ExitCode.access,
      `Cannot read the age identity file ${file} (${errorCodeOf(err) ?? 'error'})`,
      {
        hint: 'Check BACKUP_AGE_IDENTITY_FILE and the file’s owner and mode.',
      },
    )
  }
  const identities = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'))
  if (identities.length === 0) {
    throw new DbopsError('AGE_IDENTITY_MISSING', ExitCode.access, `The age identity file ${file} holds no identity (AGE-SECRET-KEY-1…)`, {
      hint: 'Point BACKUP_AGE_IDENTITY_FILE at a file made by age-keygen.',
    })
  }
  return identities
}

/**
 * `input` decrypted with `identities`. Exit 7 when none of them is a recipient of the file;
 * a damaged file fails while the stream is read (an error from the stream).
 */
export async function decryptStream(input: Readable, identities: readonly string[], what: string): Promise<Readable> {
  const { Decrypter } = await age()
  const decrypter = new Decrypter()
  try {
    for (const identity of identities) decrypter.addIdentity(identity)
    const out = await decrypter.decrypt(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>)
    return Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>)
  } catch (err) {
    input.destroy()
    const noMatch = err instanceof Error && /no identity matched/i.test(err.message)
    throw new DbopsError(
      noMatch ? 'AGE_IDENTITY_WRONG' : 'AGE_DECRYPT_FAILED',
      noMatch ? ExitCode.access : ExitCode.integrity,
      noMatch
        ? `The age identity does not decrypt ${what}: it is not one of its recipients`
        : `Cannot decrypt ${what}: not a valid age file`,
      {
        hint: noMatch
          ? 'Use the identity of a recipient the manifest lists (BACKUP_AGE_IDENTITY_FILE).'
          : 'The copy may be damaged; pick another backup.',
      },
    )
  }
}
