/**
 * A minimal reader of migration state for `dbops health`, until the migrations module's
 * `getMigrationStatus` is plugged in (see health-sources.ts): the `dbops_migrations` table
 * (version, name, checksum, status) against the files `<version>_<name>.<sql|ts|js>` in the
 * migrations directory. Checksums are sha256 (hex) of the file with CRLF turned into LF.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { loadCatalog } from '../dialects/catalog.js'
import { OperationError, messageOf } from '../errors.js'
import type { HealthSourceContext, MigrationSummary } from './check-health.js'

/** The table where migrations are recorded. */
export const MIGRATIONS_TABLE = 'dbops_migrations'

/** A migration file found on disk. */
export interface MigrationFile {
  version: string
  name: string
  file: string
}

/** `<version>_<name>.<sql|ts|js>`; a name without the numeric version is not a migration. */
const MIGRATION_FILE = /^(\d+)_(.+)\.(sql|ts|js)$/

/** Parses a migration file name, or undefined when it is not one (`README.md`, `x.d.ts`). */
export function parseMigrationFileName(file: string): MigrationFile | undefined {
  if (file.endsWith('.d.ts')) return undefined
  const match = MIGRATION_FILE.exec(file)
  return match ? { version: match[1]!, name: match[2]!, file } : undefined
}

/** sha256 (hex) of a migration's text with line endings normalised to LF. */
export function migrationChecksum(text: string): string {
  return createHash('sha256').update(text.replaceAll('\r\n', '\n')).digest('hex')
}

function listMigrationFiles(dir: string): MigrationFile[] {
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new OperationError('MIGRATIONS_DIR_UNREADABLE', `Cannot read the migrations directory ${dir}: ${messageOf(err)}`, { cause: err })
  }
  return entries
    .map(parseMigrationFileName)
    .filter((m): m is MigrationFile => m !== undefined)
    .sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }))
}

/**
 * Compares the recorded migrations with the files: pending (a file not recorded), missing (a
 * record without its file), changed (checksum differs), dirty (`status = 'started'`).
 */
export async function readMigrationSummary(config: ResolvedConfig, context: HealthSourceContext): Promise<MigrationSummary> {
  const conn = context.conn
  const files = listMigrationFiles(config.migrationsDir)
  const catalog = await loadCatalog(conn.dialect.name)
  const tables = await catalog.tableNames(conn, { schema: config.schema })
  let rows: Array<{ version: unknown; name: string; checksum: string | null; status: string | null }> = []
  if (tables.includes(MIGRATIONS_TABLE)) {
    const db = conn.dialect.supportsSchemas ? conn.db.withSchema(config.schema) : conn.db
    rows = await db.selectFrom(MIGRATIONS_TABLE).select(['version', 'name', 'checksum', 'status']).execute()
  }
  const byVersion = new Map(files.map((f) => [f.version, f]))
  const recorded = new Set(rows.map((r) => String(r.version)))
  let changed = 0
  let missing = 0
  let dirty = 0
  let head: string | undefined
  let headVersion: string | undefined
  for (const row of rows) {
    const version = String(row.version)
    if (row.status === 'started') dirty++
    const file = byVersion.get(version)
    if (!file) {
      missing++
    } else if (row.checksum && migrationChecksum(fs.readFileSync(path.join(config.migrationsDir, file.file), 'utf8')) !== row.checksum) {
      changed++
    }
    if (row.status !== 'started' && (headVersion === undefined || version.localeCompare(headVersion, 'en', { numeric: true }) > 0)) {
      headVersion = version
      head = `${version}_${row.name}`
    }
  }
  return {
    applied: rows.length - dirty,
    pending: files.filter((f) => !recorded.has(f.version)).length,
    changed,
    missing,
    dirty,
    head,
  }
}
