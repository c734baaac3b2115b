/** The pure parts of fleets: the worst exit code, globs, the passfile, the runner's order and stops. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import type { PostgresTarget } from '../../src/config/database-url.js'
import type { ResolvedConfig } from '../../src/config/resolve-config.js'
import { LockTimeoutError, OperationError } from '../../src/errors.js'
import { findPassword, readPassfile } from '../../src/fleet/passfile.js'
import { runFleet, worstExitCode } from '../../src/fleet/run-fleet.js'
import { globMatcher } from '../../src/migrate/history-guard.js'

describe('worstExitCode', () => {
  test.each([
    { codes: [], worst: 0 },
    { codes: [0, 3, 0], worst: 3 },
    { codes: [3, 4, 5], worst: 5 },
    { codes: [5, 1, 4], worst: 1 },
    { codes: [1, 7], worst: 7 },
    { codes: [7, 6], worst: 6 },
    { codes: [6, 130, 1], worst: 130 },
  ])('$codes → $worst', ({ codes, worst }) => expect(worstExitCode(codes)).toBe(worst))
})

describe('globMatcher', () => {
  test.each([
    { glob: 'tenant_*', name: 'tenant_1', matches: true },
    { glob: 'tenant_*', name: 'old_tenant_1', matches: false },
    { glob: 'tenant_?', name: 'tenant_12', matches: false },
    { glob: 't.x', name: 'tax', matches: false },
    { glob: 'a,b_*', name: 'b_1', matches: true },
    { glob: 'a,b_*', name: 'ab', matches: false },
  ])('$glob ~ $name: $matches', ({ glob, name, matches }) => expect(globMatcher(glob)(name)).toBe(matches))
})

describe('passfile', () => {
  test('first matching line wins; * matches anything; \\: escapes; comments and short lines skipped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-passfile-'))
    const file = path.join(dir, 'pgpass')
    fs.writeFileSync(file, '# comment\nbroken:line\ndb1:5432:t1:app:one\n*:*:*:app:p\\:w\\\\d\n')
    const entries = readPassfile(file)
    const target = (host: string, database: string): PostgresTarget => ({
      dialect: 'postgres',
      host,
      port: 5432,
      database,
      user: 'app',
      password: undefined,
      tls: {} as PostgresTarget['tls'],
    })
    expect(findPassword(entries, target('db1', 't1'))).toBe('one')
    expect(findPassword(entries, target('db2', 't9'))).toBe('p:w\\d')
    expect(findPassword(entries, { ...target('db1', 't1'), user: 'other' })).toBeUndefined()
    fs.rmSync(dir, { recursive: true })
    expect(() => readPassfile(file)).toThrow(/Cannot read the password file/)
  })
})

describe('runFleet', () => {
  const targets = ['a', 'b', 'c', 'd', 'e'].map((label) => ({ label, config: {} as ResolvedConfig }))
  const failOn = (bad: string[]) => async (t: { label: string }) => {
    if (bad.includes(t.label)) throw new OperationError('X', `${t.label} failed`)
    return { exitCode: 0, failed: false, details: {} }
  }

  test('never more than `concurrency` at once; every target gets a row; one failure does not stop the rest', async () => {
    let running = 0
    let most = 0
    const run = await runFleet(
      targets,
      async (t) => {
        most = Math.max(most, ++running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        running--
        if (t.label === 'b') throw new LockTimeoutError('locked')
        return { exitCode: 0, failed: false, details: {} }
      },
      { concurrency: 2 },
    )
    expect(most).toBe(2)
    expect(run.rows.map((r) => r.status)).toEqual(['ok', 'failed', 'ok', 'ok', 'ok'])
    expect(run.exitCode).toBe(5)
  })

  test('--canary stops after a failing canary; --fail-fast after the first failure', async () => {
    const canary = await runFleet(targets, failOn(['b']), { concurrency: 4, canary: 2 })
    expect(canary.stopped).toBe('canary')
    expect(canary.rows.map((r) => r.status)).toEqual(['ok', 'failed', 'not_run', 'not_run', 'not_run'])
    const passed = await runFleet(targets, failOn(['d']), { concurrency: 1, canary: 2 })
    expect(passed.rows.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'failed', 'ok'])
    const fast = await runFleet(targets, failOn(['b']), { concurrency: 1, failFast: true })
    expect(fast.stopped).toBe('fail_fast')
    expect(fast.rows.map((r) => r.status)).toEqual(['ok', 'failed', 'not_run', 'not_run', 'not_run'])
    expect(fast.exitCode).toBe(1)
  })
})
