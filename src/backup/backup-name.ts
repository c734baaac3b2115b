/**
 * Backup file names. A backup is `<series>-<UTC timestamp>.<ext>`, where the series is the
 * database part and a tag of the source's identity (`app-3f2a91c0-20250101T030000.000Z.db`,
 * see `backupSeriesName`; dbops before identities wrote `app-20250101T030000.000Z.db`), with
 * its manifest beside it (`….db.json`); work in progress lives under a hidden temporary name
 * (`.app-3f2a91c0-20250101T030000.000Z.db.tmp-4242`) that {@link parseTempFileName}
 * recognises, so a run killed half-way leaves nothing under a final name and the next run can
 * sweep it. Pure functions.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { dialectTraits } from '../dialects/index.js'
import { UsageError } from '../errors.js'

/** `20250101T030000.000Z`: sortable, UTC, milliseconds so two runs in one second differ. */
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/
const FINAL = /^([A-Za-z0-9_-]+)-(\d{8}T\d{6}\.\d{3}Z)\.([a-z0-9]+(?:\.[a-z0-9]+){0,2})$/
const TEMP = /^\.([A-Za-z0-9_-]+)-(\d{8}T\d{6}\.\d{3}Z)\..*\.tmp-(\d+)(?:-journal|-wal|-shm)?$/

/** The parts of a backup file name. */
export interface BackupFileName {
  /** The part before the timestamp: the series (`app-3f2a91c0`), or `app` in older names. */
  database: string
  /** When the backup was started (UTC). */
  createdAt: Date
  /** Extension without the dot: `db`, `db.gz`, `dump`. */
  extension: string
}

/**
 * The name backups of this configuration carry: the `--db` name when one was chosen, else
 * the PostgreSQL database's name or the SQLite file's name without its extension. Characters
 * other than letters, digits, `_` and `-` become `_`, so the name is always a plain file-name part.
 *
 * @example backupDatabaseName(config) // 'app' for sqlite:///data/app.db
 */
export function backupDatabaseName(config: Pick<ResolvedConfig, 'databaseName' | 'target'>): string {
  const raw = config.databaseName !== 'default' ? config.databaseName : dialectTraits(config.target.dialect).backupBaseName(config.target)
  if (raw === undefined) {
    throw new UsageError('An in-memory SQLite database cannot be backed up', {
      code: 'BACKUP_IN_MEMORY',
      hint: 'Point DATABASE_URL / DATABASE_PATH at a file.',
    })
  }
  const cleaned = raw.replace(/[^A-Za-z0-9_-]/g, '_')
  return cleaned === '' ? 'database' : cleaned
}

/** `2025-01-01T03:00:00.000Z` → `20250101T030000.000Z`. */
export function formatStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '')
}

/** The inverse of {@link formatStamp}; undefined when `stamp` is not one. */
export function parseStamp(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[]
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!))
  // Date.UTC rolls month 13 over into January: only a stamp that formats back to itself is one
  return Number.isNaN(date.getTime()) || formatStamp(date) !== stamp ? undefined : date
}

/** `app`, a date and `db` → `app-20250101T030000.000Z.db`. */
export function formatBackupFileName(database: string, createdAt: Date, extension: string): string {
  return `${database}-${formatStamp(createdAt)}.${extension}`
}

/** Parses a final backup file name; undefined for anything else (manifests, temporaries, strangers). */
export function parseBackupFileName(name: string): BackupFileName | undefined {
  const m = FINAL.exec(name)
  if (!m) return undefined
  const createdAt = parseStamp(m[2]!)
  if (!createdAt) return undefined
  return { database: m[1]!, createdAt, extension: m[3]! }
}

/** The manifest's name beside a backup file: `….db` → `….db.json`. */
export function manifestNameOf(fileName: string): string {
  return `${fileName}.json`
}

/**
 * A temporary name for work on `finalName` by process `pid`. `tag` tells several apart
 * (`raw` for the uncompressed copy before gzip, `verify` for a scratch restore).
 *
 * @example tempFileName('app-20250101T030000.000Z.db', 42) // '.app-20250101T030000.000Z.db.tmp-42'
 */
export function tempFileName(finalName: string, pid: number, tag?: string): string {
  return `.${finalName}${tag ? `.${tag}` : ''}.tmp-${pid}`
}

/** A recognised temporary file: its series (or database, in older names) and the pid that wrote it. */
export interface TempFileName {
  database: string
  pid: number
}

/**
 * Recognises temporary files of {@link tempFileName}, with SQLite's `-journal`, `-wal` and
 * `-shm` companions; undefined for anything else.
 */
export function parseTempFileName(name: string): TempFileName | undefined {
  const m = TEMP.exec(name)
  if (!m) return undefined
  return { database: m[1]!, pid: Number(m[3]) }
}
