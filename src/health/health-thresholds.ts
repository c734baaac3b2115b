/**
 * Health warning thresholds: their names, defaults and where they are set. A value above a
 * threshold (below, for `free_disk_mb`) turns its check to `warn` (exit 3).
 *
 * Set them with `--threshold NAME=VALUE` (repeatable) or `DBOPS_HEALTH_<NAME>` in the
 * environment (`DBOPS_HEALTH_LOCK_WAIT_SECONDS=5`); the flag wins. `off` turns a threshold
 * off; for `backup_age_hours` it turns the whole backup check off (for databases without a
 * backup job, such as a developer's).
 */
import { UsageError } from '../errors.js'

/** One threshold. */
export interface ThresholdSpec {
  default: number
  unit: string
  /** What crossing it means, for `--help` and docs/on-call.md. */
  description: string
}

/** Every threshold, by name. */
export const HEALTH_THRESHOLDS = {
  latency_ms: { default: 500, unit: 'ms', description: 'round trip of SELECT 1' },
  connections_pct: { default: 80, unit: '%', description: 'client connections used of max_connections (less the superuser reserve)' },
  transaction_seconds: { default: 300, unit: 's', description: 'age of the longest open transaction' },
  idle_in_transaction_seconds: { default: 60, unit: 's', description: 'time a session has sat idle inside a transaction' },
  lock_wait_seconds: { default: 1, unit: 's', description: 'time a query has waited on a lock' },
  replication_lag_seconds: { default: 30, unit: 's', description: 'replay lag of a replica' },
  wraparound_pct: { default: 50, unit: '%', description: 'transaction-id age of the oldest database, of 2^31' },
  backup_age_hours: { default: 26, unit: 'h', description: 'age of the newest backup (off: no backup check)' },
  wal_mb: { default: 512, unit: 'MB', description: 'size of the SQLite WAL file' },
  free_disk_mb: { default: 1024, unit: 'MB', description: "free space on the SQLite file's filesystem (warns below)" },
} as const satisfies Record<string, ThresholdSpec>

/** A threshold's name. */
export type ThresholdName = keyof typeof HEALTH_THRESHOLDS

/** Resolved thresholds; `Infinity` means off. */
export type HealthThresholds = { [K in ThresholdName]: number }

/** The environment variable of a threshold: `DBOPS_HEALTH_LOCK_WAIT_SECONDS`. */
export function thresholdEnvName(name: ThresholdName): string {
  return `DBOPS_HEALTH_${name.toUpperCase()}`
}

function isThresholdName(name: string): name is ThresholdName {
  return Object.hasOwn(HEALTH_THRESHOLDS, name)
}

function parseValue(text: string, where: string): number {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === 'off') return Number.POSITIVE_INFINITY
  const value = Number(trimmed)
  if (trimmed === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${where}: expected a number ≥ 0 or "off", got "${text}"`, { code: 'THRESHOLD_INVALID' })
  }
  return value
}

/**
 * Resolves the thresholds: defaults, then `DBOPS_HEALTH_*` variables, then `--threshold`
 * flags (`NAME=VALUE`). An unknown name or a bad value is a usage error (exit 2) naming it.
 *
 * @example
 * resolveThresholds(['lock_wait_seconds=5'], process.env).lock_wait_seconds // 5
 */
export function resolveThresholds(flags: readonly string[] = [], env: Record<string, string | undefined> = {}): HealthThresholds {
  const thresholds = Object.fromEntries(Object.entries(HEALTH_THRESHOLDS).map(([name, spec]) => [name, spec.default])) as HealthThresholds
  for (const name of Object.keys(HEALTH_THRESHOLDS) as ThresholdName[]) {
    const envName = thresholdEnvName(name)
    const value = env[envName]
    if (value !== undefined && value !== '') thresholds[name] = parseValue(value, envName)
  }
  for (const flag of flags) {
    const eq = flag.indexOf('=')
    const name = (eq < 0 ? flag : flag.slice(0, eq)).trim().replaceAll('-', '_')
    if (!isThresholdName(name)) {
      throw new UsageError(`--threshold ${flag}: unknown threshold "${name}"`, {
        code: 'THRESHOLD_UNKNOWN',
        hint: `Known thresholds: ${Object.keys(HEALTH_THRESHOLDS).join(', ')}.`,
      })
    }
    if (eq < 0) throw new UsageError(`--threshold ${flag}: expected NAME=VALUE`, { code: 'THRESHOLD_INVALID' })
    thresholds[name] = parseValue(flag.slice(eq + 1), `--threshold ${name}`)
  }
  return thresholds
}
