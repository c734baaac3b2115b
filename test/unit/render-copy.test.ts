/** `dbops copy`'s progress on stderr: redrawn with rate and ETA on a terminal, one line per table otherwise. */
import { describe, expect, test } from 'vitest'
import { copyProgressReporter } from '../../src/ui/render-copy.js'

function stream() {
  const written: string[] = []
  return { written, write: (text: string) => written.push(text) }
}

describe('copy progress', () => {
  test('on a terminal: rows, total, rate and ETA redrawn in place, then the table line', () => {
    const s = stream()
    const report = copyProgressReporter(s, true)
    report({ table: 'events', phase: 'load', rows: 25_000, total: 100_000, elapsedMs: 500 })
    report({ table: 'events', phase: 'done', rows: 100_000, total: 100_000, elapsedMs: 2000 })
    expect(s.written[0]).toBe('\r\u001b[Kevents: 25,000 of 100,000 rows, 50,000 rows/s, ETA 2 s')
    expect(s.written.slice(1).join('')).toBe('\r\u001b[Kcopied events: 100,000 rows in 2.0 s (50,000 rows/s)\n')
  })

  test('elsewhere (cron, CI): no redraws, one line per finished table', () => {
    const s = stream()
    const report = copyProgressReporter(s, false)
    report({ table: 'events', phase: 'load', rows: 25_000, total: 100_000, elapsedMs: 500 })
    report({ table: 'events', phase: 'done', rows: 100_000, total: 100_000, elapsedMs: 2000 })
    expect(s.written).toEqual(['copied events: 100,000 rows in 2.0 s (50,000 rows/s)\n'])
  })
})
