import { describe, expect, test } from 'vitest'
import type { StatementTrace } from '../../src/dialects/plan-port.js'
import { postgresLockEffect } from '../../src/dialects/postgres/plan/postgres-lock-modes.js'
import { formatCount, gradeStatement } from '../../src/migrate/grade-plan.js'

const big = { rows: 310_000_000, bytes: 41 * 1024 ** 3 }
const empty = { rows: 0, bytes: 8192 }
const context = {
  existing: new Set(['app.orders', 'app.orders_pkey', 'app.empty']),
  sizes: new Map([
    ['app.orders', big],
    ['app.empty', empty],
  ]),
  lockEffect: postgresLockEffect,
}

function trace(changes: Partial<StatementTrace>): StatementTrace {
  return {
    sql: '',
    line: 1,
    column: 1,
    locks: [],
    rewritten: [],
    validated: [],
    notNullChecked: [],
    created: [],
    indexesBuilt: [],
    ...changes,
  }
}
const lock = (relation: string, mode: string, table?: string) => ({
  relation,
  mode,
  kind: table ? ('index' as const) : ('table' as const),
  table,
})

describe('gradeStatement', () => {
  test.each([
    {
      name: 'ACCESS EXCLUSIVE with a rewrite of a large table',
      input: trace({ locks: [lock('app.orders', 'AccessExclusiveLock')], rewritten: ['app.orders'] }),
      grade: 'high',
      reason: 'ACCESS EXCLUSIVE on app.orders (41.0 GB, ~310 M rows) with a full rewrite: blocks reads and writes for the duration',
    },
    {
      name: 'the same on an empty table',
      input: trace({ locks: [lock('app.empty', 'AccessExclusiveLock')], rewritten: ['app.empty'] }),
      grade: 'low',
      reason: /^ACCESS EXCLUSIVE on app\.empty \(.*~0 rows\) with a full rewrite: .*small table/,
    },
    {
      name: 'ACCESS EXCLUSIVE held briefly on a large table',
      input: trace({ locks: [lock('app.orders', 'AccessExclusiveLock')] }),
      grade: 'medium',
      reason: /held briefly: blocks reads and writes while held/,
    },
    {
      name: 'an index build under SHARE',
      input: trace({ locks: [lock('app.orders', 'ShareLock')], indexesBuilt: ['app.orders_x_idx on app.orders'] }),
      grade: 'high',
      reason: /SHARE on app\.orders .* with an index build \(app\.orders_x_idx\): blocks writes \(reads go on\) for the duration/,
    },
    {
      name: 'SHARE UPDATE EXCLUSIVE (a concurrent build) blocks only DDL',
      input: trace({ locks: [lock('app.orders', 'ShareUpdateExclusiveLock')], indexesBuilt: ['app.orders_x_idx on app.orders'] }),
      grade: 'low',
      reason: 'no lock that blocks reads or writes of existing tables',
    },
    {
      name: 'a table created in the plan',
      input: trace({ locks: [lock('app.fresh', 'AccessExclusiveLock')], rewritten: ['app.fresh'] }),
      grade: 'low',
      reason: 'ACCESS EXCLUSIVE on app.fresh, created in this plan: nothing else uses it yet',
    },
    {
      name: 'validating a foreign key on a large table',
      input: trace({ locks: [lock('app.orders', 'ShareRowExclusiveLock')], validated: ['orders_customer_fk on app.orders'] }),
      grade: 'high',
      reason: /a scan to validate orders_customer_fk: blocks writes/,
    },
  ])('$name', ({ input, grade, reason }) => {
    const graded = gradeStatement(input, context)
    expect(graded.grade).toBe(grade)
    if (typeof reason === 'string') expect(graded.reason).toBe(reason)
    else expect(graded.reason).toMatch(reason)
  })

  test('a config smallTable above the table: low', () => {
    const input = trace({ locks: [lock('app.orders', 'AccessExclusiveLock')], rewritten: ['app.orders'] })
    expect(gradeStatement(input, { ...context, smallTable: { rows: 1e9, bytes: 1e12 } }).grade).toBe('low')
  })

  test.each([
    { input: 0, expected: '0' },
    { input: 999, expected: '999' },
    { input: 20_000, expected: '20 k' },
    { input: 310_000_000, expected: '310 M' },
  ])('formatCount($input) = $expected', ({ input, expected }) => expect(formatCount(input)).toBe(expected))
})
