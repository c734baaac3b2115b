/**
 * SQLite's migration lock, end to end with real processes: one run at a time across processes
 * for the whole run (up, down), a waiter bounded by --lock-timeout and told which process holds
 * the lock, no stale lock after SIGKILL, and a database held in BEGIN EXCLUSIVE by another
 * process reported as a transient lock that names the writer.
 *
 * "Slow" migrations are gated, not timed: a .ts migration that waits for a file the test
 * writes, so each interleaving is forced rather than hoped for.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type CliResult, runCli, startCli, waitFor } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, gatedMigration, sqlMigration } from '../support/migrations.js'

const sqlite = testDialects().find((d) => d.name === 'sqlite')!

/** The SQLite file of a project. */
function dbFile(p: MigrationProject): string {
  return p.url.slice('sqlite:///'.length)
}

/** The error text of a run, with and without --json. */
function errorText(result: CliResult, json: boolean): string {
  if (!json) return result.stderr
  const { error } = result.json()
  return `${error.message}\nhint: ${error.hint}`
}

describe('SQLite: one migration run at a time, across processes', () => {
  let p: MigrationProject
  let env: Record<string, string>
  beforeEach(async () => {
    p = await createMigrationProject(sqlite)
    env = { DATABASE_URL: p.url }
  })
  const started: Array<ReturnType<typeof startCli>> = []
  afterEach(async () => {
    // a failed test leaves no run behind, gated or waiting
    for (const run of started.splice(0)) if (!run.exited()) run.child().kill('SIGKILL')
    await p.cleanup()
  })
  const running = () => path.join(p.dir, 'running')
  const go = () => fs.writeFileSync(path.join(p.dir, 'go'), '')
  const start = (args: string[]) => {
    const run = startCli(['migrate', ...args], { cwd: p.dir, env, timeoutMs: 60_000 })
    run.done.catch(() => undefined) // a hang is reported by the test that awaits it
    started.push(run)
    return run
  }
  /** Waits until `run` says it waits for the lock (or has exited, which the caller's assertions catch). */
  const waiting = (run: ReturnType<typeof startCli>) =>
    waitFor('the run to wait for the migration lock', () => run.stderr().includes('waiting for the migration lock') || run.exited())

  test('a second up waits for a run inside a slow transaction:false migration, then has nothing to do: never dirty, never ahead', async () => {
    p.write('20250101000001_gated.ts', gatedMigration(p.dir, 'gated', false))
    p.write('20250101000002_after.sql', sqlMigration('INSERT INTO gated (pid) VALUES (0);'))
    const first = start(['up'])
    await waitFor('the first run to be inside the gated migration', () => fs.existsSync(running()))
    const second = start(['up', '--lock-timeout', '30'])
    await waiting(second)
    expect(second.stderr()).toContain(`waiting for the migration lock held by pid ${first.child().pid} (`)
    go()
    const [a, b] = await Promise.all([first.done, second.done])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect(a.stderr).toMatch(/^applied 20250101000001_gated\.ts .*\napplied 20250101000002_after\.sql/m)
    expect(b.stderr).not.toMatch(/^applied /m)
    expect((await p.rows()).map((r) => [r.version, r.status])).toEqual([
      ['20250101000001', 'applied'],
      ['20250101000002', 'applied'],
    ])
    expect(await p.query('SELECT pid FROM gated ORDER BY pid')).toEqual([{ pid: 0 }, { pid: first.child().pid }])
  })

  test('down started during an up waits for the whole up, then rolls back its newest migration', async () => {
    p.write('20250101000001_base.sql', sqlMigration('CREATE TABLE base (id integer);', 'DROP TABLE base;'))
    expect((await runCli(['migrate', 'up'], { cwd: p.dir, env })).code).toBe(0)
    p.write('20250101000002_gated.ts', gatedMigration(p.dir, 'gated', false))
    p.write('20250101000003_last.sql', sqlMigration('CREATE TABLE last (id integer);', 'DROP TABLE last;'))
    const up = start(['up'])
    await waitFor('up to be inside the gated migration', () => fs.existsSync(running()))
    const down = start(['down', '--lock-timeout', '30'])
    await waiting(down)
    expect(down.stderr()).toContain(`waiting for the migration lock held by pid ${up.child().pid} (`)
    go()
    const [u, d] = await Promise.all([up.done, down.done])
    expect(u.code, u.stderr).toBe(0)
    expect(d.code, d.stderr).toBe(0)
    expect(d.stderr).toMatch(/^reverted 20250101000003_last\.sql/m)
    expect((await p.rows()).map((r) => [r.version, r.status])).toEqual([
      ['20250101000001', 'applied'],
      ['20250101000002', 'applied'],
    ])
    expect(await p.tables()).toEqual(['base', 'gated'])
  })

  test('a waiter times out after --lock-timeout with exit 5, naming the holding process, with and without --json; SIGINT ends the wait', async () => {
    p.write('20250101000001_gated.ts', gatedMigration(p.dir, 'gated', false))
    const holder = start(['up'])
    await waitFor('the holder to be inside the gated migration', () => fs.existsSync(running()))
    const pid = holder.child().pid
    try {
      for (const json of [false, true]) {
        const result = await runCli(['migrate', 'up', '--lock-timeout', '1', ...(json ? ['--json'] : [])], { cwd: p.dir, env })
        expect(result.code, result.stderr).toBe(5)
        if (json) expect(result.json().error.code).toBe('LOCK_TIMEOUT')
        const text = errorText(result, json)
        expect(text).toMatch(/Timed out after 1 s waiting for the migration lock of SQLite file .*app\.db: another dbops run holds it/)
        expect(text).toContain(`pid ${pid} (`)
        expect(text).toContain(`kill ${pid}`)
        expect(text).not.toMatch(/\n\s+at /)
      }
      // the wait is polled: a signal ends it at once
      const interrupted = start(['up', '--lock-timeout', '30'])
      await waiting(interrupted)
      interrupted.child().kill('SIGINT')
      const result = await interrupted.done
      expect(result.code).toBe(130)
      expect(result.stderr).toContain('error: Interrupted by SIGINT while waiting for the migration lock; nothing was applied or changed.')
    } finally {
      go()
    }
    expect((await holder.done).code).toBe(0)
    expect((await p.rows()).map((r) => r.status)).toEqual(['applied'])
  })

  test('SIGKILL of the holder frees the lock at once: its waiter proceeds, and a run with --lock-timeout 0 gets it', async () => {
    p.write('20250101000001_gated.ts', gatedMigration(p.dir, 'gated', true))
    const holder = start(['up'])
    await waitFor('the holder to be inside the gated migration', () => fs.existsSync(running()))
    const waiter = start(['up', '--lock-timeout', '30'])
    await waiting(waiter)
    expect(waiter.stderr()).toContain(`waiting for the migration lock held by pid ${holder.child().pid} (`)
    holder.child().kill('SIGKILL')
    expect((await holder.done).signal).toBe('SIGKILL')
    const killedAt = Date.now()
    go()
    const result = await waiter.done
    expect(result.code, result.stderr).toBe(0)
    expect(Date.now() - killedAt).toBeLessThan(5000) // not the 30 s lock timeout
    expect(await p.query('SELECT pid FROM gated')).toEqual([{ pid: waiter.child().pid }])
    const next = await runCli(['migrate', 'up', '--lock-timeout', '0'], { cwd: p.dir, env })
    expect(next.code, next.stderr).toBe(0)
  })

  test('a transaction:false migration after transactional ones waits the busy timeout for a writer, as its first would', async () => {
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    // outside a transaction: it writes running, waits for go, then writes while the test holds the write lock
    const body = [
      "import fs from 'node:fs'",
      'export const transaction = false',
      'export async function up(db: any) {',
      `  fs.writeFileSync(${JSON.stringify(running())}, '')`,
      `  while (!fs.existsSync(${JSON.stringify(path.join(p.dir, 'go'))})) await new Promise((resolve) => setTimeout(resolve, 10))`,
      '  await db.insertInto("a").values({ id: 1 }).execute()',
      '}',
      '',
    ].join('\n')
    p.write('20250101000002_b.ts', body)
    const run = start(['up'])
    await waitFor('the run to be inside the transaction:false migration', () => fs.existsSync(running()) || run.exited())
    const holder = new Database(dbFile(p))
    try {
      holder.exec('BEGIN IMMEDIATE')
      go()
      await new Promise((resolve) => setTimeout(resolve, 500))
      holder.exec('COMMIT')
    } finally {
      holder.close()
    }
    const result = await run.done
    expect(result.code, result.stderr).toBe(0)
    expect(await p.query('SELECT id FROM a')).toEqual([{ id: 1 }])
  })

  test('--lock-timeout 1 is honoured while another process holds the write lock: exit 5 after about 1 s, naming it', async () => {
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    expect((await runCli(['migrate', 'status'], { cwd: p.dir, env })).code).toBe(0)
    const holder = new Database(dbFile(p))
    holder.pragma('journal_mode = WAL')
    holder.exec('BEGIN IMMEDIATE')
    try {
      const started = Date.now()
      const result = await runCli(['migrate', 'up', '--lock-timeout', '1'], { cwd: p.dir, env })
      expect(Date.now() - started).toBeLessThan(4000) // 1 s, plus the CLI's start; it was 5.2 s (the busy timeout)
      expect(result.code, result.stderr).toBe(5)
      expect(result.stderr).toContain('Timed out after 1 s waiting for the write lock on SQLite file')
      expect(result.stderr).toContain(`held by pid ${process.pid} (`)

      const pool = await runCli(['pool', '--json'], { cwd: p.dir, env: { ...env, SQLITE_BUSY_TIMEOUT: '300' } })
      expect(pool.code, pool.stderr).toBe(3)
      expect(pool.json().server.details.write_lock.error).toContain(`another connection holds the write lock: pid ${process.pid} (`)
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    expect(await p.rows()).toEqual([])
  })

  test('load: 20 rounds of 8 concurrent ups, each round a transaction:false migration and one that needs it: 0 failures, 0 double applies', async () => {
    const rounds = 20
    const runsPerRound = 8
    p.write(
      '20250101000000_log.sql',
      sqlMigration('CREATE TABLE applied_log (round integer NOT NULL, step integer NOT NULL, pid integer NOT NULL);'),
    )
    const failures: string[] = []
    let appliedLines = 0
    const started = performance.now()
    for (let round = 1; round <= rounds; round++) {
      const version = String(20250102000000 + round * 10)
      p.write(
        `${version}_nontx_${round}.ts`,
        [
          'export const transaction = false',
          'export async function up(db: any) {',
          `  await db.insertInto('applied_log').values({ round: ${round}, step: 1, pid: process.pid }).execute()`,
          '  await new Promise((resolve) => setTimeout(resolve, 150))',
          `  await db.schema.createTable('t_${round}').addColumn('id', 'integer').execute()`,
          `  await db.insertInto('applied_log').values({ round: ${round}, step: 2, pid: process.pid }).execute()`,
          '}',
          '',
        ].join('\n'),
      )
      p.write(`${String(Number(version) + 1)}_after_${round}.sql`, sqlMigration(`INSERT INTO t_${round} (id) VALUES (${round});`))
      const results = await Promise.all(
        Array.from({ length: runsPerRound }, () =>
          runCli(['migrate', 'up', '--lock-timeout', '60'], { cwd: p.dir, env, timeoutMs: 90_000 }),
        ),
      )
      for (const r of results) if (r.code !== 0) failures.push(`round ${round}: exit ${r.code}: ${r.stderr.trim().split('\n').at(-2)}`)
      appliedLines += results.reduce((n, r) => n + r.stderr.split('\n').filter((l) => l.startsWith('applied ')).length, 0)
    }
    const seconds = (performance.now() - started) / 1000
    console.log(`load: ${rounds} rounds x ${runsPerRound} concurrent runs in ${seconds.toFixed(1)} s`)
    expect(failures).toEqual([])
    // each round: step 1 and 2 of its non-transactional migration, once, by one process
    const log = await p.query<{ round: number; steps: string; pids: number }>(
      'SELECT round, group_concat(step) AS steps, count(DISTINCT pid) AS pids FROM (SELECT * FROM applied_log ORDER BY round, step) GROUP BY round ORDER BY round',
    )
    expect(log).toEqual(Array.from({ length: rounds }, (_, i) => ({ round: i + 1, steps: '1,2', pids: 1 })))
    for (let round = 1; round <= rounds; round++) expect(await p.query(`SELECT id FROM t_${round}`)).toEqual([{ id: round }])
    expect(appliedLines).toBe(1 + 2 * rounds)
    expect((await p.rows()).every((r) => r.status === 'applied')).toBe(true)
  }, 600_000)
})

describe('SQLite: a database held in BEGIN EXCLUSIVE by another process (rollback journal)', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(sqlite)
  })
  afterEach(async () => {
    await p.cleanup()
  })

  test('a transient lock naming the writer: exit 4 (health, pool, inspect), exit 5 for migrate within --lock-timeout', async () => {
    const env = { DATABASE_URL: p.url, SQLITE_JOURNAL_MODE: 'DELETE', SQLITE_BUSY_TIMEOUT: '300' }
    const cli = (args: string[]) => runCli(args, { cwd: p.dir, env })
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
    const holder = new Database(dbFile(p))
    expect(holder.pragma('journal_mode', { simple: true })).toBe('delete')
    holder.exec('BEGIN EXCLUSIVE')
    const writer = `pid ${process.pid} (`
    try {
      const started = Date.now()
      const up = await cli(['migrate', 'up', '--lock-timeout', '1'])
      expect(up.code, up.stderr).toBe(5)
      expect(Date.now() - started).toBeLessThan(4000)
      expect(up.stderr).toMatch(
        /^error: SQLite file .*app\.db is locked: a writer holds it, pid \d+ \(.*\); still locked after 1 s\nhint: .*--lock-timeout/m,
      )
      expect(up.stderr).toContain(writer)

      const upJson = await cli(['migrate', 'up', '--json', '--lock-timeout', '0.5'])
      expect(upJson.code).toBe(5)
      expect(upJson.json().error).toMatchObject({ code: 'LOCK_TIMEOUT', message: expect.stringContaining('still locked after 0.5 s') })
      expect(upJson.json().error.message).toContain(writer)
      const status = await cli(['migrate', 'status', '--json'])
      expect(status.code).toBe(5)
      expect(status.json().error).toMatchObject({ code: 'LOCK_TIMEOUT', message: expect.stringContaining('still locked after 0.3 s') })

      const health = await cli(['health', '--json'])
      expect(health.code, health.stderr).toBe(4)
      expect(health.json().components[0].details).toMatchObject({ error_code: 'DB_LOCKED', error: expect.stringContaining(writer) })

      for (const json of [false, true]) {
        const pool = await cli(['pool', ...(json ? ['--json'] : [])])
        expect(pool.code, pool.stderr).toBe(4)
        if (json) expect(pool.json().error.code).toBe('DB_LOCKED')
        const text = errorText(pool, json)
        expect(text).toMatch(/SQLite file .*app\.db is locked: a writer holds it, pid \d+ \(/)
        expect(text).toContain(writer)
        expect(text).toContain('still locked after 0.3 s')
        expect(text).not.toMatch(/\n\s+at /)
      }

      const inspect = await cli(['inspect', 'tables'])
      expect(inspect.code, inspect.stderr).toBe(4)
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    const after = await cli(['migrate', 'up'])
    expect(after.code, after.stderr).toBe(0)
  })
})
