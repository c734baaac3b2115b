/**
 * `migrate generate NAME`: an empty, correctly versioned migration. The version is the
 * current UTC time as `YYYYMMDDHHMMSS`, or one more than the newest existing version if that
 * is not later (a clock behind, two files in one second), so the new file always sorts last.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, ExitCode, UsageError, messageOf } from '../errors.js'
import { writeFileAtomic } from '../project/scaffold-project.js'
import { compareVersions, discoverMigrations } from './discover-migrations.js'
import { displayPath } from './migration-runner.js'

/** Options of {@link generateMigration}. */
export interface GenerateOptions {
  /** Words for the file name: `add users` → `…_add_users.sql`. */
  name: string
  /** `sql` (dbmate format, the default) or `ts` (Kysely `up`/`down`). */
  kind?: 'sql' | 'ts'
  /** The file's content instead of the empty template (e.g. SQL generated from models). */
  content?: string
  /** The clock (tests). Default: now. */
  now?: Date
}

/** What {@link generateMigration} wrote. */
export interface GenerateResult {
  version: string
  name: string
  /** Path relative to the working directory. */
  path: string
}

const SQL_TEMPLATE = `-- migrate:up


-- migrate:down

`

const TS_TEMPLATE = `import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // await db.schema.createTable('things').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
  // await sql\`CREATE INDEX things_id_idx ON things (id)\`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  // await db.schema.dropTable('things').execute()
}
`

/** Turns words into a file-name part: lower case, `_` between words. */
export function slugifyMigrationName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 100)
}

/** `YYYYMMDDHHMMSS` in UTC. */
export function timestampVersion(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/**
 * Writes a new migration into the migrations directory (created when missing) and returns
 * where. Refuses an empty name (exit 2).
 *
 * @example
 * await generateMigration(config, { name: 'add users' }) // migrations/20250101120000_add_users.sql
 */
export async function generateMigration(config: ResolvedConfig, options: GenerateOptions): Promise<GenerateResult> {
  const slug = slugifyMigrationName(options.name)
  if (slug === '')
    throw new UsageError(`"${options.name}" is not usable as a migration name`, {
      hint: 'Use letters and digits, e.g. `dbops migrate generate add_users`.',
    })
  const dir = config.migrationsDir
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new DbopsError(
      'MIGRATIONS_DIR_UNWRITABLE',
      ExitCode.failed,
      `Cannot create the migrations directory ${displayPath(config, dir)}: ${messageOf(err)}`,
      { cause: err },
    )
  }
  const existing = discoverMigrations(dir, displayPath(config, dir)).files
  let version = timestampVersion(options.now ?? new Date())
  const newest = existing.at(-1)?.version
  if (newest !== undefined && compareVersions(version, newest) <= 0) version = (BigInt(newest) + 1n).toString().padStart(newest.length, '0')
  const kind = options.kind ?? 'sql'
  const name = `${version}_${slug}.${kind}`
  const file = path.join(dir, name)
  try {
    fs.writeFileSync(file, '', { flag: 'wx' }) // claim the name: never overwrite
    writeFileAtomic(file, options.content ?? (kind === 'sql' ? SQL_TEMPLATE : TS_TEMPLATE))
  } catch (err) {
    throw new DbopsError('MIGRATION_WRITE_FAILED', ExitCode.failed, `Cannot write ${displayPath(config, file)}: ${messageOf(err)}`, {
      cause: err,
    })
  }
  return { version, name, path: displayPath(config, file) }
}
