/**
 * `dbops migrate …` end to end: the built CLI against real SQLite files and the test
 * PostgreSQL. Concurrency, crashes, signals and lock timeouts are exercised with real
 * processes; exit codes are checked with and without --json.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresMigrationLockKey } from '../../src/dialects/postgres/postgres-migration-lock.js'
import { type CliResult, makeTempDir, repoRoot, runCli, startCli, waitFor } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { readMarkdown } from '../support/markdown.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

/** A statement that keeps the database busy for a while, per dialect. */
function slowStatement(dialect: string, seconds: number): string {
  return dialect === 'postgres'
    ? `SELECT pg_sleep(${seconds});`
    : `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${Math.round(seconds * 1_500_000)}) SELECT count(*) FROM c;`
}

/**
 * The set-up line of the README's "Quick start" (`npm install && npx dbops …`), read from the
 * README so the test runs what it says: `npm install` is checked for and not run (the tests
 * run the built CLI), and the dbops arguments are returned.
 */
function quickStartArgs(): string[] {
  const readme = readMarkdown('README.md')
  const start = readme.headings.find((heading) => heading.text === 'Quick start')!
  const block = readme.blocks.find((b) => b.line > start.line && b.info === 'sh')!
  const steps = block.lines[0]!.split('&&').map((step) => step.trim())
  expect(steps[0]).toBe('npm install')
  expect(steps).toHaveLength(2)
  expect(steps[1]).toMatch(/^npx dbops /)
  return steps[1]!.split(/\s+/).slice(2)
}

describe('quick start (README): npx dbops migrate up with no configuration', () => {
  test('applies the example migrations to ./data/app.db, and status agrees', async () => {
    const tmp = makeTempDir()
    try {
      fs.cpSync(path.join(repoRoot, 'migrations'), path.join(tmp.dir, 'migrations'), {
        recursive: true,
      })
      const args = quickStartArgs()
      expect(args).toEqual(['migrate', 'up'])
      const up = await runCli(args, { cwd: tmp.dir })
      for (const name of ['create_users', 'create_posts', 'create_personas', 'create_sessions', 'create_api_keys', 'create_audit_logs']) {
        expect(up.stderr).toMatch(new RegExp(`^applied \\d{14}_${name}\\.sql \\(\\d+(\\.\\d)? ms\\)$`, 'm'))
      }
      expect(up.code).toBe(0)
      expect(up.stdout).toMatch(/^Applied 6 migrations in \d+(\.\d)? ms; head is 20250101120500\.\n$/)
      expect(up.stderr.trim().split('\n')).toHaveLength(6)
      expect(fs.existsSync(path.join(tmp.dir, 'data', 'app.db'))).toBe(true)

      const status = await runCli(['migrate', 'status', '--json', '--exit-code'], { cwd: tmp.dir })
      expect(status.code).toBe(0)
      expect(status.json()).toMatchObject({
        head: '20250101120500',
        summary: { applied: 6, pending: 0 },
        exit_code: 0,
      })
      const db = new Database(path.join(tmp.dir, 'data', 'app.db'), { readonly: true })
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>
      db.close()
      expect(tables.map((t) => t.name)).toEqual(['api_keys', 'audit_logs', 'dbops_migrations', 'personas', 'posts', 'sessions', 'users'])

      const down = await runCli(['migrate', 'down', '--to', '0'], { cwd: tmp.dir })
      expect(down.code).toBe(0)
      expect(down.stdout).toMatch(/^Rolled back 6 migrations/)
    } finally {
      tmp.cleanup()
    }
  })

  test('--quiet (cron): a run that succeeds prints nothing; a failure still prints its error', async () => {
    const tmp = makeTempDir()
    try {
      fs.cpSync(path.join(repoRoot, 'migrations'), path.join(tmp.dir, 'migrations'), { recursive: true })
      const up = await runCli(['migrate', 'up', '--quiet'], { cwd: tmp.dir })
      expect(up).toMatchObject({ code: 0, stdout: '', stderr: '' })
      const status = await runCli(['migrate', 'status', '-q', '--exit-code'], { cwd: tmp.dir })
      expect(status).toMatchObject({ code: 0, stdout: '', stderr: '' })
      fs.writeFileSync(path.join(tmp.dir, 'migrations', '20990101000000_broken.sql'), sqlMigration('CREATE TABLE;'))
      const failed = await runCli(['migrate', 'up', '-q'], { cwd: tmp.dir })
      expect(failed.code).toBe(1)
      expect(failed.stdout).toBe('')
      expect(failed.stderr).toMatch(/^error: Migration migrations\/20990101000000_broken\.sql \(up\) failed at line \d+/)
    } finally {
      tmp.cleanup()
    }
  })
})

describe('a .ts migration importing kysely, run by the built CLI', () => {
  test('its sql and schema builder run against the database; down undoes it', async () => {
    const tmp = makeTempDir()
    try {
      fs.mkdirSync(path.join(tmp.dir, 'migrations'))
      fs.writeFileSync(
        path.join(tmp.dir, 'migrations', '20250101000000_people.ts'),
        [
          "import { Kysely, sql } from 'kysely'",
          'export async function up(db: Kysely<any>) {',
          "  if (typeof Kysely !== 'function') throw new Error('no Kysely class')",
          "  await db.schema.createTable('people').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'text').execute()",
          "  await sql`INSERT INTO people (id, name) VALUES (${1}, ${'ada'})`.execute(db)",
          '}',
          "export async function down(db: Kysely<any>) { await db.schema.dropTable('people').execute() }",
          '',
        ].join('\n'),
      )
      const up = await runCli(['migrate', 'up'], { cwd: tmp.dir })
      expect(up.stderr).toMatch(/^applied 20250101000000_people\.ts/m)
      expect(up.code).toBe(0)
      const file = path.join(tmp.dir, 'data', 'app.db')
      let db = new Database(file, { readonly: true })
      expect(db.prepare('SELECT id, name FROM people').all()).toEqual([{ id: 1, name: 'ada' }])
      db.close()
      const down = await runCli(['migrate', 'down'], { cwd: tmp.dir })
      expect(down.code).toBe(0)
      db = new Database(file, { readonly: true })
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'people'").get()).toEqual({ n: 0 })
      db.close()
    } finally {
      tmp.cleanup()
    }
  })
})

describe('an unreadable migration file (SQLite; run as an unprivileged user, since root reads anything)', () => {
  test('is an error naming the file, exit 1, before anything is applied', async () => {
    const tmp = makeTempDir()
    try {
      fs.chmodSync(tmp.dir, 0o777)
      const migrations = path.join(tmp.dir, 'migrations')
      fs.mkdirSync(migrations, { mode: 0o755 })
      fs.writeFileSync(path.join(migrations, '20250101000001_a.sql'), sqlMigration('CREATE TABLE a (id integer);'), { mode: 0o644 })
      fs.writeFileSync(path.join(migrations, '20250101000002_secret.sql'), sqlMigration('CREATE TABLE b (id integer);'), { mode: 0o000 })
      for (const json of [false, true]) {
        const result = await runCli(['migrate', 'up', ...(json ? ['--json'] : [])], {
          cwd: tmp.dir,
          uid: 65534,
          gid: 65534,
        })
        expect(result.code).toBe(1)
        const message = json ? result.json().error.message : result.stderr
        expect(message).toContain('Cannot read migration migrations/20250101000002_secret.sql: EACCES: permission denied')
      }
      expect(fs.existsSync(path.join(tmp.dir, 'data', 'app.db'))).toBe(false)
    } finally {
      tmp.cleanup()
    }
  })
})

for (const dialect of testDialects()) {
  describe(`${dialect.name}: migrate CLI`, () => {
    let p: MigrationProject
    let env: Record<string, string>
    beforeEach(async () => {
      p = await createMigrationProject(dialect)
      env = { DATABASE_URL: p.url }
    })
    afterEach(async () => {
      await p.cleanup()
    })
    const cli = (args: string[], extra: Record<string, string> = {}, timeoutMs?: number) =>
      runCli(['migrate', ...args], { cwd: p.dir, env: { ...env, ...extra }, timeoutMs })

    test('exit codes with and without --json: status 3/6/0, a failing migration 1 (with a GitHub annotation), usage 2', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      expect((await cli(['status', '--exit-code'])).code).toBe(3)

      p.write('20250101000002_bad.sql', '-- migrate:up\nCREATE TABLE b (id integer);\nINSERT INTO nowhere VALUES (1);\n')
      const failed = await cli(['up'], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: p.dir })
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain('applied 20250101000001_a.sql')
      expect(failed.stderr).toContain('error: Migration migrations/20250101000002_bad.sql (up) failed at line 3')
      expect(failed.stderr).toContain(
        'hint: Nothing of it was applied: it ran in one transaction. The migration before it in this run stays applied.',
      )
      expect(failed.stderr).toMatch(/^::error file=migrations\/20250101000002_bad\.sql,line=3,col=\d+,title=dbops migrate::Migration /m)
      expect(failed.stderr).not.toMatch(/\n\s+at /)

      const failedJson = await cli(['up', '--json'])
      expect(failedJson.code).toBe(1)
      const doc = failedJson.json()
      expect(doc.results).toEqual([expect.objectContaining({ name: '20250101000002_bad.sql', status: 'failed' })])
      expect(doc.error).toMatchObject({
        code: 'MIGRATION_FAILED',
        message: expect.stringContaining('failed at line 3'),
      })

      p.write('20250101000002_bad.sql', sqlMigration('CREATE TABLE b (id integer);'))
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer, edited integer);'))
      for (const json of [false, true]) {
        const refused = await cli(json ? ['up', '--json'] : ['up'])
        expect(refused.code).toBe(6)
        if (json) expect(refused.json().error).toMatchObject({ code: 'MIGRATION_CHANGED' })
        else
          expect(refused.stderr).toMatch(
            /^error: Applied migrations do not match migrations: changed since they were applied: 20250101000001_a\.sql\nhint: .*dbops migrate repair/m,
          )
      }
      const status = await cli(['status', '--exit-code', '--json'])
      expect(status.code).toBe(6)
      expect(status.json().problems[0]).toContain('changed since applied: 20250101000001_a.sql')

      const repair = await cli(['repair'])
      expect(repair.code).toBe(0)
      expect(repair.stdout).toContain('accepted 20250101000001_a.sql as it is now')

      const usage = await cli(['up', '--to', 'x', '--step', '1', '--json'])
      expect(usage.code).toBe(2)
      expect(usage.json().error.code).toBe('USAGE')
    })

    test('8 concurrent runs with 20 pending migrations: all wait, all exit 0, each migration applied once', async () => {
      p.write('20250101000000_log.sql', sqlMigration('CREATE TABLE applied_log (n integer NOT NULL);'))
      for (let i = 1; i <= 20; i++) {
        const version = `202501010000${String(i).padStart(2, '0')}`
        p.write(
          `${version}_m${i}.sql`,
          sqlMigration(`CREATE TABLE t${i} (id integer PRIMARY KEY);\nINSERT INTO applied_log (n) VALUES (${i});`),
        )
      }
      const release = await holdMigrationLock(p)
      const runs = Array.from({ length: 8 }, () =>
        startCli(['migrate', 'up', '--lock-timeout', '60'], { cwd: p.dir, env, timeoutMs: 60_000 }),
      )
      let results: CliResult[]
      try {
        await waitFor(
          'all 8 runs to wait for the lock',
          () => runs.every((r) => r.stderr().includes('waiting for the migration lock')),
          30_000,
        )
      } finally {
        await release()
        results = await Promise.all(runs.map((r) => r.done))
      }
      for (const result of results) expect(result.code, result.stderr).toBe(0)
      const log = await p.query<{ n: number }>('SELECT n FROM applied_log ORDER BY n')
      expect(log.map((r) => Number(r.n))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
      expect(await p.rows()).toHaveLength(21)
      const appliedLines = results.flatMap((r) => r.stderr.split('\n').filter((l) => l.startsWith('applied ')))
      expect(appliedLines).toHaveLength(21)
    })

    test('SIGKILL during a slow migration: nothing of it remains, the lock is free, the next up completes', async () => {
      p.write('20250101000001_fast.sql', sqlMigration('CREATE TABLE fast (id integer);'))
      const slow = p.write('20250101000002_slow.sql', sqlMigration(`CREATE TABLE slow (id integer);\n${slowStatement(dialect.name, 60)}`))
      const run = startCli(['migrate', 'up'], { cwd: p.dir, env, timeoutMs: 60_000 })
      await waitUntilRunning(p, run, '20250101000002_slow.sql')
      run.child().kill('SIGKILL')
      const result = await run.done
      expect(result.signal).toBe('SIGKILL')
      await waitFor('the migration lock to be free', () => lockIsFree(p))
      expect(await p.tables()).toEqual(['fast'])
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
      fs.writeFileSync(slow, sqlMigration('CREATE TABLE slow (id integer);'))
      const next = await runCli(['migrate', 'up'], { cwd: p.dir, env })
      expect(next.code, next.stderr).toBe(0)
      expect(await p.tables()).toEqual(['fast', 'slow'])
    })

    test('SIGINT during a slow migration: rolled back, exit 130, says what was and was not applied', async () => {
      p.write('20250101000001_fast.sql', sqlMigration('CREATE TABLE fast (id integer);'))
      p.write(
        '20250101000002_slow.sql',
        sqlMigration(
          `CREATE TABLE slow (id integer);\n${slowStatement(dialect.name, dialect.name === 'postgres' ? 60 : 10)}\nCREATE TABLE after_slow (id integer);`,
        ),
      )
      p.write('20250101000003_later.sql', sqlMigration('CREATE TABLE later (id integer);'))
      const run = startCli(['migrate', 'up'], { cwd: p.dir, env, timeoutMs: 60_000 })
      await waitUntilRunning(p, run, '20250101000002_slow.sql')
      const sentAt = Date.now()
      run.child().kill('SIGINT')
      const result = await run.done
      expect(result.code).toBe(130)
      if (dialect.name === 'postgres') expect(Date.now() - sentAt).toBeLessThan(10_000) // cancelled, not waited out
      expect(result.stderr).toContain(
        'error: Interrupted by SIGINT while running migrations/20250101000002_slow.sql; it was rolled back, nothing of it remains. ' +
          'Applied in this run: 20250101000001_fast.sql. Not applied: 20250101000002_slow.sql, 20250101000003_later.sql.',
      )
      expect(await p.tables()).toEqual(['fast'])
      expect(await lockIsFree(p)).toBe(true)
    })

    if (dialect.name === 'postgres') {
      test('SIGTERM cancels the running statement and exits 143', async () => {
        p.write('20250101000001_slow.sql', sqlMigration(`CREATE TABLE slow (id integer);\n${slowStatement(dialect.name, 60)}`))
        const run = startCli(['migrate', 'up', '--json'], { cwd: p.dir, env, timeoutMs: 60_000 })
        await waitUntilRunning(p, run, '20250101000001_slow.sql')
        run.child().kill('SIGTERM')
        const result = await run.done
        expect(result.code).toBe(143)
        expect(result.json().error).toMatchObject({
          code: 'INTERRUPTED',
          message: expect.stringContaining('Interrupted by SIGTERM while running migrations/20250101000001_slow.sql'),
        })
        expect(await p.tables()).toEqual([])
      })
    }

    test('a transaction:false migration killed midway is dirty: up exits 6, repair clears it', async () => {
      const file = p.write(
        '20250101000001_nontx.sql',
        sqlMigration(
          `CREATE TABLE nt_one (id integer);\n${slowStatement(dialect.name, 60)}\nCREATE TABLE nt_two (id integer);`,
          undefined,
          'transaction:false',
        ),
      )
      const run = startCli(['migrate', 'up'], { cwd: p.dir, env, timeoutMs: 60_000 })
      await waitUntilRunning(p, run, '20250101000001_nontx.sql', true)
      run.child().kill('SIGKILL')
      await run.done
      await waitFor('the migration lock to be free', () => lockIsFree(p))
      expect((await p.rows()).map((r) => r.status)).toEqual(['started'])

      for (const json of [false, true]) {
        const refused = await cli(json ? ['up', '--json'] : ['up'])
        expect(refused.code).toBe(6)
        if (json) expect(refused.json().error.code).toBe('MIGRATION_DIRTY')
        else
          expect(refused.stderr).toContain(
            'error: Migration 20250101000001_nontx.sql is dirty: it ran outside a transaction and did not finish',
          )
      }
      const status = await cli(['status', '--json'])
      expect(status.json().migrations[0]).toMatchObject({ status: 'dirty' })

      const repair = await cli(['repair', '20250101000001_nontx.sql'])
      expect(repair.code).toBe(0)
      expect(repair.stdout).toContain('cleared the dirty record of 20250101000001_nontx.sql; it is pending again')
      fs.writeFileSync(
        file,
        sqlMigration('CREATE TABLE IF NOT EXISTS nt_one (id integer);\nCREATE TABLE nt_two (id integer);', undefined, 'transaction:false'),
      )
      expect((await cli(['up'])).code).toBe(0)
      expect(await p.tables()).toEqual(['nt_one', 'nt_two'])
    })

    test('a lock timeout exits 5 and names the holder and how to end it', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      const release = await holdMigrationLock(p)
      try {
        for (const json of [false, true]) {
          const result = await cli(['up', '--lock-timeout', '0.5', ...(json ? ['--json'] : [])])
          expect(result.code).toBe(5)
          if (dialect.name === 'postgres') {
            const pid = (await p.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'test-lock-holder'"))[0]!
              .pid
            const text = json ? `${result.json().error.message} ${result.json().error.hint}` : result.stderr
            expect(text).toContain(`held by pid ${pid} (application "test-lock-holder", client 127.0.0.1, connected since `)
            expect(text).toContain(`SELECT pg_terminate_backend(${pid});`)
          } else {
            const text = json ? `${result.json().error.message} ${result.json().error.hint}` : result.stderr
            expect(text).toContain(`Timed out after 0.5 s waiting for the write lock on SQLite file`)
            expect(text).toContain(`pid ${process.pid} (`)
          }
          if (json) expect(result.json().error.code).toBe('LOCK_TIMEOUT')
        }
        const waiting = startCli(['migrate', 'up', '--lock-timeout', '30'], { cwd: p.dir, env })
        await waitFor('the run to wait for the lock', () => waiting.stderr().includes('waiting for the migration lock'))
        waiting.child().kill('SIGINT')
        const interrupted = await waiting.done
        expect(interrupted.code).toBe(130)
        expect(interrupted.stderr).toContain(
          'error: Interrupted by SIGINT while waiting for the migration lock; nothing was applied or changed.',
        )
      } finally {
        await release()
      }
      expect(await p.rows()).toEqual([])
    })

    test('generate writes a template that up applies; --all runs each configured database', async () => {
      const generated = await cli(['generate', 'add widgets', '--json'])
      expect(generated.code).toBe(0)
      const { name } = generated.json()
      expect(name).toMatch(/^\d{14}_add_widgets\.sql$/)
      fs.writeFileSync(path.join(p.migrationsDir, name), sqlMigration('CREATE TABLE widgets (id integer);', 'DROP TABLE widgets;'))
      fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ databases: { main: { url: p.url } } }))
      const all = await runCli(['migrate', 'up', '--all', '--json'], { cwd: p.dir })
      expect(all.code).toBe(0)
      expect(all.json().databases).toEqual([
        expect.objectContaining({
          name: 'main',
          results: [expect.objectContaining({ name, status: 'applied' })],
        }),
      ])
      const status = await runCli(['migrate', 'status', '--all', '--exit-code'], { cwd: p.dir })
      expect(status.code).toBe(0)
      expect(status.stdout).toContain('== main')
    })
  })
}

/**
 * Holds what a migration run waits for: the advisory lock on PostgreSQL (from a session
 * named `test-lock-holder`), the write lock on SQLite. Returns the release.
 */
async function holdMigrationLock(p: MigrationProject): Promise<() => Promise<void>> {
  if (p.dialect === 'postgres') {
    const client = new pg.Client({ connectionString: p.url, application_name: 'test-lock-holder' })
    await client.connect()
    await client.query('SELECT pg_advisory_lock($1, $2)', postgresMigrationLockKey('public'))
    return async () => {
      await client.end()
    }
  }
  const file = (await p.config()).target
  const db = new Database(file.dialect === 'sqlite' ? file.path : '')
  db.pragma('journal_mode = WAL')
  db.exec('BEGIN IMMEDIATE')
  return async () => {
    db.exec('ROLLBACK')
    db.close()
  }
}

/** Whether nobody holds the migration lock (PostgreSQL: pg_locks; SQLite: BEGIN IMMEDIATE succeeds at once). */
async function lockIsFree(p: MigrationProject): Promise<boolean> {
  if (p.dialect === 'postgres') {
    const [a, b] = postgresMigrationLockKey('public')
    const rows = await p.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = ${a >>> 0} AND objid::bigint = ${b >>> 0} AND objsubid = 2` +
        // this test's database only: other tests on the server take the same key in theirs
        ' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())',
    )
    return rows.length === 0
  }
  const file = (await p.config()).target
  const db = new Database(file.dialect === 'sqlite' ? file.path : '', { timeout: 0 })
  try {
    db.exec('BEGIN IMMEDIATE')
    db.exec('ROLLBACK')
    return true
  } catch {
    return false
  } finally {
    db.close()
  }
}

/**
 * Waits until the run is inside `name`'s slow statement: on PostgreSQL, pg_stat_activity
 * shows it; on SQLite, the run has printed the migration before it (or, for the first
 * migration, its `started` row is committed) and a moment has passed.
 */
async function waitUntilRunning(p: MigrationProject, run: ReturnType<typeof startCli>, name: string, first = false): Promise<void> {
  if (p.dialect === 'postgres') {
    await waitFor(`${name} to be running`, async () => {
      const rows = await p.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'dbops/migrate up' AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
      )
      return rows.length > 0
    })
    return
  }
  if (first) {
    await waitFor(`${name} to be started`, async () => (await p.rows()).length > 0)
  } else {
    await waitFor(`the migration before ${name} to be applied`, () => run.stderr().includes('applied '))
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
}
