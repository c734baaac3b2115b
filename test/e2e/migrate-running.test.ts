/**
 * A non-transactional migration that another process is applying right now: `migrate status`
 * and `health` read its `started` row without the lock, and must report it `running`, with the
 * run that holds the migration lock, not `dirty`. Once no run holds the lock (the run was
 * killed), the same row is dirty.
 *
 * The migration is gated, not timed: it waits for a file the test writes.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { runCli, startCli, waitFor } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, gatedMigration, sqlMigration } from '../support/migrations.js'

for (const dialect of testDialects()) {
  describe(`${dialect.name}: a migration another run is applying right now`, () => {
    let p: MigrationProject
    const started: Array<ReturnType<typeof startCli>> = []
    beforeEach(async () => {
      p = await createMigrationProject(dialect)
      p.write('20250101000001_gated.ts', gatedMigration(p.dir, 'gated', false))
      p.write('20250101000002_after.sql', sqlMigration('INSERT INTO gated (pid) VALUES (0);'))
    })
    afterEach(async () => {
      for (const run of started.splice(0)) if (!run.exited()) run.child().kill('SIGKILL')
      await p.cleanup()
    })
    const cli = (args: string[]) => runCli(args, { cwd: p.dir, env: { DATABASE_URL: p.url } })
    /** Starts `migrate up` and waits until it is inside the gated migration. */
    const startGatedUp = async () => {
      const run = startCli(['migrate', 'up'], { cwd: p.dir, env: { DATABASE_URL: p.url }, timeoutMs: 60_000 })
      run.done.catch(() => undefined)
      started.push(run)
      await waitFor('the run to be inside the gated migration', () => fs.existsSync(path.join(p.dir, 'running')) || run.exited())
      return run
    }
    /** The pid that holds the migration lock: the dbops process (SQLite), its server backend (PostgreSQL). */
    const lockHolderPid = async (run: ReturnType<typeof startCli>): Promise<number | undefined> => {
      if (dialect.name === 'sqlite') return run.exited() ? undefined : run.child().pid
      const rows = await p.query<{ pid: number }>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      )
      return rows[0]?.pid
    }

    test('status (text, --json) and health show it running with the holder, exit 3, not dirty; applied once the run ends', async () => {
      const run = await startGatedUp()
      const pid = await lockHolderPid(run)
      expect(pid).toEqual(expect.any(Number))

      const text = await cli(['migrate', 'status', '--exit-code'])
      expect(text.code, text.stderr).toBe(3)
      expect(text.stdout).toMatch(new RegExp(`20250101000001_gated\\.ts\\s+running \\(pid ${pid}, since \\d{4}-\\d\\d-\\d\\d `))
      expect(text.stdout).toContain('0 applied, 1 pending, 1 running; head empty.')
      expect(text.stdout).not.toContain('dirty')

      const json = await cli(['migrate', 'status', '--exit-code', '--json'])
      expect(json.code, json.stderr).toBe(3)
      const report = json.json()
      expect(report.migrations.map((m: { status: string }) => m.status)).toEqual(['running', 'pending'])
      expect(report.summary).toMatchObject({ applied: 0, pending: 1, running: 1, dirty: 0 })
      expect(report.running_by).toMatchObject({ pid, since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
      expect(report.problems).toEqual([])
      expect(report.exit_code).toBe(3)

      const health = await cli(['health', '--json'])
      expect(health.code, health.stderr).toBe(3)
      const migrations = health.json().components.find((c: { name: string }) => c.name === 'migrations')
      expect(migrations).toMatchObject({ status: 'warn', details: { running: 1, dirty: 0, running_by: { pid } } })

      fs.writeFileSync(path.join(p.dir, 'go'), '')
      const done = await run.done
      expect(done.code, done.stderr).toBe(0)
      const after = await cli(['migrate', 'status', '--exit-code', '--json'])
      expect(after.code, after.stderr).toBe(0)
      expect(after.json().migrations.map((m: { status: string }) => m.status)).toEqual(['applied', 'applied'])
      expect(after.json().running_by).toBeNull()
    })

    test('a run killed mid-migration leaves it dirty: status says dirty (exit 6), not running', async () => {
      const run = await startGatedUp()
      run.child().kill('SIGKILL')
      expect((await run.done).signal).toBe('SIGKILL')
      // PostgreSQL: the killed client's backend ends, and its advisory lock with it, a moment later
      await waitFor('the lock to be released', async () => (await lockHolderPid(run)) === undefined)

      const text = await cli(['migrate', 'status', '--exit-code'])
      expect(text.code, text.stderr).toBe(6)
      expect(text.stdout).toMatch(/20250101000001_gated\.ts\s+dirty/)
      expect(text.stdout).not.toContain('running')
      const json = await cli(['migrate', 'status', '--exit-code', '--json'])
      expect(json.code, json.stderr).toBe(6)
      expect(json.json()).toMatchObject({ summary: { dirty: 1, running: 0 }, running_by: null, exit_code: 6 })
      expect(json.json().migrations[0].status).toBe('dirty')
    })
  })
}
