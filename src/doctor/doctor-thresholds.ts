/**
 * `dbops doctor`'s thresholds: names, defaults, and why each default is what it is (the same
 * text docs/doctor.md shows). Set them in the config file under `doctor.thresholds`
 * (`doctor: { thresholds: { sequence_warn_pct: 60, idle_in_transaction_seconds: 'off' } }`);
 * `'off'` turns a threshold off (its check never warns on it).
 */
import { closestMatch } from '../closest-match.js'
import { ConfigError } from '../errors.js'

/** One threshold. */
export interface DoctorThresholdSpec {
  default: number
  unit: string
  /** Why the default is what it is. */
  reason: string
}

/** Every threshold, by name. */
export const DOCTOR_THRESHOLDS = {
  wraparound_warn_pct: {
    default: 40,
    unit: '%',
    reason:
      'autovacuum freezes at autovacuum_freeze_max_age (200 M, ~9 % of 2^31): past 40 % freezing is not keeping up, with time left to act',
  },
  wraparound_fail_pct: {
    default: 75,
    unit: '%',
    reason: 'at 100 % the server stops assigning transaction ids; 75 % leaves hours to days on a busy server',
  },
  sequence_warn_pct: {
    default: 75,
    unit: '%',
    reason: 'widening an int4 column rewrites the table: the last quarter of the range is the time to plan it',
  },
  sequence_fail_pct: { default: 90, unit: '%', reason: 'inserts fail at 100 %; at 90 % a fast-growing table is days away' },
  unused_index_min_stats_days: {
    default: 7,
    unit: 'days',
    reason: 'statistics younger than a week miss weekly jobs; unused indexes are reported as info until then',
  },
  bloat_warn_pct: { default: 50, unit: '%', reason: 'under half wasted is what normal update churn and fill factors leave' },
  bloat_min_mb: { default: 100, unit: 'MB', reason: 'rewriting a small relation gains nothing worth a lock' },
  cache_hit_min_pct: {
    default: 95,
    unit: '%',
    reason: 'OLTP workloads keep their working set in memory: below 95 % reads go to disk (judged after 10,000 block reads)',
  },
  dead_tuple_pct: {
    default: 20,
    unit: '%',
    reason: "autovacuum's own trigger is 20 % dead (plus 50 rows); past it with 1,000+ dead rows, vacuum is behind",
  },
  vacuum_age_days: {
    default: 30,
    unit: 'days',
    reason: 'a table past the autovacuum trigger and not vacuumed in a month means autovacuum is blocked or off',
  },
  analyze_age_days: { default: 30, unit: 'days', reason: 'a month of changes without ANALYZE leaves the planner with stale row counts' },
  transaction_seconds: {
    default: 300,
    unit: 's',
    reason: 'as `health`: five minutes holds back vacuum and usually is a stuck job, not work',
  },
  idle_in_transaction_seconds: {
    default: 60,
    unit: 's',
    reason: 'as `health`: a minute idle inside a transaction is an application that forgot to commit',
  },
  lock_wait_seconds: { default: 5, unit: 's', reason: 'a few seconds of waiting is a queue forming behind a lock' },
  slot_retained_wal_mb: {
    default: 1024,
    unit: 'MB',
    reason: 'WAL kept for a slot fills the disk; past 1 GB (64 segments) it is no longer a short outage of its consumer',
  },
  replication_lag_seconds: { default: 30, unit: 's', reason: 'as `health`: reads from a replica 30 s behind are visibly stale' },
  connections_pct: { default: 80, unit: '%', reason: 'as `health`: the last 20 % are what a deploy or a retry storm needs' },
  freelist_pct: {
    default: 20,
    unit: '%',
    reason: 'SQLite reuses free pages; past a fifth of the file (and 100 pages) a VACUUM gives real space back',
  },
  wal_checkpoint_factor: {
    default: 4,
    unit: '×',
    reason: 'the WAL resets after a checkpoint at wal_autocheckpoint pages; four times that means checkpoints cannot finish',
  },
} as const satisfies Record<string, DoctorThresholdSpec>

/** A threshold's name. */
export type DoctorThresholdName = keyof typeof DOCTOR_THRESHOLDS

/** Resolved thresholds; `Infinity` means off. */
export type DoctorThresholds = { [K in DoctorThresholdName]: number }

/**
 * The thresholds: defaults, then the config file's `doctor.thresholds` (a number ≥ 0 or
 * `'off'`). An unknown name is a configuration error (exit 2) naming the key and the closest
 * known name.
 */
export function resolveDoctorThresholds(fromFile: Readonly<Record<string, number | 'off'>> = {}, label = 'config file'): DoctorThresholds {
  const names = Object.keys(DOCTOR_THRESHOLDS)
  const thresholds = Object.fromEntries(Object.entries(DOCTOR_THRESHOLDS).map(([name, spec]) => [name, spec.default])) as DoctorThresholds
  for (const [name, value] of Object.entries(fromFile)) {
    if (!Object.hasOwn(DOCTOR_THRESHOLDS, name)) {
      const near = closestMatch(name, names)
      throw new ConfigError(`${label}: unknown key doctor.thresholds.${name}`, {
        code: 'CONFIG_FILE_INVALID',
        hint: near ? `Did you mean ${near}? (docs/doctor.md lists them)` : `Known thresholds: ${names.join(', ')}.`,
      })
    }
    if (value !== 'off' && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new ConfigError(`${label}: doctor.thresholds.${name} must be a number ≥ 0 or 'off', got ${JSON.stringify(value)}`, {
        code: 'CONFIG_FILE_INVALID',
      })
    }
    thresholds[name as DoctorThresholdName] = value === 'off' ? Number.POSITIVE_INFINITY : value
  }
  return thresholds
}
