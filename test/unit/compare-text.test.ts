import { describe, expect, test } from 'vitest'
import { compareNatural, compareText } from '../../src/compare-text.js'

describe('compareText', () => {
  test('orders by code unit, whatever the locale', () => {
    expect(['b', 'B', 'a', 'A', '2026-11-02T00:00:00.000Z', '2026-01-30T00:00:00.000Z'].sort(compareText)).toEqual([
      '2026-01-30T00:00:00.000Z',
      '2026-11-02T00:00:00.000Z',
      'A',
      'B',
      'a',
      'b',
    ])
    expect(compareText('same', 'same')).toBe(0)
  })
})

describe('compareNatural', () => {
  test('compares runs of digits as numbers', () => {
    expect(['16', '9.6', '15.4', '15', '10'].sort(compareNatural)).toEqual(['9.6', '10', '15', '15.4', '16'])
    expect(['postgresql@16', 'postgresql@9', 'postgresql@14'].sort(compareNatural)).toEqual([
      'postgresql@9',
      'postgresql@14',
      'postgresql@16',
    ])
    expect(compareNatural('v010', 'v10')).toBe(0)
  })
})
