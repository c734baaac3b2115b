/**
 * Retrying with backoff inside one deadline: the connect deadline
 * (`DATABASE_CONNECT_TIMEOUT`) covers every attempt, and `DATABASE_MAX_RETRIES` bounds their
 * number. Used for connecting (refused, starting up, too many connections) and, on SQLite,
 * for whole transactions that hit "database is locked".
 */
import { InterruptedError } from '../errors.js'

/** Options of {@link retryWithinDeadline}. */
export interface RetryOptions {
  /** Milliseconds for all attempts together. */
  deadlineMs: number
  /** Retries after the first attempt (Infinity: until the deadline). */
  maxRetries: number
  /** Whether an error is worth another attempt. */
  isRetryable: (err: unknown) => boolean
  signal?: AbortSignal
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void
  /** First delay; doubles each retry up to `maxDelayMs`. Defaults 100 and 2000. */
  initialDelayMs?: number
  maxDelayMs?: number
}

/**
 * Runs `attempt(remainingMs)` until it succeeds, fails with a non-retryable error, runs out
 * of retries, or the deadline passes; then throws the last error. An abort throws
 * {@link InterruptedError}.
 */
export async function retryWithinDeadline<T>(options: RetryOptions, attempt: (remainingMs: number) => Promise<T>): Promise<T> {
  const start = Date.now()
  const deadline = start + options.deadlineMs
  let delay = options.initialDelayMs ?? 100
  for (let retry = 0; ; retry++) {
    throwIfAborted(options.signal)
    try {
      return await untilAborted(attempt(Math.max(1, deadline - Date.now())), options.signal)
    } catch (err) {
      throwIfAborted(options.signal)
      const remaining = deadline - Date.now()
      if (!options.isRetryable(err) || retry >= options.maxRetries || remaining <= 50) throw err
      const wait = Math.min(delay, remaining - 25)
      options.onRetry?.(retry + 1, err, wait)
      await sleep(wait, options.signal)
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2000)
    }
  }
}

/**
 * `promise`, or its rejection with the abort reason as soon as `signal` aborts: an attempt that
 * hangs (a server that accepts and never answers) must not hold a Ctrl-C until its own timeout.
 * The abandoned attempt is left to fail on its own; the command is ending anyway.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
}

/** Waits `ms`, or less when `signal` aborts (then throws its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason instanceof Error ? signal!.reason : new InterruptedError('SIGINT'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
