/**
 * `dbops doctor` on SQLite: integrity (`quick_check`, or `integrity_check` when deep), foreign
 * key violations, the free-list share (VACUUM advice), the WAL's size against
 * `wal_autocheckpoint`, a missing `sqlite_stat1` (ANALYZE advice), the auto-vacuum mode, the
 * page size against the typical row, and the journal mode and synchronous setting against
 * dbops' recommended WAL + NORMAL. Pragmas and file sizes only, on the one read-only handle.
 */
import type { DbConnection } from '../dialect.js'
import type { DoctorItem, DoctorReadOptions, DoctorReader, DoctorReading } from '../doctor-port.js'
import { sqliteHandleOf } from './sqlite-catalog.js'
import { fileSize } from './sqlite-health.js'
import type { SqliteHandle } from './sqlite-connection.js'

/** Problems `quick_check` / `integrity_check` report before stopping. */
const CHECK_MAX_ERRORS = 20
/** Free pages below this many are never worth a VACUUM, whatever their share. */
const FREELIST_MIN_PAGES = 100

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function pragma(handle: SqliteHandle, name: string): unknown {
  return handle.pragma(name, { simple: true })
}

function readIntegrity(handle: SqliteHandle, deep: boolean): DoctorReading {
  const check = deep ? 'integrity_check' : 'quick_check'
  const rows = handle.pragma(`${check}(${CHECK_MAX_ERRORS})`) as Array<Record<string, string>>
  const problems = rows.map((r) => Object.values(r)[0]!).filter((m) => m !== 'ok')
  return {
    items: problems.map((p) => ({
      subject: p,
      values: {},
      fix: 'restore the latest good backup (dbops backup restore), or salvage with the sqlite3 shell: .recover',
    })),
    facts: { check },
  }
}

function readForeignKeys(handle: SqliteHandle): DoctorReading {
  const rows = handle.prepare('PRAGMA foreign_key_check').all() as Array<{
    table: string
    rowid: number | null
    parent: string
    fkid: number
  }>
  const groups = new Map<string, { table: string; parent: string; rowids: number[]; count: number }>()
  for (const r of rows) {
    const key = `${r.table}\u0000${r.parent}`
    const group = groups.get(key) ?? { table: r.table, parent: r.parent, rowids: [], count: 0 }
    group.count++
    if (r.rowid !== null && group.rowids.length < 10) group.rowids.push(r.rowid)
    groups.set(key, group)
  }
  return {
    items: [...groups.values()].map((g) => ({
      subject: `${g.table} → ${g.parent}`,
      values: { rows: g.count, first_rowids: g.rowids.join(', ') },
      fix: `SELECT * FROM ${quoteName(g.table)} WHERE rowid IN (${g.rowids.join(', ')});  -- then insert the missing ${g.parent} rows or delete these`,
    })),
    facts: { foreign_keys_enforced: pragma(handle, 'foreign_keys') === 1 },
  }
}

function readFreelist(handle: SqliteHandle, limits: Readonly<Record<string, number>>): DoctorReading {
  const free = Number(pragma(handle, 'freelist_count'))
  const pages = Number(pragma(handle, 'page_count'))
  const pageSize = Number(pragma(handle, 'page_size'))
  const pct = pages === 0 ? 0 : Math.round((1000 * free) / pages) / 10
  const over = free >= FREELIST_MIN_PAGES && pct >= (limits.freelist_pct ?? 100)
  const autoVacuum = Number(pragma(handle, 'auto_vacuum'))
  return {
    items: over
      ? [
          {
            subject: 'free pages',
            values: { pct, free_pages: free, page_count: pages, free_bytes: free * pageSize },
            fix:
              autoVacuum === 2
                ? 'PRAGMA incremental_vacuum;'
                : 'VACUUM;  -- rewrites the file, needs its size free on disk and the write lock',
          },
        ]
      : [],
    facts: { pct, free_pages: free, page_count: pages, free_bytes: free * pageSize },
  }
}

function readWalSize(handle: SqliteHandle, file: string | undefined, limits: Readonly<Record<string, number>>): DoctorReading {
  const journalMode = String(pragma(handle, 'journal_mode')).toLowerCase()
  const pageSize = Number(pragma(handle, 'page_size'))
  const autocheckpoint = Number(pragma(handle, 'wal_autocheckpoint'))
  const walBytes = file && journalMode === 'wal' ? fileSize(`${file}-wal`) : 0
  const checkpointBytes = autocheckpoint * pageSize
  const factor = limits.wal_checkpoint_factor ?? Number.POSITIVE_INFINITY
  const over = journalMode === 'wal' && (autocheckpoint <= 0 || walBytes > factor * checkpointBytes)
  const facts = {
    journal_mode: journalMode,
    wal_bytes: walBytes,
    wal_autocheckpoint: autocheckpoint,
    autocheckpoint_bytes: checkpointBytes,
  }
  return {
    items: over
      ? [
          {
            subject: `${file}-wal`,
            values: facts,
            fix: 'PRAGMA wal_checkpoint(TRUNCATE);  -- after ending the long-running reader that keeps checkpoints from finishing (dbops pool)',
          },
        ]
      : [],
    facts,
  }
}

function readStat1(handle: SqliteHandle): DoctorReading {
  const indexes = (handle.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'index'").get() as { n: number }).n
  const hasStat1 = handle.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'").get() !== undefined
  const missing = indexes > 0 && !hasStat1
  return {
    items: missing
      ? [
          {
            subject: 'the whole file (no sqlite_stat1: ANALYZE never ran)',
            values: { indexes },
            fix: 'ANALYZE;  -- or PRAGMA optimize; on closing each connection',
          },
        ]
      : [],
    facts: { indexes, sqlite_stat1: hasStat1 },
  }
}

function readAutoVacuum(handle: SqliteHandle): DoctorReading {
  const mode = ['none', 'full', 'incremental'][Number(pragma(handle, 'auto_vacuum'))] ?? 'unknown'
  return {
    items:
      mode === 'none'
        ? [
            {
              subject: 'auto_vacuum',
              values: { mode },
              fix: 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM;  -- only if the file must shrink after deletes; then PRAGMA incremental_vacuum now and then',
            },
          ]
        : [],
    facts: { mode },
  }
}

function readPageSize(handle: SqliteHandle): DoctorReading {
  const pageSize = Number(pragma(handle, 'page_size'))
  const pages = Number(pragma(handle, 'page_count')) - Number(pragma(handle, 'freelist_count'))
  const hasStat1 = handle.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'").get() !== undefined
  // sqlite_stat1's first number is the table's row count (on each of its indexes' rows)
  const rows = hasStat1
    ? ((
        handle.prepare('SELECT sum(n) AS n FROM (SELECT max(CAST(stat AS INTEGER)) AS n FROM sqlite_stat1 GROUP BY tbl)').get() as {
          n: number | null
        }
      ).n ?? 0)
    : 0
  const avgRowBytes = rows > 0 ? Math.round((pages * pageSize) / rows) : null
  const items: DoctorItem[] = []
  // the file's bytes per row count the indexes too: a hint of wide rows, not a measure to act on alone
  if (pageSize < 4096) {
    const better = 4096
    items.push({
      subject: 'page_size',
      values: { page_size: pageSize, file_bytes_per_row: avgRowBytes },
      fix: `PRAGMA journal_mode = DELETE; PRAGMA page_size = ${better}; VACUUM; PRAGMA journal_mode = WAL;  -- rewrites the file`,
    })
  }
  return { items, facts: { page_size: pageSize, file_bytes_per_row: avgRowBytes, rows_estimate: hasStat1 ? rows : null } }
}

function readJournalMode(handle: SqliteHandle): DoctorReading {
  const mode = String(pragma(handle, 'journal_mode')).toLowerCase()
  return {
    items:
      mode === 'wal' || mode === 'memory'
        ? []
        : [
            {
              subject: 'journal_mode',
              values: { value: mode, recommended: 'wal' },
              fix: 'PRAGMA journal_mode = WAL;  -- persists in the file; readers no longer block the writer',
            },
          ],
    facts: { journal_mode: mode },
  }
}

function readSynchronous(handle: SqliteHandle): DoctorReading {
  const value = ['off', 'normal', 'full', 'extra'][Number(pragma(handle, 'synchronous'))] ?? 'unknown'
  return {
    items:
      value === 'off'
        ? [
            {
              subject: 'synchronous',
              values: { value, recommended: 'normal' },
              fix: "sqlite.synchronous: 'NORMAL' in dbops.config (or SQLITE_SYNCHRONOUS=NORMAL)",
            },
          ]
        : [],
    facts: { synchronous: value },
  }
}

/** Opens the doctor on a SQLite connection: one handle, so one check at a time. */
export function openSqliteDoctor(conn: DbConnection): DoctorReader {
  const handle = sqliteHandleOf(conn)
  const file = conn.target.dialect === 'sqlite' && conn.target.path !== ':memory:' ? conn.target.path : undefined
  const reads: Record<string, (options: DoctorReadOptions) => DoctorReading> = {
    integrity: (o) => readIntegrity(handle, o.deep),
    foreign_keys: () => readForeignKeys(handle),
    freelist: (o) => readFreelist(handle, o.limits),
    wal_size: (o) => readWalSize(handle, file, o.limits),
    analyze: () => readStat1(handle),
    auto_vacuum: () => readAutoVacuum(handle),
    page_size: () => readPageSize(handle),
    journal_mode: () => readJournalMode(handle),
    synchronous: () => readSynchronous(handle),
  }
  return {
    checkIds: Object.keys(reads),
    concurrency: 1,
    async read(id, options) {
      const read = reads[id]
      if (!read) throw new TypeError(`no SQLite doctor check ${id}`)
      return read(options)
    },
  }
}
