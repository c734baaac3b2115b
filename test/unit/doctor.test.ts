/**
 * The doctor's pure parts: how readings become statuses at the thresholds, the thresholds
 * from the config file, and the parsing of `--only` / `--skip`.
 */
import { describe, expect, test } from 'vitest'
import type { DoctorReading } from '../../src/dialects/doctor-port.js'
import { DOCTOR_CHECKS } from '../../src/doctor/doctor-checks.js'
import { resolveDoctorThresholds } from '../../src/doctor/doctor-thresholds.js'
import { doctorExitCode, parseCheckIds } from '../../src/doctor/run-doctor.js'

const t = resolveDoctorThresholds()
const reading = (items: DoctorReading['items'], facts: DoctorReading['facts'] = {}): DoctorReading => ({ items, facts })

describe('doctor: judging readings', () => {
  test.each([
    { name: 'sequence under the warning', pct: 60, status: 'ok' },
    { name: 'sequence at the warning', pct: 75, status: 'warn' },
    { name: 'sequence past the failure', pct: 95, status: 'fail' },
  ])('$name', ({ pct, status }) => {
    const items = pct >= t.sequence_warn_pct ? [{ subject: 's', values: { pct } }] : []
    expect(DOCTOR_CHECKS.sequences!.judge(reading(items, { sequences: 1, highest_pct: pct }), t).status).toBe(status)
  })

  test.each([
    { name: 'an active slot', active: true, retained: 0, status: 'ok' },
    { name: 'an inactive slot', active: false, retained: 0, status: 'warn' },
    { name: 'a slot retaining 2 GB', active: true, retained: 2 * 1024 ** 3, status: 'fail' },
  ])('replication_slots: $name', ({ active, retained, status }) => {
    const items = [{ subject: 'slot', values: { active, retained_wal_bytes: retained } }]
    expect(DOCTOR_CHECKS.replication_slots!.judge(reading(items), t).status).toBe(status)
  })

  test.each([
    { name: 'statistics never reset', age: null, status: 'warn' },
    { name: 'statistics a day old: too young to judge', age: 1, status: 'info' },
    { name: 'statistics a month old', age: 30, status: 'warn' },
  ])('unused_indexes: $name', ({ age, status }) => {
    const items = [{ subject: 'public.i', values: {} }]
    expect(DOCTOR_CHECKS.unused_indexes!.judge(reading(items, { stats_age_days: age }), t).status).toBe(status)
  })

  test('cache_hit judges only after enough traffic', () => {
    const low = (blocks: number) => reading([{ subject: 'tables', values: { pct: 50, blocks_hit: blocks / 2, blocks_read: blocks / 2 } }])
    expect(DOCTOR_CHECKS.cache_hit!.judge(low(100), t).status).toBe('info')
    expect(DOCTOR_CHECKS.cache_hit!.judge(low(100_000), t).status).toBe('warn')
  })

  test('sessions of other databases are info, never a warning', () => {
    const verdict = DOCTOR_CHECKS.idle_in_transaction!.judge(reading([], { elsewhere: 1, elsewhere_oldest: 'database x pid 7 (90 s)' }), t)
    expect(verdict).toMatchObject({
      status: 'info',
      finding: 'no session idle in a transaction here; 1 in other databases, oldest database x pid 7 (90 s)',
    })
  })

  test.each([
    { status: 'ok', code: 0 },
    { status: 'info', code: 0 },
    { status: 'warn', code: 3 },
    { status: 'fail', code: 1 },
  ] as const)('exit code of $status: $code', ({ status, code }) => expect(doctorExitCode(status)).toBe(code))
})

describe('doctor: thresholds and check ids', () => {
  test("doctor.thresholds overrides a default; 'off' turns it off", () => {
    const resolved = resolveDoctorThresholds({ sequence_warn_pct: 60, bloat_min_mb: 'off' })
    expect(resolved).toMatchObject({ sequence_warn_pct: 60, bloat_min_mb: Number.POSITIVE_INFINITY, sequence_fail_pct: 90 })
  })

  test.each([
    {
      name: 'an unknown name, with the closest',
      input: { sequence_warn: 5 },
      message: /unknown key doctor\.thresholds\.sequence_warn/,
      hint: /sequence_warn_pct/,
    },
    {
      name: 'a negative value',
      input: { freelist_pct: -1 },
      message: /doctor\.thresholds\.freelist_pct must be a number ≥ 0 or 'off'/,
      hint: undefined,
    },
  ])('exit 2 for $name', ({ input, message, hint }) => {
    const err = (() => {
      try {
        resolveDoctorThresholds(input as unknown as Record<string, number>, 'dbops.config.json')
      } catch (e) {
        return e as { exitCode: number; message: string; hint?: string }
      }
      throw new Error('no error')
    })()
    expect(err.exitCode).toBe(2)
    expect(err.message).toMatch(message)
    if (hint) expect(err.hint).toMatch(hint)
  })

  test('--only takes comma-separated and repeated ids; a typo names the closest id', () => {
    expect(parseCheckIds('--only', ['sequences,bloat', ' vacuum '], Object.keys(DOCTOR_CHECKS))).toEqual(['sequences', 'bloat', 'vacuum'])
    expect(parseCheckIds('--only', undefined, Object.keys(DOCTOR_CHECKS))).toBeUndefined()
    expect(() => parseCheckIds('--skip', ['blaot'], Object.keys(DOCTOR_CHECKS))).toThrow(/--skip: unknown check "blaot"/)
  })
})
