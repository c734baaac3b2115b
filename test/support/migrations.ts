/**
 * A project for migration tests: a fresh database of one dialect, a migrations directory
 * to write files into, the resolved config, and helpers to look at the database directly.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import { type ResolvedConfig, resolveConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import type { TestDialect } from './dialects.js'

/** A test project; `cleanup()` removes the database and the directory. */
export interface MigrationProject {
  dialect: TestDialect['name']
  url: string
  dir: string
  migrationsDir: string
  /** The config as the CLI would resolve it in `dir` with DATABASE_URL set (plus `env`). */
  config(env?: Record<string, string>): Promise<ResolvedConfig>
  /** Writes `migrations/<name>`. */
  write(name: string, content: string): string
  /** Runs SQL on the database and returns the rows. */
  query<T = Record<string, unknown>>(text: string): Promise<T[]>
  /** Tables of the application (dbops' and dbmate's excluded), sorted. */
  tables(): Promise<string[]>
  /** Rows of dbops_migrations, by version. */
  rows(): Promise<
    Array<{
      version: string
      name: string
      checksum: string
      status: string
      duration_ms: number | null
      dbops_version: string
    }>
  >
  cleanup(): Promise<void>
}

/** Creates a {@link MigrationProject} for `dialect`. */
export async function createMigrationProject(dialect: TestDialect): Promise<MigrationProject> {
  const database = await dialect.create()
  const migrationsDir = path.join(database.dir, 'migrations')
  fs.mkdirSync(migrationsDir)
  const config = (env: Record<string, string> = {}) => resolveConfig({ cwd: database.dir, env: { DATABASE_URL: database.url, ...env } })
  const query = async <T>(text: string): Promise<T[]> => {
    const c = await config()
    return usingDatabase(c, { mode: 'write', command: 'test' }, async (conn) => (await sql.raw<T>(text).execute(conn.db)).rows)
  }
  return {
    dialect: dialect.name,
    url: database.url,
    dir: database.dir,
    migrationsDir,
    config,
    write(name, content) {
      const file = path.join(migrationsDir, name)
      fs.writeFileSync(file, content)
      return file
    },
    query,
    async tables() {
      const rows =
        dialect.name === 'postgres'
          ? await query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
          : await query<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      return rows
        .map((r) => r.name)
        .filter((n) => n !== 'dbops_migrations' && n !== 'schema_migrations')
        .sort()
    },
    async rows() {
      const exists =
        dialect.name === 'postgres'
          ? (await query<{ t: string | null }>("SELECT to_regclass('public.dbops_migrations') AS t"))[0]?.t
          : (await query<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'dbops_migrations'"))[0]?.n
      if (!exists) return []
      return query('SELECT version, name, checksum, status, duration_ms, dbops_version FROM dbops_migrations ORDER BY version')
    },
    cleanup: () => database.cleanup(),
  }
}

/** `-- migrate:up` / `-- migrate:down` file content. */
export function sqlMigration(up: string, down?: string, options = ''): string {
  return `-- migrate:up${options ? ` ${options}` : ''}\n${up}\n${down === undefined ? '' : `\n-- migrate:down\n${down}\n`}`
}

/**
 * A .ts migration that creates `table` with this process's pid in it, writes `<dir>/running`,
 * then waits until `<dir>/go` exists. Non-transactional, its `started` row is committed while
 * it waits; transactional, it holds SQLite's write lock while it waits.
 */
export function gatedMigration(dir: string, table: string, transaction: boolean): string {
  return [
    "import fs from 'node:fs'",
    `export const transaction = ${transaction}`,
    'export async function up(db: any) {',
    `  await db.schema.createTable('${table}').addColumn('pid', 'integer').execute()`,
    `  await db.insertInto('${table}').values({ pid: process.pid }).execute()`,
    `  fs.writeFileSync(${JSON.stringify(path.join(dir, 'running'))}, String(process.pid))`,
    `  while (!fs.existsSync(${JSON.stringify(path.join(dir, 'go'))})) await new Promise((resolve) => setTimeout(resolve, 10))`,
    '}',
    `export async function down(db: any) { await db.schema.dropTable('${table}').execute() }`,
    '',
  ].join('\n')
}
