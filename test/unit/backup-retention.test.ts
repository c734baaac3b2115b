import { describe, expect, test } from 'vitest'
import { type RetentionCandidate, type RetentionPolicy, isoWeek, planRetention } from '../../src/backup/retention.js'

/** A backup of `database` at an ISO time; verified unless said otherwise. */
function b(at: string, options: { verified?: boolean; database?: string } = {}): RetentionCandidate {
  const database = options.database ?? 'app'
  return {
    file: `${database}@${at}`,
    database,
    createdAt: new Date(at),
    verified: options.verified ?? true,
  }
}

/** The files kept, oldest first, per the plan. */
function kept(candidates: RetentionCandidate[], policy: RetentionPolicy): string[] {
  return planRetention(candidates, policy)
    .filter((d) => d.action === 'keep')
    .map((d) => d.file)
    .sort()
}

const daily = [
  b('2025-01-01T03:00:00Z'),
  b('2025-01-01T15:00:00Z'),
  b('2025-01-02T03:00:00Z'),
  b('2025-01-03T03:00:00Z'),
  b('2025-01-03T23:59:59Z'),
  b('2025-01-04T00:00:00Z'),
]

describe('planRetention', () => {
  test.each([
    {
      name: 'no rules: everything is kept',
      backups: daily,
      policy: {},
      expected: daily.map((c) => c.file),
    },
    {
      name: 'keep-last 2',
      backups: daily,
      policy: { keepLast: 2 },
      expected: ['app@2025-01-03T23:59:59Z', 'app@2025-01-04T00:00:00Z'],
    },
    {
      name: 'keep-daily 3: the newest of each of the 3 latest UTC days',
      backups: daily,
      policy: { keepDaily: 3 },
      expected: ['app@2025-01-02T03:00:00Z', 'app@2025-01-03T23:59:59Z', 'app@2025-01-04T00:00:00Z'],
    },
    {
      name: 'keep-last 0 still keeps the newest verified backup',
      backups: daily,
      policy: { keepLast: 0 },
      expected: ['app@2025-01-04T00:00:00Z'],
    },
    {
      name: 'keep-weekly 2: ISO weeks, Monday to Sunday (2025-01-05 is a Sunday, 01-06 a Monday)',
      backups: [b('2024-12-30T10:00:00Z'), b('2025-01-05T23:00:00Z'), b('2025-01-06T01:00:00Z'), b('2025-01-08T01:00:00Z')],
      policy: { keepWeekly: 2 },
      expected: ['app@2025-01-05T23:00:00Z', 'app@2025-01-08T01:00:00Z'],
    },
    {
      name: 'keep-monthly 2 by UTC month',
      backups: [b('2024-11-30T23:00:00Z'), b('2024-12-01T00:00:00Z'), b('2024-12-31T23:59:59Z'), b('2025-01-15T00:00:00Z')],
      policy: { keepMonthly: 2 },
      expected: ['app@2024-12-31T23:59:59Z', 'app@2025-01-15T00:00:00Z'],
    },
    {
      name: 'rules combine: daily 1 + monthly 3',
      backups: [
        b('2024-10-10T00:00:00Z'),
        b('2024-11-10T00:00:00Z'),
        b('2024-11-20T00:00:00Z'),
        b('2024-12-10T00:00:00Z'),
        b('2024-12-11T00:00:00Z'),
      ],
      policy: { keepDaily: 1, keepMonthly: 3 },
      expected: ['app@2024-10-10T00:00:00Z', 'app@2024-11-20T00:00:00Z', 'app@2024-12-11T00:00:00Z'],
    },
    {
      name: 'only verified backups count: an unverified newest one does not use up keep-last',
      backups: [b('2025-01-01T00:00:00Z'), b('2025-01-02T00:00:00Z'), b('2025-01-03T00:00:00Z', { verified: false })],
      policy: { keepLast: 1 },
      // the unverified one is newer than the newest verified one: kept for someone to look at
      expected: ['app@2025-01-02T00:00:00Z', 'app@2025-01-03T00:00:00Z'],
    },
    {
      name: 'an unverified backup older than the newest verified one is deleted',
      backups: [b('2025-01-01T00:00:00Z', { verified: false }), b('2025-01-02T00:00:00Z')],
      policy: { keepLast: 5 },
      expected: ['app@2025-01-02T00:00:00Z'],
    },
    {
      name: 'with no verified backup at all, nothing is deleted',
      backups: [b('2025-01-01T00:00:00Z', { verified: false }), b('2025-01-02T00:00:00Z', { verified: false })],
      policy: { keepLast: 0 },
      expected: ['app@2025-01-01T00:00:00Z', 'app@2025-01-02T00:00:00Z'],
    },
    {
      name: 'per database: each keeps its own newest',
      backups: [
        b('2025-01-01T00:00:00Z', { database: 'app' }),
        b('2025-01-02T00:00:00Z', { database: 'app' }),
        b('2025-01-01T00:00:00Z', { database: 'audit' }),
      ],
      policy: { keepLast: 1 },
      expected: ['app@2025-01-02T00:00:00Z', 'audit@2025-01-01T00:00:00Z'],
    },
    {
      name: 'daily counts days that have backups, not calendar days',
      backups: [b('2025-01-01T00:00:00Z'), b('2025-01-10T00:00:00Z'), b('2025-01-20T00:00:00Z')],
      policy: { keepDaily: 2 },
      expected: ['app@2025-01-10T00:00:00Z', 'app@2025-01-20T00:00:00Z'],
    },
  ])('$name', ({ backups, policy, expected }) => {
    expect(kept(backups, policy)).toEqual([...expected].sort())
  })

  test('every backup gets a decision with reasons', () => {
    const plan = planRetention(daily, { keepLast: 1, keepDaily: 2 })
    expect(plan).toHaveLength(daily.length)
    expect(plan.find((d) => d.file === 'app@2025-01-04T00:00:00Z')?.reasons).toEqual([
      'newest verified backup',
      'last 1 of 1',
      'daily 2025-01-04',
    ])
    expect(plan.find((d) => d.file === 'app@2025-01-01T03:00:00Z')).toMatchObject({
      action: 'delete',
      reasons: ['outside the retention rules'],
    })
  })
})

describe('isoWeek', () => {
  test.each([
    { date: '2025-01-01T00:00:00Z', week: '2025-W01' },
    { date: '2024-12-30T00:00:00Z', week: '2025-W01' }, // Monday of the week holding Jan 2nd's Thursday
    { date: '2024-12-29T23:59:59Z', week: '2024-W52' },
    { date: '2021-01-03T12:00:00Z', week: '2020-W53' },
    { date: '2026-12-31T00:00:00Z', week: '2026-W53' },
    { date: '2025-01-06T00:00:00Z', week: '2025-W02' },
  ])('$date is $week', ({ date, week }) => expect(isoWeek(new Date(date))).toBe(week))
})
