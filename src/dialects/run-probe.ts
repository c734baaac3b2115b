/**
 * The frame of one health check, shared by the dialects' probes: times it, and turns a
 * failure into a `fail` component naming the error instead of aborting the whole report,
 * so one broken check never hides the others.
 */
import { DbopsError, errorCodeOf, messageOf } from '../errors.js'
import type { HealthComponent } from './dialect.js'

/** What a check found. */
export interface ProbeOutcome {
  status: HealthComponent['status']
  details: Record<string, unknown>
  /** The latency to report, when it is not the whole check's (e.g. only `SELECT 1`). */
  latencyMs?: number
}

/** The worst of some statuses: fail > warn > ok. */
export function worstStatus(...statuses: Array<HealthComponent['status']>): HealthComponent['status'] {
  if (statuses.includes('fail')) return 'fail'
  if (statuses.includes('warn')) return 'warn'
  return 'ok'
}

/** `warn` when `value` is above `limit` (an undefined or infinite limit never warns). */
export function warnAbove(value: number | undefined, limit: number | undefined): HealthComponent['status'] {
  return value !== undefined && limit !== undefined && Number.isFinite(limit) && value > limit ? 'warn' : 'ok'
}

/** Milliseconds rounded to 0.1. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10
}

/**
 * Runs one check. An error becomes a `fail` component with `details.error` (and dbops' hint); PostgreSQL's
 * 42501 (insufficient privilege) becomes `warn` saying so, and 57014 (statement timeout)
 * says the check was cancelled.
 */
export async function runProbe(name: string, check: () => Promise<ProbeOutcome> | ProbeOutcome): Promise<HealthComponent> {
  const started = performance.now()
  try {
    const outcome = await check()
    return { name, status: outcome.status, latencyMs: roundMs(outcome.latencyMs ?? performance.now() - started), details: outcome.details }
  } catch (err) {
    const latencyMs = roundMs(performance.now() - started)
    const code = errorCodeOf(err)
    if (code === '42501') return { name, status: 'warn', latencyMs, details: { error: `insufficient privilege: ${messageOf(err)}` } }
    if (code === '57014')
      return { name, status: 'fail', latencyMs, details: { error: `cancelled by statement_timeout: ${messageOf(err)}` } }
    const hint = err instanceof DbopsError ? err.hint : undefined
    return {
      name,
      status: 'fail',
      latencyMs,
      details: { error: messageOf(err), ...(code ? { error_code: code } : {}), ...(hint ? { hint } : {}) },
    }
  }
}
