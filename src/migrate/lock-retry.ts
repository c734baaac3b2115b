/**
 * Retrying a migration that gave up waiting for a table lock. A transactional migration that
 * fails because a statement hit `lock_timeout` was rolled back whole, so running it again is
 * safe: it is retried after a jittered exponential backoff, up to `--lock-retries` times
 * (`migrations.lockRetries`, default 3). A migration outside a transaction (its earlier
 * statements took effect) and any other error are never retried. Which errors mean "lock not
 * available" is the dialect's (`Dialect.lockNotAvailableSqlstates`); the policy is this file's.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { dialectTraits } from '../dialects/index.js'
import { MigrationStepError } from '../dialects/migration-port.js'
import { sleep } from '../dialects/retry-within-deadline.js'

/** One retry of a migration (snake_case: it is part of the `--json` document). */
export interface LockRetry {
  /** The attempt that failed, from 1. */
  attempt: number
  /** How long the run waited before the next attempt. */
  delay_ms: number
  sqlstate: string
  /** The database's message of the failed attempt. */
  message: string
}

/** How a run retries. */
export interface LockRetryPolicy {
  /** Retries after the first attempt (0: none). */
  retries: number
  /** SQLSTATEs that mean a lock was not available. */
  sqlstates: readonly string[]
  /** The first backoff before jitter, ms (doubles each retry, capped at `maxDelayMs`). */
  baseDelayMs: number
  maxDelayMs: number
}

/** The policy of a run: `lockRetries` of the options, else of the config; the dialect's SQLSTATEs. */
export function lockRetryPolicy(config: ResolvedConfig, options: { lockRetries?: number | undefined }): LockRetryPolicy {
  return {
    retries: options.lockRetries ?? config.lockRetries,
    sqlstates: dialectTraits(config.target.dialect).lockNotAvailableSqlstates,
    baseDelayMs: 500,
    maxDelayMs: 10_000,
  }
}

/** The backoff before retry `retry` (from 1): exponential, with jitter from half to one and a half times. */
export function backoffMs(policy: LockRetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  return Math.round(exponential * (0.5 + random()))
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retried, or has failed
 * `policy.retries + 1` times. Each retry is pushed to `retries` (the caller's list, so it
 * keeps them when the last attempt throws) and reported through `onRetry` before the backoff.
 * A signal during the backoff ends the wait at once with the signal's reason.
 */
export async function withLockRetries<T>(
  attempt: () => Promise<T>,
  options: {
    policy: LockRetryPolicy
    /** Whether the migration runs in one transaction (only then is a retry safe). */
    transactional: boolean
    retries: LockRetry[]
    signal?: AbortSignal | undefined
    onRetry?: (retry: LockRetry) => void
  },
): Promise<T> {
  const { policy, retries, signal } = options
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      const sqlstate = retryableSqlstate(err, policy, options.transactional)
      if (sqlstate === undefined || retries.length >= policy.retries || signal?.aborted) throw err
      const retry: LockRetry = {
        attempt: retries.length + 1,
        delay_ms: backoffMs(policy, retries.length + 1),
        sqlstate,
        message: (err as Error).message,
      }
      retries.push(retry)
      options.onRetry?.(retry)
      await sleep(retry.delay_ms, signal)
    }
  }
}

/** The SQLSTATE of `err` when it is a lock not available in a migration that rolled back, else undefined. */
function retryableSqlstate(err: unknown, policy: LockRetryPolicy, transactional: boolean): string | undefined {
  if (!transactional || !(err instanceof MigrationStepError)) return undefined
  const { sqlstate, dirty, cancelled } = err.details
  if (dirty || cancelled || sqlstate === undefined) return undefined
  return policy.sqlstates.includes(sqlstate) ? sqlstate : undefined
}
