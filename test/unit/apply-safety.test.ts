/** The pure parts of failing safely at apply time: the backoff, and index names read from migration files. */
import { describe, expect, test } from 'vitest'
import { dialectTraits } from '../../src/dialects/index.js'
import type { MigrationFile } from '../../src/migrate/discover-migrations.js'
import { createdIndexNames, invalidIndexesOfMigrations } from '../../src/migrate/invalid-indexes.js'
import { backoffMs } from '../../src/migrate/lock-retry.js'

const postgres = dialectTraits('postgres')

describe('backoffMs', () => {
  const policy = { retries: 5, sqlstates: ['55P03'], baseDelayMs: 500, maxDelayMs: 10_000 }
  test('doubles each retry, jittered from half to one and a half times, capped', () => {
    expect([1, 2, 3].map((retry) => backoffMs(policy, retry, () => 0.5))).toEqual([500, 1000, 2000])
    expect(backoffMs(policy, 1, () => 0)).toBe(250)
    expect(backoffMs(policy, 1, () => 0.999)).toBe(750)
    expect(backoffMs(policy, 10, () => 0.5)).toBe(10_000)
  })
})

describe('createdIndexNames', () => {
  test('named CREATE INDEX statements, in any spelling; unnamed ones, comments and strings give none', () => {
    const sql = [
      'CREATE INDEX a_idx ON a (x);',
      'create unique index concurrently if not exists "B_Key" ON b (y);',
      'CREATE INDEX CONCURRENTLY ON c (z);',
      '-- CREATE INDEX in_comment ON d (x);',
      "INSERT INTO notes VALUES ('CREATE INDEX in_string ON e (x)');",
      'CREATE TABLE t (id integer); CREATE INDEX\n  t_id_idx ON t (id);',
    ].join('\n')
    expect(createdIndexNames(sql, postgres.sqlSyntax)).toEqual(['a_idx', '"B_Key"', 't_id_idx'])
  })

  test('text the lexer cannot finish gives the names before it', () => {
    expect(createdIndexNames("CREATE INDEX a_idx ON a (x); SELECT 'unterminated", postgres.sqlSyntax)).toEqual(['a_idx'])
  })
})

describe('invalidIndexesOfMigrations', () => {
  const file = (name: string, content: string): MigrationFile => ({
    version: name.slice(0, 3),
    name,
    path: `/m/${name}`,
    kind: 'sql',
    checksum: '',
    content,
  })
  const invalid = (name: string) => ({ schema: 'public', name, table: 't', fix: `DROP INDEX CONCURRENTLY public.${name};` })
  test('matches names as PostgreSQL resolves them, the first migration that names one, and ignores the rest', () => {
    const files = [
      file('001_a.sql', 'CREATE INDEX CONCURRENTLY T_Note_Idx ON t (note);'),
      file('002_b.sql', 'CREATE INDEX CONCURRENTLY "Quoted" ON t (x); CREATE INDEX CONCURRENTLY t_note_idx ON t (note);'),
    ]
    expect(invalidIndexesOfMigrations(files, [invalid('t_note_idx'), invalid('Quoted'), invalid('by_hand')], postgres)).toEqual([
      { schema: 'public', name: 't_note_idx', table: 't', migration: '001_a.sql', fix: 'DROP INDEX CONCURRENTLY public.t_note_idx;' },
      { schema: 'public', name: 'Quoted', table: 't', migration: '002_b.sql', fix: 'DROP INDEX CONCURRENTLY public.Quoted;' },
    ])
  })
})
