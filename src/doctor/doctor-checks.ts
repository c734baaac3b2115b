/**
 * The doctor's checks: for each id, what it is about and how its reading becomes a status and
 * a one-line finding. The readings come from the dialect (src/dialects/doctor-port.ts); which
 * ids a database answers is the dialect's to say. Pure.
 */
import type { DoctorItem, DoctorReading } from '../dialects/doctor-port.js'
import type { DoctorThresholdName, DoctorThresholds } from './doctor-thresholds.js'

/** A check's status: `info` is worth knowing and never changes the exit code. */
export type DoctorStatus = 'ok' | 'info' | 'warn' | 'fail'

/** What a check concluded. */
export interface DoctorVerdict {
  status: DoctorStatus
  finding: string
  /** The items the finding is about (those the fix applies to); default: all of them. */
  offending?: DoctorItem[]
}

/** One check. */
export interface DoctorCheckSpec {
  /** One line: what it looks at. */
  title: string
  /** The thresholds it reads. */
  thresholds: DoctorThresholdName[]
  judge(reading: DoctorReading, t: DoctorThresholds): DoctorVerdict
}

const MB = 1024 * 1024

/** "3 unused indexes: a, b, c" / "… (+4 more)". */
export function listed(items: readonly DoctorItem[], singular: string, plural = `${singular}s`, shown = 3): string {
  const names = items.slice(0, shown).map((i) => i.subject)
  const more = items.length > shown ? ` (+${items.length - shown} more)` : ''
  return `${items.length} ${items.length === 1 ? singular : plural}: ${names.join(', ')}${more}`
}

function pctOf(item: DoctorItem): number {
  const v = item.values.pct
  return typeof v === 'number' ? v : 0
}

/** Warn when anything was found; `clear` when nothing was. */
function anyFound(singular: string, clear: string, plural?: string, status: DoctorStatus = 'warn'): DoctorCheckSpec['judge'] {
  return (r) => (r.items.length === 0 ? { status: 'ok', finding: clear } : { status, finding: listed(r.items, singular, plural) })
}

/** A percentage of a hard limit (wraparound, sequence range): warn and fail at two thresholds. */
function pctJudge(warn: DoctorThresholdName, fail: DoctorThresholdName, what: string): DoctorCheckSpec['judge'] {
  return (r, t) => {
    const worst = [...r.items].sort((a, b) => pctOf(b) - pctOf(a))[0]
    const offending = r.items.filter((i) => pctOf(i) >= t[warn])
    const status: DoctorStatus = worst && pctOf(worst) >= t[fail] ? 'fail' : offending.length > 0 ? 'warn' : 'ok'
    const head = worst ? `highest: ${worst.subject} at ${pctOf(worst)} % of ${what}` : `nothing near ${what}`
    return { status, finding: offending.length > 1 ? `${offending.length} over ${t[warn]} %; ${head}` : head, offending }
  }
}

/** Adds other databases' sessions (`facts.elsewhere`) to the finding: `info` when this database has none. */
function elsewhereToo(judge: DoctorCheckSpec['judge']): DoctorCheckSpec['judge'] {
  return (r, t) => {
    const verdict = judge(r, t)
    const count = Number(r.facts.elsewhere ?? 0)
    if (count === 0) return verdict
    const note = `${count} in other databases, oldest ${r.facts.elsewhere_oldest}`
    return { ...verdict, status: verdict.status === 'ok' ? 'info' : verdict.status, finding: `${verdict.finding} here; ${note}` }
  }
}

/** Every check, by id, in the order a report lists them. */
export const DOCTOR_CHECKS: Record<string, DoctorCheckSpec> = {
  xid_wraparound: {
    title: 'transaction-id wraparound, per database and table',
    thresholds: ['wraparound_warn_pct', 'wraparound_fail_pct'],
    judge: pctJudge('wraparound_warn_pct', 'wraparound_fail_pct', 'the wraparound limit'),
  },
  sequences: {
    title: 'sequences and identity columns near their maximum',
    thresholds: ['sequence_warn_pct', 'sequence_fail_pct'],
    judge: (r, t) => {
      const verdict = pctJudge('sequence_warn_pct', 'sequence_fail_pct', 'its range')(r, t)
      return r.items.length === 0
        ? { status: 'ok', finding: `${r.facts.sequences ?? 0} sequences, highest at ${r.facts.highest_pct ?? 0} %` }
        : verdict
    },
  },
  replication_slots: {
    title: 'inactive replication slots and the WAL they retain',
    thresholds: ['slot_retained_wal_mb'],
    judge: (r, t) => {
      const retained = (i: DoctorItem) => Number(i.values.retained_wal_bytes ?? 0)
      const heavy = r.items.filter((i) => retained(i) >= t.slot_retained_wal_mb * MB)
      const offending = r.items.filter((i) => i.values.active === false || heavy.includes(i))
      if (offending.length === 0)
        return { status: 'ok', finding: r.items.length === 0 ? 'no replication slots' : `${r.items.length} slots, all active` }
      const inactive = offending.filter((i) => i.values.active === false)
      const parts = [
        ...(inactive.length > 0 ? [listed(inactive, 'inactive slot')] : []),
        ...(heavy.length > 0 ? [`${heavy.map((i) => `${i.subject} retains ${Math.round(retained(i) / MB)} MB of WAL`).join(', ')}`] : []),
      ]
      return { status: heavy.length > 0 ? 'fail' : 'warn', finding: parts.join('; '), offending }
    },
  },
  replica_lag: {
    title: 'replica lag',
    thresholds: ['replication_lag_seconds'],
    judge: (r, t) => {
      const lag = (i: DoctorItem) => Number(i.values.lag_seconds ?? 0)
      const offending = r.items.filter((i) => lag(i) > t.replication_lag_seconds)
      if (r.items.length === 0) return { status: 'ok', finding: 'no replicas attached' }
      if (offending.length > 0)
        return { status: 'warn', finding: `${offending.map((i) => `${i.subject} ${lag(i)} s behind`).join(', ')}`, offending }
      return {
        status: 'ok',
        finding: `${r.items.length} replica${r.items.length === 1 ? '' : 's'}, at most ${Math.max(...r.items.map(lag))} s behind`,
      }
    },
  },
  connections: {
    title: 'connections used against max_connections, by application',
    thresholds: ['connections_pct'],
    judge: (r, t) => {
      const pct = Number(r.facts.pct ?? 0)
      const top = r.items[0]
      const finding = `${r.facts.used} of ${r.facts.max_connections} connections (${pct} % of those for ordinary roles)${top ? `; most: ${top.subject} (${top.values.connections})` : ''}`
      return { status: pct > t.connections_pct ? 'warn' : 'ok', finding, offending: [] }
    },
  },
  long_transactions: {
    title: 'long-running transactions',
    thresholds: ['transaction_seconds'],
    judge: elsewhereToo(anyFound('transaction open too long', 'no long transactions', 'transactions open too long')),
  },
  idle_in_transaction: {
    title: 'sessions idle in a transaction',
    thresholds: ['idle_in_transaction_seconds'],
    judge: elsewhereToo(anyFound('session idle in a transaction', 'no session idle in a transaction', 'sessions idle in a transaction')),
  },
  blocking: {
    title: 'queries waiting on locks, and who blocks them',
    thresholds: ['lock_wait_seconds'],
    judge: (r) => {
      if (r.items.length === 0) return { status: 'ok', finding: 'no query waits on a lock' }
      const roots = [
        ...new Set(
          r.items.flatMap((i) =>
            String(i.values.root_blockers ?? '')
              .split(', ')
              .filter(Boolean),
          ),
        ),
      ]
      return {
        status: 'warn',
        finding: `${listed(r.items, 'blocked query', 'blocked queries')}; root blocker${roots.length === 1 ? '' : 's'}: pid ${roots.join(', ')}`,
      }
    },
  },
  invalid_indexes: {
    title: 'invalid indexes (failed CREATE INDEX CONCURRENTLY)',
    thresholds: [],
    judge: anyFound('invalid index', 'no invalid indexes', 'invalid indexes'),
  },
  duplicate_indexes: {
    title: 'duplicate and redundant indexes',
    thresholds: [],
    judge: anyFound('duplicate or redundant index', 'no duplicate or redundant indexes', 'duplicate or redundant indexes'),
  },
  unused_indexes: {
    title: 'indexes never scanned since the statistics were reset',
    thresholds: ['unused_index_min_stats_days'],
    judge: (r, t) => {
      const age = r.facts.stats_age_days
      const since = age === null || age === undefined ? 'statistics never reset' : `statistics ${age} days old`
      if (r.items.length === 0) return { status: 'ok', finding: `every index scanned (${since})` }
      const young = typeof age === 'number' && age < t.unused_index_min_stats_days
      return {
        status: young ? 'info' : 'warn',
        finding: `${listed(r.items, 'unused index', 'unused indexes')} (${since}${young ? ', too young to judge' : ''}; check replicas before dropping)`,
      }
    },
  },
  fk_without_index: {
    title: 'foreign keys without an index on the referencing columns',
    thresholds: [],
    judge: anyFound('foreign key without an index', 'every foreign key has an index', 'foreign keys without an index'),
  },
  tables_without_pk: {
    title: 'tables without a primary key',
    thresholds: [],
    judge: anyFound('table without a primary key', 'every table has a primary key', 'tables without a primary key'),
  },
  bloat: {
    title: 'estimated table and index bloat',
    thresholds: ['bloat_warn_pct', 'bloat_min_mb'],
    judge: (r, t) =>
      r.items.length === 0
        ? {
            status: 'ok',
            finding: `${r.facts.estimated ?? 0} relations estimated, none over ${t.bloat_warn_pct} % and ${t.bloat_min_mb} MB wasted`,
          }
        : { status: 'warn', finding: listed(r.items, 'bloated relation') },
  },
  vacuum: {
    title: 'dead tuples, and tables long not vacuumed',
    thresholds: ['dead_tuple_pct', 'vacuum_age_days'],
    judge: anyFound('table needing VACUUM', 'vacuum keeps up', 'tables needing VACUUM'),
  },
  analyze: {
    title: 'planner statistics missing or stale',
    thresholds: ['analyze_age_days'],
    judge: anyFound('table with missing or stale statistics', 'statistics are fresh', 'tables with missing or stale statistics'),
  },
  cache_hit: {
    title: 'cache hit ratio, tables and indexes',
    thresholds: ['cache_hit_min_pct'],
    judge: (r, t) => {
      const measured = r.items.filter((i) => Number(i.values.blocks_hit ?? 0) + Number(i.values.blocks_read ?? 0) >= 10_000)
      const text = r.items.map((i) => `${i.subject} ${i.values.pct ?? '–'} %`).join(', ')
      if (measured.length === 0) return { status: 'info', finding: `too little traffic to judge (${text})`, offending: [] }
      const low = measured.filter((i) => pctOf(i) < t.cache_hit_min_pct)
      return low.length > 0
        ? { status: 'warn', finding: `low cache hit ratio: ${text}`, offending: low }
        : { status: 'ok', finding: text, offending: [] }
    },
  },
  top_queries: {
    title: 'top statements by total time (pg_stat_statements)',
    thresholds: [],
    judge: (r) => {
      if (r.facts.installed === false)
        return { status: 'info', finding: 'pg_stat_statements is not installed: enable it to see the top queries' }
      if (r.facts.loaded === false)
        return { status: 'info', finding: 'pg_stat_statements is installed but not in shared_preload_libraries' }
      const top = r.items[0]
      return {
        status: 'info',
        finding: top ? `top: ${top.values.share_pct} % of the time in ${top.subject.slice(0, 80)}` : 'no statements recorded yet',
        offending: [],
      }
    },
  },
  settings: {
    title: 'settings that commonly hurt',
    thresholds: [],
    judge: (r) => {
      if (r.items.length === 0) return { status: 'ok', finding: 'no harmful settings found' }
      const fail = r.items.some((i) => i.values.severity === 'fail')
      return { status: fail ? 'fail' : 'warn', finding: r.items.map((i) => `${i.subject} = ${i.values.value}: ${i.values.why}`).join('; ') }
    },
  },
  integrity: {
    title: 'file integrity (quick_check; integrity_check with --deep)',
    thresholds: [],
    judge: (r) =>
      r.items.length === 0
        ? { status: 'ok', finding: `${r.facts.check}: ok` }
        : { status: 'fail', finding: `${r.facts.check}: ${listed(r.items, 'problem')}` },
  },
  foreign_keys: {
    title: 'foreign key violations (foreign_key_check)',
    thresholds: [],
    judge: anyFound('foreign key violated', 'no foreign key violations', 'foreign keys violated'),
  },
  freelist: {
    title: 'free pages in the file (VACUUM advice)',
    thresholds: ['freelist_pct'],
    judge: (r) =>
      r.items.length === 0
        ? { status: 'ok', finding: `${r.facts.pct} % of the file is free pages` }
        : { status: 'warn', finding: `${r.facts.pct} % of the file is free pages (${Math.round(Number(r.facts.free_bytes) / 1024)} KiB)` },
  },
  wal_size: {
    title: 'WAL file size against wal_autocheckpoint',
    thresholds: ['wal_checkpoint_factor'],
    judge: (r) => {
      const f = r.facts
      if (f.journal_mode !== 'wal') return { status: 'ok', finding: `not in WAL mode (${f.journal_mode})` }
      const text = `WAL ${Math.round(Number(f.wal_bytes) / 1024)} KiB, checkpoints every ${f.wal_autocheckpoint} pages (${Math.round(Number(f.autocheckpoint_bytes) / 1024)} KiB)`
      return { status: r.items.length > 0 ? 'warn' : 'ok', finding: text }
    },
  },
  auto_vacuum: {
    title: 'auto_vacuum mode',
    thresholds: [],
    judge: (r) => ({
      status: r.items.length > 0 ? 'info' : 'ok',
      finding: `auto_vacuum = ${r.facts.mode}${r.items.length > 0 ? ': deleted space stays in the file until VACUUM' : ''}`,
    }),
  },
  page_size: {
    title: 'page size against the typical row',
    thresholds: [],
    judge: (r) => {
      const f = r.facts
      const rows =
        f.file_bytes_per_row === null ? 'row size unknown until ANALYZE' : `~${f.file_bytes_per_row} file bytes per row (indexes included)`
      const small = r.items.length > 0 ? ' (under the 4096 default: more pages per row, more I/O)' : ''
      return { status: r.items.length > 0 ? 'info' : 'ok', finding: `page_size ${f.page_size}${small}, ${rows}` }
    },
  },
  journal_mode: {
    title: "journal mode against dbops' recommended WAL",
    thresholds: [],
    judge: (r) =>
      r.items.length === 0
        ? { status: 'ok', finding: `journal_mode = ${r.facts.journal_mode}` }
        : { status: 'warn', finding: `journal_mode = ${r.facts.journal_mode}: readers and the writer block each other (WAL recommended)` },
  },
  synchronous: {
    title: "synchronous against dbops' recommended NORMAL",
    thresholds: [],
    judge: (r) =>
      r.items.length === 0
        ? { status: 'ok', finding: `synchronous = ${r.facts.synchronous}` }
        : { status: 'warn', finding: 'synchronous = off: a power loss can corrupt the file' },
  },
}
