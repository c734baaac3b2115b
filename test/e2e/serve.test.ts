/**
 * `dbops serve` through the built CLI: it refuses to listen beyond loopback without a token
 * (exit 2, one line), and SIGTERM lets a request in flight finish before the pool closes and
 * the process exits 143, with one JSON log line per request on stderr and no password anywhere.
 */
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { expectOneLineError, runCli, startCli, waitFor } from '../support/cli.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'
import { configOf, seedTracks } from '../support/serve.js'

const { fresh, defer } = perTestCleanup()

describe('dbops serve (built CLI)', () => {
  test('--host 0.0.0.0 without DBOPS_SERVE_TOKEN: exit 2, one line naming the variable', async () => {
    const db = await fresh(testDialects()[0]!)
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { cwd: db.dir, env: { DATABASE_URL: db.url } })
    expect(result.code).toBe(2)
    expectOneLineError(result, /DBOPS_SERVE_TOKEN is not set/)
  })

  test('postgres: SIGTERM with a request in flight: it finishes (200), then the process exits 143', async () => {
    const db = await fresh(testDialects()[1]!)
    const config = await configOf(db.url, db.dir)
    await seedTracks(config, 3)
    const run = startCli(['serve', '--port', '0'], { cwd: db.dir, env: { DATABASE_URL: db.url }, timeoutMs: 30_000 })
    defer(() => {
      if (!run.exited()) run.child().kill('SIGKILL')
    })
    await waitFor('the server to listen', () => /listening on (http:\/\/\S+)/.test(run.stderr()) || run.exited())
    const base = /listening on (http:\/\/\S+)/.exec(run.stderr())![1]!

    // hold a lock the page's SELECT waits on, so the request is in flight when SIGTERM comes
    const blocker = new pg.Client({ connectionString: db.url })
    await blocker.connect()
    defer(() => blocker.end())
    // pg_stat_activity is a snapshot per transaction: watch from another session
    const watcher = new pg.Client({ connectionString: db.url })
    await watcher.connect()
    defer(() => watcher.end())
    await blocker.query('BEGIN')
    await blocker.query('LOCK TABLE tracks IN ACCESS EXCLUSIVE MODE')
    const inFlight = fetch(`${base}/api/v1/db/tables/tracks`)
    await waitFor('the page to wait on the lock', async () => {
      const waiting = await watcher.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'dbops/serve' AND wait_event_type = 'Lock'",
      )
      return waiting.rowCount === 1
    })
    run.child().kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(run.exited()).toBe(false)
    await blocker.query('COMMIT')

    const response = await inFlight
    expect(response.status).toBe(200)
    expect(((await response.json()) as { rows: unknown[] }).rows).toHaveLength(3)
    const result = await run.done
    expect(result.code).toBe(143)
    const logLines = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'request', url: '/api/v1/db/tables/tracks', status: 200 }))
    expect(result.stderr).not.toContain(new URL(db.url).password)
    // the pool is closed: no session of the server is left on the database
    await waitFor('the server sessions to end', async () => {
      const left = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'dbops/serve'")
      return left.rowCount === 0
    })
  })
})
