/**
 * Comparing the migrations directory with `dbops_migrations`: which migrations are applied,
 * pending, changed since they were applied, missing from the directory, dirty (a
 * non-transactional migration that started and did not finish), running (started, and a run
 * holds the migration lock: it is being applied right now), and which pending ones are out of
 * order (older than the newest applied one). Pure.
 */
import type { LockHolder } from '../dialects/dialect.js'
import { type MigrationFile, compareVersions } from './discover-migrations.js'
import type { MigrationRow } from '../dialects/migration-port.js'

/** One migration's state. */
export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing' | 'dirty' | 'running'

/** A migration as `status` lists it. */
export interface ClassifiedMigration {
  version: string
  /** The file name (or, for a missing file, the name recorded when it was applied). */
  name: string
  state: MigrationState
  /** A pending migration older than the newest applied one. */
  outOfOrder: boolean
  file: MigrationFile | undefined
  row: MigrationRow | undefined
}

/** The comparison, with counts and the head. */
export interface Classification {
  migrations: ClassifiedMigration[]
  /** Greatest applied version (status `applied`), if any. */
  head: string | undefined
  counts: Record<MigrationState | 'outOfOrder', number>
}

/**
 * Classifies every migration found in `files` or `rows`, in version order. A row and a file
 * belong together by version; a changed file name with the same content is still applied.
 * A `started` row is dirty whether or not its file exists, unless `runner` (the holder of the
 * migration lock, as a reader without the lock sees it) says a run is applying it right now:
 * then it is running. A run that holds the lock itself passes none: a `started` row it reads
 * is dirty, since no other run can be inside a migration.
 */
export function classifyMigrations(files: MigrationFile[], rows: MigrationRow[], runner?: LockHolder): Classification {
  const byVersion = new Map<string, { file?: MigrationFile; row?: MigrationRow }>()
  for (const file of files) byVersion.set(file.version, { file })
  for (const row of rows) {
    const entry = byVersion.get(row.version) ?? {}
    entry.row = row
    byVersion.set(row.version, entry)
  }
  let head: string | undefined
  for (const row of rows) if (row.status === 'applied' && (head === undefined || compareVersions(row.version, head) > 0)) head = row.version
  const migrations: ClassifiedMigration[] = []
  for (const [version, { file, row }] of byVersion) {
    let state: MigrationState
    if (!row) state = 'pending'
    else if (row.status !== 'applied') state = runner ? 'running' : 'dirty'
    else if (!file) state = 'missing'
    else if (file.checksum !== row.checksum) state = 'changed'
    else state = 'applied'
    migrations.push({
      version,
      name: file?.name ?? row?.name ?? version,
      state,
      outOfOrder: state === 'pending' && head !== undefined && compareVersions(version, head) < 0,
      file,
      row,
    })
  }
  migrations.sort((a, b) => compareVersions(a.version, b.version))
  const counts = { applied: 0, pending: 0, changed: 0, missing: 0, dirty: 0, running: 0, outOfOrder: 0 }
  for (const m of migrations) {
    counts[m.state]++
    if (m.outOfOrder) counts.outOfOrder++
  }
  return { migrations, head, counts }
}

/** Whether the classification has an integrity problem (changed, missing, dirty, out of order). */
export function hasIntegrityProblem(classification: Classification): boolean {
  const c = classification.counts
  return c.changed + c.missing + c.dirty + c.outOfOrder > 0
}
