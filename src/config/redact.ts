/**
 * Redaction: every line dbops prints passes through {@link redact}, which replaces each
 * registered secret (in raw and URL-encoded form), and the password of any URL, with `***`. The config resolver registers
 * the password it finds, so a driver message that echoes it cannot leak it.
 */

const secrets = new Set<string>()
/** Secrets that are also words dbops prints as themselves: hidden only where they stand as a password. */
const wordSecrets = new Map<string, RegExp>()

/**
 * Words in every line dbops prints about a PostgreSQL or SQLite database (`postgres://…`,
 * `postgres db:5432/app`). A password equal to one, or to the user, database or host it
 * comes with, is no secret that scrubbing every occurrence could keep (the word is printed
 * anyway), and scrubbing it would garble the output: `***://***:***@db/***`.
 */
const PRINTED_WORDS = ['postgres', 'postgresql', 'sqlite']

/** The text that stands in for a secret. */
export const REDACTED = '***'

/**
 * Remembers `secret` so that {@link redact} hides it from then on. Secrets shorter than
 * three characters are not registered: hiding every "a" in the output helps nobody. A secret
 * equal to one of `printedValues` (the user, database and host it belongs to) or to a word
 * such as `postgres` is hidden only where it stands as a password (`:secret@`,
 * `password=secret`, `PGPASSWORD=secret`, `password "secret"`), so `config show` still reads
 * `postgres://postgres:***@db:5432/postgres`.
 */
export function registerSecret(secret: string | undefined, printedValues: ReadonlyArray<string | undefined> = []): void {
  if (!secret || secret.length < 3) return
  if (PRINTED_WORDS.includes(secret) || printedValues.includes(secret)) {
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const asPassword = `((?:password|pwd)\\s*[=:]?\\s*["']?)${escaped}(?!\\w)|(:)${escaped}(?=@)`
    wordSecrets.set(secret, new RegExp(asPassword, 'gi'))
    return
  }
  secrets.add(secret)
  const encoded = encodeURIComponent(secret)
  if (encoded !== secret) secrets.add(encoded)
}

/** The password of any `scheme://user:password@` in a text (one dbops never resolved, e.g. a mistyped flag's value). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)[^\s/?#@]+@/gi

/** Replaces every registered secret in `text`, and every password in a URL, with `***`. */
export function redact(text: string): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join(REDACTED)
  for (const asPassword of wordSecrets.values()) {
    out = out.replace(asPassword, (_match, before?: string, colon?: string) => `${before ?? colon}${REDACTED}`)
  }
  return out.replace(URL_PASSWORD, `$1${REDACTED}@`)
}

/**
 * Replaces the password of a URL with `***`, keeping the rest readable. Works on strings
 * that the WHATWG parser rejects too (the user may have typed anything).
 *
 * @example redactUrl('postgres://app:s3cret@db:5432/app') // 'postgres://app:***@db:5432/app'
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://')
  if (scheme < 0) return redact(url)
  const rest = url.slice(scheme + 3)
  const at = rest.lastIndexOf('@')
  if (at < 0) return redact(url)
  const userinfo = rest.slice(0, at)
  const colon = userinfo.indexOf(':')
  if (colon < 0) return redact(url)
  return redact(`${url.slice(0, scheme + 3)}${userinfo.slice(0, colon)}:${REDACTED}${rest.slice(at)}`)
}
