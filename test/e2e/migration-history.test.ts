/**
 * Where the migration history lives, end to end: `DBOPS_MIGRATIONS_TABLE` / `migrations.table`,
 * the guard that stops every migrate command (exit 6) when the history is kept somewhere the
 * settings do not point, `--new-history`, and `schema diff --against migrations` replaying with
 * the history where the real database keeps it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, inject, onTestFinished, test } from 'vitest'
import pg from 'pg'
import { postgresMigrationLockKey } from '../../src/dialects/postgres/postgres-migration-lock.js'
import { type CliResult, runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { createTestDatabase } from '../support/postgres.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const [sqlite, postgres] = testDialects()

/** `migrations.table` as `config show --json` reports it: value, source, origin. */
async function historySetting(cli: (args: string[], env: Record<string, string>) => Promise<CliResult>, env: Record<string, string>) {
  const setting = (await cli(['config', 'show', '--json'], env)).json().settings.find((s: { key: string }) => s.key === 'migrations.table')
  return [setting.value, setting.source, setting.origin]
}

describe('postgres: the history table', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(postgres!)
    p.write('20250101000001_things.sql', sqlMigration('CREATE TABLE things (id integer);', 'DROP TABLE things;'))
    p.write('20250101000002_more.sql', sqlMigration('CREATE TABLE more_things (id integer);', 'DROP TABLE more_things;'))
  })
  afterEach(() => p.cleanup())

  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: p.dir, env: { DATABASE_URL: p.url, ...env } })
  const exists = async (qualified: string) =>
    (await p.query<{ found: string | null }>(`SELECT to_regclass('${qualified}')::text AS found`))[0]!.found !== null
  const schemaExists = async (name: string) => (await p.query(`SELECT 1 FROM pg_namespace WHERE nspname = '${name}'`)).length > 0

  test('migrated with the defaults, DATABASE_SCHEMA=app stops every migrate command (exit 6) naming the history; nothing is created or re-run', async () => {
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    const app = { DATABASE_SCHEMA: 'app' }

    const status = await cli(['migrate', 'status'], app)
    expect(status.code).toBe(6)
    expect(status.stderr).toContain(
      'error: The migration history is in public.dbops_migrations (2 rows), not in app.dbops_migrations, which does not exist',
    )
    expect(status.stderr).toContain('hint: Point dbops at it: DBOPS_MIGRATIONS_TABLE=public.dbops_migrations (or migrations.table')
    expect(status.stderr).toContain('--new-history')
    expect(status.stderr).not.toMatch(/\n\s+at /) // no stack trace

    const up = await cli(['migrate', 'up', '--json'], app)
    expect(up.code).toBe(6)
    expect(up.json().error).toMatchObject({
      code: 'HISTORY_ELSEWHERE',
      message: expect.stringContaining('public.dbops_migrations (2 rows)'),
    })
    expect(up.json().error.hint).toContain('DBOPS_MIGRATIONS_TABLE=public.dbops_migrations')

    for (const args of [
      ['migrate', 'up', '--dry-run'],
      ['migrate', 'down'],
      ['migrate', 'baseline', '--to', '20250101000001'],
      ['migrate', 'repair'],
    ]) {
      const refused = await cli([...args, '--json'], app)
      expect({ args, code: refused.code, error: refused.json().error.code }).toEqual({ args, code: 6, error: 'HISTORY_ELSEWHERE' })
    }
    expect(await schemaExists('app')).toBe(false) // no second history, no migration re-run into app
    expect(await p.rows()).toHaveLength(2)

    const health = await cli(['health', '--json'], app)
    expect(health.code).toBe(1)
    const migrations = health.json().components.find((c: { name: string }) => c.name === 'migrations')
    expect(migrations).toMatchObject({ status: 'fail', details: { error_code: 'HISTORY_ELSEWHERE' } })
    expect(migrations.details.hint).toContain('DBOPS_MIGRATIONS_TABLE=public.dbops_migrations')

    // the way out the hint names
    const pointed = await cli(['migrate', 'status', '--json', '--exit-code'], { ...app, DBOPS_MIGRATIONS_TABLE: 'public.dbops_migrations' })
    expect(pointed.code).toBe(0)
    expect(pointed.json().summary).toMatchObject({ applied: 2, pending: 0 })
  })

  test('DBOPS_MIGRATIONS_TABLE=app.history: up, status, down and config show use it; public stays untouched', async () => {
    const env = { DBOPS_MIGRATIONS_TABLE: 'app.history' }
    const up = await cli(['migrate', 'up'], env)
    expect(up.code).toBe(0)
    expect(await exists('app.history')).toBe(true)
    expect(await exists('public.dbops_migrations')).toBe(false)
    expect(await p.query('SELECT version FROM app.history ORDER BY version')).toEqual([
      { version: '20250101000001' },
      { version: '20250101000002' },
    ])
    expect(await exists('public.things')).toBe(true) // migrations still run in DATABASE_SCHEMA

    const status = await cli(['migrate', 'status', '--json', '--exit-code'], env)
    expect(status.code).toBe(0)
    expect(status.json().summary).toMatchObject({ applied: 2, pending: 0 })
    const down = await cli(['migrate', 'down'], env)
    expect(down.code).toBe(0)
    expect(await p.query('SELECT version FROM app.history')).toEqual([{ version: '20250101000001' }])

    expect(await historySetting(cli, env)).toEqual(['app.history', 'env', 'DBOPS_MIGRATIONS_TABLE'])
    const text = await cli(['config', 'show'], env)
    expect(text.stdout).toMatch(/^migrations\.table +app\.history +DBOPS_MIGRATIONS_TABLE *$/m)
    // the lock is the table's: a run holding app.history's key makes this one wait (exit 5)
    const holder = new pg.Client({ connectionString: p.url, application_name: 'test-lock-holder' })
    await holder.connect()
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', postgresMigrationLockKey('app', 'history'))
      const waited = await cli(['migrate', 'up', '--lock-timeout', '0.5', '--json'], env)
      expect(waited.code).toBe(5)
      expect(waited.json().error.message).toContain('(history app.history): held by pid')
    } finally {
      await holder.end()
    }
    const byDefault = await cli(['config', 'show'], { DATABASE_SCHEMA: 'app' })
    expect(byDefault.stdout).toMatch(/^migrations\.table +app\.dbops_migrations +default \(dbops_migrations in DATABASE_SCHEMA\) *$/m)
  })

  test("a history under its own name in the compared schema is dbops' table: not pulled, never drift", async () => {
    const env = { DATABASE_SCHEMA: 'app', DBOPS_MIGRATIONS_TABLE: 'app.history' }
    expect((await cli(['migrate', 'up'], env)).code).toBe(0)
    expect((await cli(['schema', 'pull', '--out', 'models.ts'], env)).code).toBe(0)
    expect(fs.readFileSync(path.join(p.dir, 'models.ts'), 'utf8')).not.toContain('history')
    for (const against of ['live', 'migrations']) {
      const diff = await cli(['schema', 'diff', '--models', 'models.ts', '--against', against, '--exit-code'], env)
      expect({ against, code: diff.code, stdout: diff.stdout }).toEqual({
        against,
        code: 0,
        stdout: expect.stringMatching(/^No differences/),
      })
    }
  })

  test('migrations.table in the config file', async () => {
    fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ migrations: { table: 'ops.history' } }))
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    expect(await exists('ops.history')).toBe(true)
    expect(await exists('public.dbops_migrations')).toBe(false)
    expect(await historySetting(cli, {})).toEqual(['ops.history', 'config', 'dbops.config.json: migrations.table'])
    // the environment wins over the file: that history is empty while ops.history has rows
    const other = await cli(['migrate', 'status', '--json'], { DBOPS_MIGRATIONS_TABLE: 'public.dbops_migrations' })
    expect(other.code).toBe(6)
    expect(other.json().error.message).toContain('ops.history (2 rows)')
  })

  test('moving the history (docs): ALTER TABLE … SET SCHEMA, then DBOPS_MIGRATIONS_TABLE', async () => {
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    await p.query('CREATE SCHEMA app; ALTER TABLE public.dbops_migrations SET SCHEMA app;')
    const moved = { DBOPS_MIGRATIONS_TABLE: 'app.dbops_migrations' }
    const status = await cli(['migrate', 'status', '--json', '--exit-code'], moved)
    expect(status.code).toBe(0)
    expect(status.json().summary).toMatchObject({ applied: 2, pending: 0 })
    // the old default now finds nothing where it looks, and is told where the history went
    const old = await cli(['migrate', 'up', '--json'])
    expect(old.code).toBe(6)
    expect(old.json().error.hint).toContain('DBOPS_MIGRATIONS_TABLE=app.dbops_migrations')
    expect(await exists('public.dbops_migrations')).toBe(false)
  })

  test("dbmate's schema_migrations in another schema: exit 6 naming it and import-dbmate with the setting, which then adopts it", async () => {
    await p.query(
      "CREATE SCHEMA auth; CREATE TABLE auth.schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO auth.schema_migrations VALUES ('20250101000001'), ('20250101000002');",
    )
    const status = await cli(['migrate', 'status', '--json'])
    expect(status.code).toBe(6)
    expect(status.json().error.message).toContain("auth.schema_migrations (2 rows, dbmate's)")
    expect(status.json().error.hint).toContain('`DBOPS_MIGRATIONS_TABLE=auth.dbops_migrations dbops migrate import-dbmate`')
    expect((await cli(['migrate', 'up'])).code).toBe(6)
    expect(await exists('public.dbops_migrations')).toBe(false)

    const env = { DBOPS_MIGRATIONS_TABLE: 'auth.dbops_migrations' }
    expect((await cli(['migrate', 'import-dbmate'], env)).code).toBe(0)
    const adopted = await cli(['migrate', 'status', '--json', '--exit-code'], env)
    expect(adopted.code).toBe(0)
    expect(adopted.json().summary).toMatchObject({ applied: 2, pending: 0 })
  })

  test('--new-history starts a second history on purpose (up and baseline); without it, exit 6', async () => {
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    const second = { DBOPS_MIGRATIONS_TABLE: 'billing.dbops_migrations', DATABASE_SCHEMA: 'billing' }
    expect((await cli(['migrate', 'up'], second)).code).toBe(6)
    const up = await cli(['migrate', 'up', '--new-history'], second)
    expect(up.code).toBe(0)
    expect(await p.query('SELECT count(*)::int AS n FROM billing.dbops_migrations')).toEqual([{ n: 2 }])
    expect(await exists('billing.things')).toBe(true)
    // from then on that history has rows and is used as it is
    expect((await cli(['migrate', 'status', '--exit-code'], second)).code).toBe(0)

    const third = { DBOPS_MIGRATIONS_TABLE: 'audit.history' }
    expect((await cli(['migrate', 'baseline', '--to', '20250101000002'], third)).code).toBe(6)
    expect((await cli(['migrate', 'baseline', '--to', '20250101000002', '--new-history'], third)).code).toBe(0)
    expect(await p.query('SELECT count(*)::int AS n FROM audit.history')).toEqual([{ n: 2 }])
  })

  test('bad values: exit 2 naming the variable or key', async () => {
    for (const value of ['a.b.c', 'bad-name', 'app.', '  ']) {
      const bad = await cli(['migrate', 'status', '--json'], { DBOPS_MIGRATIONS_TABLE: value })
      expect({ value, code: bad.code }).toEqual({ value, code: 2 })
      expect(bad.json().error.message).toMatch(/^DBOPS_MIGRATIONS_TABLE /)
    }
    fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ migrations: { table: 5 } }))
    const file = await cli(['config', 'show'])
    expect(file.code).toBe(2)
    expect(file.stderr).toContain('error: dbops.config.json: migrations.table must be a string, got number')
  })

  test('schema diff --against migrations replays with the history where the database keeps it and the same search_path', async () => {
    fs.rmSync(p.migrationsDir, { recursive: true })
    fs.mkdirSync(p.migrationsDir)
    p.write(
      '20250101000001_app.sql',
      sqlMigration(
        "CREATE SCHEMA app;\nCREATE TYPE mood AS ENUM ('happy', 'sad');\nCREATE TABLE people (id integer PRIMARY KEY, feeling mood NOT NULL);",
      ),
    )
    const env = { DATABASE_SCHEMA: 'app', DBOPS_MIGRATIONS_TABLE: 'public.dbops_migrations' }
    expect((await cli(['migrate', 'up'], env)).code).toBe(0)
    expect(await exists('app.people')).toBe(true)
    expect((await cli(['schema', 'pull', '--out', 'models.ts'], env)).code).toBe(0)
    expect(fs.readFileSync(path.join(p.dir, 'models.ts'), 'utf8')).toContain("col.enum(['happy', 'sad'], { name: 'mood' })")
    const replayed = await cli(['schema', 'diff', '--models', 'models.ts', '--against', 'migrations', '--exit-code'], env)
    expect(replayed.stderr).toBe('')
    expect(replayed).toMatchObject({ code: 0, stdout: 'No differences: the migrations match models.ts.\n' })

    // SHADOW_DATABASE_URL is emptied of the history too, so the next replay runs every migration again
    const shadow = await createTestDatabase(inject('pgAdminUrl'))
    onTestFinished(() => shadow.drop())
    for (const round of [1, 2]) {
      const again = await cli(['schema', 'diff', '--models', 'models.ts', '--against', 'migrations', '--exit-code'], {
        ...env,
        SHADOW_DATABASE_URL: shadow.url,
      })
      expect({ round, code: again.code, stdout: again.stdout }).toEqual({
        round,
        code: 0,
        stdout: 'No differences: the migrations match models.ts.\n',
      })
    }
  })
})

describe('sqlite: the history table', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(sqlite!)
    p.write('20250101000001_things.sql', sqlMigration('CREATE TABLE things (id integer);', 'DROP TABLE things;'))
  })
  afterEach(() => p.cleanup())

  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: p.dir, env: { DATABASE_URL: p.url, ...env } })
  const tables = async () =>
    (await p.query<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).map((r) => r.name)

  test('DBOPS_MIGRATIONS_TABLE=history: up, status, down; main.history is the same table; a schema is exit 2', async () => {
    const env = { DBOPS_MIGRATIONS_TABLE: 'history' }
    expect((await cli(['migrate', 'up'], env)).code).toBe(0)
    expect(await tables()).toEqual(['history', 'things'])
    const pulled = await cli(['schema', 'pull', '--json'], env)
    expect(pulled.json().tables).toEqual(['things'])
    const status = await cli(['migrate', 'status', '--json', '--exit-code'], { DBOPS_MIGRATIONS_TABLE: 'main.history' })
    expect(status.code).toBe(0)
    expect(status.json().summary).toMatchObject({ applied: 1 })
    expect((await cli(['migrate', 'down'], env)).code).toBe(0)
    expect(await tables()).toEqual(['history'])
    expect(await historySetting(cli, env)).toEqual(['history', 'env', 'DBOPS_MIGRATIONS_TABLE'])

    const schema = await cli(['migrate', 'status', '--json'], { DBOPS_MIGRATIONS_TABLE: 'app.history' })
    expect(schema.code).toBe(2)
    expect(schema.json().error.message).toBe('DBOPS_MIGRATIONS_TABLE: SQLite has no schemas, got "app.history"')
  })

  test('the history under another name: exit 6 naming it; --new-history starts the configured one', async () => {
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    const env = { DBOPS_MIGRATIONS_TABLE: 'history' }
    const status = await cli(['migrate', 'status'], env)
    expect(status.code).toBe(6)
    expect(status.stderr).toContain('error: The migration history is in dbops_migrations (1 row), not in history, which does not exist')
    expect(status.stderr).toContain('DBOPS_MIGRATIONS_TABLE=dbops_migrations')
    expect((await cli(['migrate', 'up'], env)).code).toBe(6)
    expect(await tables()).toEqual(['dbops_migrations', 'things'])

    // dbmate's table beside the configured one: adopted as before, with the same setting
    await p.query('CREATE TABLE schema_migrations (version text PRIMARY KEY)')
    await p.query("INSERT INTO schema_migrations VALUES ('20250101000001')")
    await p.query('DROP TABLE dbops_migrations')
    const dbmate = await cli(['migrate', 'up', '--json'], env)
    expect(dbmate.code).toBe(6)
    expect(dbmate.json().error.code).toBe('DBMATE_MANAGED')
    expect(await tables()).toEqual(['schema_migrations', 'things'])

    const fresh = await cli(['migrate', 'baseline', '--to', '20250101000001', '--new-history'], env)
    expect(fresh.code).toBe(0)
    expect(await p.query('SELECT version FROM history')).toEqual([{ version: '20250101000001' }])
  })
})
