/**
 * Failing safely at apply time, on the real PostgreSQL: a transactional migration that hits
 * `lock_timeout` is retried with backoff (`--lock-retries`), and a failed `CREATE INDEX
 * CONCURRENTLY` leaves an INVALID index that `up`, `status` and `health` name with the
 * `DROP INDEX CONCURRENTLY` that clears it.
 */
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { runCli, startCli, waitFor } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const postgres = testDialects().find((d) => d.name === 'postgres')!

describe('postgres: failing safely at apply time', () => {
  let p: MigrationProject
  let holder: pg.Client | undefined
  beforeEach(async () => {
    p = await createMigrationProject(postgres)
  })
  afterEach(async () => {
    await holder?.end().catch(() => undefined)
    holder = undefined
    await p.cleanup()
  })
  const cli = (args: string[]) => runCli(args, { cwd: p.dir, env: { DATABASE_URL: p.url } })

  /** Applies a table `busy`, adds a pending migration that alters it, and locks `busy` from another connection. */
  const lockBusyTable = async () => {
    p.write('20250101000001_busy.sql', sqlMigration('CREATE TABLE busy (id integer);'))
    expect((await cli(['migrate', 'up'])).code).toBe(0)
    p.write('20250101000002_alter.sql', sqlMigration('ALTER TABLE busy ADD COLUMN note text;'))
    holder = new pg.Client({ connectionString: p.url })
    await holder.connect()
    await holder.query('BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE')
  }

  describe('lock_timeout retries', () => {
    test('the lock released after the first attempt: up succeeds on a retry, printed on stderr', async () => {
      await lockBusyTable()
      const run = startCli(['migrate', 'up', '--statement-lock-timeout', '0.2', '--lock-retries', '3'], {
        cwd: p.dir,
        env: { DATABASE_URL: p.url },
      })
      await waitFor('the first retry', () => /retry/.test(run.stderr()) || run.exited())
      await holder!.query('ROLLBACK')
      const done = await run.done
      expect(done.code, done.stderr).toBe(0)
      expect(done.stderr).toMatch(
        /20250101000002_alter\.sql hit lock_timeout \(SQLSTATE 55P03\); it was rolled back, retry 1 of 3 in \d+ ms/,
      )
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001', '20250101000002'])
    })

    test('never released: N+1 attempts, then the lock timeout as before (exit 5), retries in JSON; the config key sets N', async () => {
      await lockBusyTable()
      const json = await cli(['migrate', 'up', '--statement-lock-timeout', '0.1', '--lock-retries', '2', '--json'])
      expect(json.code, json.stderr).toBe(5)
      const doc = json.json()
      expect(doc.error.code).toBe('STATEMENT_LOCK_TIMEOUT')
      expect(doc.error.message).toContain('gave up after 3 attempts')
      const alter = doc.results.find((r: { name: string }) => r.name === '20250101000002_alter.sql')
      expect(alter.status).toBe('failed')
      expect(alter.attempts).toBe(3)
      expect(alter.lock_retries).toEqual([
        { attempt: 1, delay_ms: expect.any(Number), sqlstate: '55P03', message: expect.stringContaining('lock timeout') },
        { attempt: 2, delay_ms: expect.any(Number), sqlstate: '55P03', message: expect.stringContaining('lock timeout') },
      ])

      fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ migrations: { lockRetries: 1 } }))
      const text = await cli(['migrate', 'up', '--statement-lock-timeout', '0.1'])
      expect(text.code).toBe(5)
      expect(text.stderr.match(/retry \d of \d/g)).toEqual(['retry 1 of 1'])
      expect(text.stderr).toContain('gave up after 2 attempts')
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
    })

    test('--lock-retries 0 does not retry; a non-transactional migration is never retried', async () => {
      await lockBusyTable()
      const none = await cli(['migrate', 'up', '--statement-lock-timeout', '0.1', '--lock-retries', '0'])
      expect(none.code).toBe(5)
      expect(none.stderr).not.toMatch(/retry/)
      expect(none.stderr).not.toContain('attempts')

      p.write('20250101000002_alter.sql', sqlMigration('ALTER TABLE busy ADD COLUMN note text;', undefined, 'transaction:false'))
      const outside = await cli(['migrate', 'up', '--statement-lock-timeout', '0.1', '--lock-retries', '3'])
      expect(outside.code).toBe(1)
      expect(outside.stderr).not.toMatch(/retry/)
      expect(outside.stderr).toContain('outside a transaction and is now dirty')
    })

    test('migrate down retries too (--lock-retries)', async () => {
      p.write('20250101000001_busy.sql', sqlMigration('CREATE TABLE busy (id integer);', 'DROP TABLE busy;'))
      expect((await cli(['migrate', 'up'])).code).toBe(0)
      holder = new pg.Client({ connectionString: p.url })
      await holder.connect()
      await holder.query('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE')
      const down = await cli(['migrate', 'down', '--statement-lock-timeout', '0.1', '--lock-retries', '1'])
      expect(down.code).toBe(5)
      expect(down.stderr).toContain('20250101000001_busy.sql hit lock_timeout (SQLSTATE 55P03); it was rolled back, retry 1 of 1')
      expect(down.stderr).toContain('gave up after 2 attempts')
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
    })

    test('SIGTERM during the backoff ends the run at once (143), nothing of the migration left', async () => {
      await lockBusyTable()
      const run = startCli(['migrate', 'up', '--statement-lock-timeout', '0.1', '--lock-retries', '8'], {
        cwd: p.dir,
        env: { DATABASE_URL: p.url },
      })
      await waitFor('the first retry', () => /retry 1 of 8/.test(run.stderr()) || run.exited())
      const signalled = Date.now()
      run.child().kill('SIGTERM')
      const done = await run.done
      expect(done.code, done.stderr).toBe(143)
      expect(Date.now() - signalled).toBeLessThan(3000)
      expect(done.stderr).toContain('Interrupted by SIGTERM')
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
    })
  })

  describe('invalid indexes left by CREATE INDEX CONCURRENTLY', () => {
    const failIndex = async () => {
      p.write('20250101000001_t.sql', sqlMigration("CREATE TABLE t (id integer, note text);\nINSERT INTO t VALUES (1, 'a'), (2, 'a');"))
      p.write(
        '20250101000002_index.sql',
        sqlMigration(
          'CREATE UNIQUE INDEX CONCURRENTLY t_note_key ON t (note);',
          'DROP INDEX CONCURRENTLY t_note_key;',
          'transaction:false',
        ),
      )
    }

    test('up names the invalid index and the DROP INDEX CONCURRENTLY that clears it (text, JSON)', async () => {
      await failIndex()
      const text = await cli(['migrate', 'up'])
      expect(text.code).toBe(1)
      expect(text.stderr).toContain('left the invalid index public.t_note_key behind')
      expect(text.stderr).toContain('DROP INDEX CONCURRENTLY public.t_note_key;')

      const status = await cli(['migrate', 'status', '--json'])
      expect(status.json().invalid_indexes).toEqual([
        {
          schema: 'public',
          name: 't_note_key',
          table: 't',
          migration: '20250101000002_index.sql',
          fix: 'DROP INDEX CONCURRENTLY public.t_note_key;',
        },
      ])
    })

    test('the failure in JSON carries the fix in its hint', async () => {
      await failIndex()
      const json = await cli(['migrate', 'up', '--json'])
      expect(json.code).toBe(1)
      const error = json.json().error
      expect(error.message).toContain('left the invalid index public.t_note_key behind')
      expect(error.hint).toContain('DROP INDEX CONCURRENTLY public.t_note_key;')
    })

    test('status lists invalid indexes of dbops migrations with the fix, --exit-code 6; health warns; gone once dropped', async () => {
      await failIndex()
      expect((await cli(['migrate', 'up'])).code).toBe(1)
      // repaired (the row forgotten), but the invalid index is still there
      expect((await cli(['migrate', 'repair', '20250101000002_index.sql', '--yes'])).code).toBe(0)
      // an invalid index no migration created is not dbops' business
      await expect(p.query('CREATE UNIQUE INDEX CONCURRENTLY by_hand_key ON t (note)')).rejects.toThrow(/could not create unique index/)
      expect(await p.query("SELECT 1 FROM pg_index WHERE indexrelid = 'by_hand_key'::regclass AND NOT indisvalid")).toHaveLength(1)

      const text = await cli(['migrate', 'status', '--exit-code'])
      expect(text.code, text.stderr).toBe(6)
      expect(text.stdout).toContain(
        'invalid index public.t_note_key (from 20250101000002_index.sql): run DROP INDEX CONCURRENTLY public.t_note_key;',
      )
      const json = await cli(['migrate', 'status', '--exit-code', '--json'])
      expect(json.code).toBe(6)
      expect(json.json().invalid_indexes).toHaveLength(1)
      expect(json.json().exit_code).toBe(6)

      const health = await cli(['health', '--json'])
      const migrations = health.json().components.find((c: { name: string }) => c.name === 'migrations')
      expect(migrations.status).toBe('warn')
      expect(migrations.details.invalid_indexes).toEqual(['public.t_note_key'])
      expect(migrations.details.hint).toContain('DROP INDEX CONCURRENTLY public.t_note_key;')

      await p.query('DROP INDEX CONCURRENTLY public.t_note_key')
      const after = await cli(['migrate', 'status', '--json'])
      expect(after.json().invalid_indexes).toEqual([])
    })
  })
})
