/**
 * The pure parts of the on-call commands: thresholds, the connection cap, percentiles,
 * `--where` / `--order` parsing, connect-step names, migration file names and checksums,
 * detail formatting and the exit code of a report.
 */
import { describe, expect, test } from 'vitest'
import { DbUnreachableError, AuthFailedError, DatabaseMissingError, UsageError } from '../../src/errors.js'
import { capConnections, percentile } from '../../src/health/check-pool.js'
import { healthExitCode } from '../../src/health/check-health.js'
import { connectStepOf } from '../../src/health/connect-step.js'
import { HEALTH_THRESHOLDS, resolveThresholds, thresholdEnvName } from '../../src/health/health-thresholds.js'
import { parseRowFilter, parseRowOrder, toJsonValue } from '../../src/inspect/inspect-rows.js'
import { checkName } from '../../src/inspect/check-name.js'
import { dialectTraits } from '../../src/dialects/index.js'
import { formatBytes, formatDetails, formatSeconds, truncate } from '../../src/ui/format-details.js'

describe('thresholds', () => {
  test('defaults when nothing is set', () => {
    const t = resolveThresholds([], {})
    expect(t.lock_wait_seconds).toBe(1)
    expect(Object.keys(t).sort()).toEqual(Object.keys(HEALTH_THRESHOLDS).sort())
  })

  test.each([
    { name: 'env', flags: [], env: { DBOPS_HEALTH_LOCK_WAIT_SECONDS: '5' }, expected: 5 },
    { name: 'flag', flags: ['lock_wait_seconds=2.5'], env: {}, expected: 2.5 },
    { name: 'flag wins over env', flags: ['lock_wait_seconds=3'], env: { DBOPS_HEALTH_LOCK_WAIT_SECONDS: '5' }, expected: 3 },
    { name: 'dashes in the name', flags: ['lock-wait-seconds=4'], env: {}, expected: 4 },
    { name: 'off', flags: ['lock_wait_seconds=off'], env: {}, expected: Number.POSITIVE_INFINITY },
    { name: 'empty env is unset', flags: [], env: { DBOPS_HEALTH_LOCK_WAIT_SECONDS: '' }, expected: 1 },
  ])('$name', ({ flags, env, expected }) => {
    expect(resolveThresholds(flags, env).lock_wait_seconds).toBe(expected)
  })

  test.each([
    { name: 'unknown name', flags: ['lock_wait=1'], env: {}, message: /unknown threshold "lock_wait"/ },
    { name: 'no value', flags: ['lock_wait_seconds'], env: {}, message: /expected NAME=VALUE/ },
    { name: 'not a number', flags: ['lock_wait_seconds=soon'], env: {}, message: /expected a number/ },
    { name: 'negative', flags: ['lock_wait_seconds=-1'], env: {}, message: /expected a number/ },
    { name: 'bad env', flags: [], env: { DBOPS_HEALTH_WAL_MB: 'big' }, message: /DBOPS_HEALTH_WAL_MB/ },
  ])('$name is a usage error', ({ flags, env, message }) => {
    expect(() => resolveThresholds(flags, env)).toThrow(UsageError)
    expect(() => resolveThresholds(flags, env)).toThrow(message)
  })

  test('env names', () => expect(thresholdEnvName('backup_age_hours')).toBe('DBOPS_HEALTH_BACKUP_AGE_HOURS'))
})

describe('connection cap', () => {
  test.each([
    { name: 'within the free slots', requested: 5, free: 20, force: false, connections: 5, capped: false },
    { name: 'capped: free + held - reserve', requested: 50, free: 9, force: false, connections: 7, capped: true },
    { name: 'never below the one already held', requested: 10, free: 1, force: false, connections: 1, capped: true },
    { name: 'force takes what was asked', requested: 50, free: 9, force: true, connections: 50, capped: false },
    { name: 'no server view (SQLite): no cap', requested: 4, free: undefined, force: false, connections: 4, capped: false },
  ])('$name', ({ requested, free, force, connections, capped }) => {
    const result = capConnections(requested, free, 3, force)
    expect(result).toMatchObject({ connections, capped })
    if (capped && connections > 1)
      expect(result.reason).toMatch(/capped at \d+ of \d+: \d+ connections free .* 3 kept in reserve \(--force/)
  })
})

test.each([
  { p: 50, values: [1, 2, 3, 4], expected: 2 },
  { p: 95, values: [1, 2, 3, 4], expected: 4 },
  { p: 50, values: [7], expected: 7 },
  { p: 95, values: [], expected: 0 },
])('percentile p$p of $values', ({ p, values, expected }) => expect(percentile(values, p)).toBe(expected))

describe('inspect rows arguments', () => {
  test.each([
    { input: 'email=ann@example.com', expected: { column: 'email', value: 'ann@example.com' } },
    { input: 'note=a=b', expected: { column: 'note', value: 'a=b' } },
    { input: 'note=', expected: { column: 'note', value: '' } },
    { input: "name=x'; DROP TABLE users; --", expected: { column: 'name', value: "x'; DROP TABLE users; --" } },
  ])('--where $input', ({ input, expected }) => expect(parseRowFilter(input)).toEqual(expected))

  test.each(['=1', 'noequals'])('--where %s is a usage error', (input) => expect(() => parseRowFilter(input)).toThrow(UsageError))

  test.each([
    { input: 'id', expected: { column: 'id', direction: 'asc' } },
    { input: '-created_at', expected: { column: 'created_at', direction: 'desc' } },
  ])('--order $input', ({ input, expected }) => expect(parseRowOrder(input)).toEqual(expected))

  test('--order - is a usage error', () => expect(() => parseRowOrder('-')).toThrow(UsageError))

  test.each([
    { name: 'bytes', value: Buffer.from([0xde, 0xad]), expected: '\\xdead' },
    { name: 'bigint', value: 9007199254740993n, expected: '9007199254740993' },
    { name: 'date', value: new Date('2025-01-02T03:04:05Z'), expected: '2025-01-02T03:04:05.000Z' },
    { name: 'text', value: 'x', expected: 'x' },
  ])('JSON value of $name', ({ value, expected }) => expect(toJsonValue(value)).toBe(expected))

  test("names: by the dialect's rules, else a usage error suggesting the nearest", () => {
    const { resolveTypedName: postgres } = dialectTraits('postgres')
    const { resolveTypedName: sqlite } = dialectTraits('sqlite')
    expect(checkName('users', ['orders', 'users'], 'table', 'in schema public', postgres)).toBe('users')
    expect(checkName('USERS', ['orders', 'users'], 'table', 'in schema public', postgres)).toBe('users')
    expect(checkName('"Track"', ['Track', 'users'], 'table', 'in schema public', postgres)).toBe('Track')
    expect(checkName('"Track"', ['Track', 'users'], 'table', 'in x.db', sqlite)).toBe('Track')
    expect(checkName('track', ['Track', 'users'], 'table', 'in x.db', sqlite)).toBe('Track')
    expect(() => checkName('usres', ['orders', 'users'], 'table', 'in schema public', postgres)).toThrow(
      /Unknown table "usres" in schema public/,
    )
    expect(() => checkName('Track', ['Track', 'users'], 'table', 'in x', postgres)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TABLE', exitCode: 2, hint: expect.stringContaining('Did you mean "Track"?') }),
    )
    expect(() => checkName('"users', ['users'], 'table', 'in x', postgres)).toThrow(expect.objectContaining({ code: 'UNKNOWN_TABLE' }))
    expect(() => checkName('zzz', [], 'column', 'in table t', sqlite)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_COLUMN', hint: expect.stringMatching(/^There are no columns/) }),
    )
  })
})

describe('connect step', () => {
  test.each([
    { name: 'authentication', err: new AuthFailedError('x'), step: 'authentication' },
    { name: 'missing database', err: new DatabaseMissingError('x'), step: 'missing database' },
    { name: 'missing SQLite file', err: new DatabaseMissingError('x', { code: 'DB_FILE_MISSING' }), step: 'missing database file' },
    { name: 'starting up', err: new DbUnreachableError('x', { code: 'DB_STARTING' }), step: 'server starting up' },
    { name: 'too many connections', err: new DbUnreachableError('x', { code: 'DB_TOO_MANY_CONNECTIONS' }), step: 'too many connections' },
    {
      name: 'refused',
      err: new DbUnreachableError('x', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }),
      step: 'TCP connect',
    },
    {
      name: 'name lookup',
      err: new DbUnreachableError('x', { cause: Object.assign(new Error('nx'), { code: 'ENOTFOUND' }) }),
      step: 'name lookup',
    },
    { name: 'timeout', err: new DbUnreachableError('x', { code: 'DB_TIMEOUT' }), step: 'connect (timed out)' },
  ])('$name', ({ err, step }) => expect(connectStepOf(err)).toBe(step))
})

describe('formatting', () => {
  test.each([
    { bytes: 512, expected: '512 B' },
    { bytes: 1536, expected: '1.5 kB' },
    { bytes: 7 * 1024 * 1024, expected: '7.0 MB' },
  ])('$bytes bytes', ({ bytes, expected }) => expect(formatBytes(bytes)).toBe(expected))

  test.each([
    { seconds: 4.25, expected: '4.3 s' },
    { seconds: 600, expected: '10.0 min' },
    { seconds: 7200, expected: '2.0 h' },
    { seconds: 3 * 86_400, expected: '3.0 d' },
  ])('$seconds seconds', ({ seconds, expected }) => expect(formatSeconds(seconds)).toBe(expected))

  test('details: units from key suffixes, nulls left out', () => {
    expect(formatDetails({ size_bytes: 2048, idle_seconds: 3, latency_ms: 1.5, used_pct: 40, head: null, pids: [1, 2] })).toBe(
      'size 2.0 kB · idle 3 s · latency 1.5 ms · used 40% · pids 1, 2',
    )
  })

  test('truncate keeps one line', () => expect(truncate('select *\n  from  t where x = 1', 15)).toBe('select * from …'))
})

test.each([
  { status: 'ok' as const, code: 0 },
  { status: 'warn' as const, code: 3 },
  { status: 'fail' as const, code: 1 },
])('exit code of a $status report is $code', ({ status, code }) => expect(healthExitCode(status)).toBe(code))
