import { describe, expect, test } from 'vitest'
import { type DialectName, dialectTraits } from '../../src/dialects/index.js'
import {
  SqlMigrationFormatError,
  indentedMarkerWarning,
  parseSqlMigration as parseWithSyntax,
} from '../../src/migrate/parse-sql-migration.js'
import { classifyMigrations } from '../../src/migrate/classify-migrations.js'
import { checksumOf, compareVersions } from '../../src/migrate/discover-migrations.js'
import type { MigrationFile } from '../../src/migrate/discover-migrations.js'
import type { MigrationRow } from '../../src/dialects/migration-port.js'
import { githubErrorAnnotation } from '../../src/ui/github-annotation.js'
import { slugifyMigrationName, timestampVersion } from '../../src/migrate/generate-migration.js'
import { formatDuration } from '../../src/ui/migration-progress.js'
import { renderRunSummary } from '../../src/ui/render-migrations.js'
import { postgresMigrationLockKey } from '../../src/dialects/postgres/postgres-migration-lock.js'

/** The parser with the named dialect's syntax rules. */
const parseSqlMigration = (text: string, dialect: DialectName) => parseWithSyntax(text, dialectTraits(dialect).sqlSyntax)

describe('parseSqlMigration (dbmate format)', () => {
  test('splits the up and down sections, with lines counted in the file', () => {
    const parsed = parseSqlMigration(
      '-- migrate:up\nCREATE TABLE a (x int);\nCREATE TABLE b (y int);\n\n-- migrate:down\nDROP TABLE b;\nDROP TABLE a;\n',
      'postgres',
    )
    expect(parsed.up.statements.map((s) => [s.text, s.line])).toEqual([
      ['CREATE TABLE a (x int)', 2],
      ['CREATE TABLE b (y int)', 3],
    ])
    expect(parsed.up).toMatchObject({ transaction: true, foreignKeysOff: false, startLine: 2 })
    expect(parsed.down?.statements.map((s) => [s.text, s.line])).toEqual([
      ['DROP TABLE b', 6],
      ['DROP TABLE a', 7],
    ])
  })

  test.each([
    {
      name: 'transaction:false',
      marker: '-- migrate:up transaction:false',
      expected: { transaction: false, foreignKeysOff: false },
    },
    {
      name: 'foreign_keys:off',
      marker: '-- migrate:up foreign_keys:off',
      expected: { transaction: true, foreignKeysOff: true },
    },
    {
      name: 'both, any order',
      marker: '--migrate:up foreign_keys:off transaction:false',
      expected: { transaction: false, foreignKeysOff: true },
    },
  ])('options: $name', ({ marker, expected }) => {
    expect(parseSqlMigration(`${marker}\nSELECT 1;\n`, 'sqlite').up).toMatchObject(expected)
  })

  test('a file without a down section has none', () => {
    expect(parseSqlMigration('-- migrate:up\nSELECT 1;\n', 'postgres').down).toBeUndefined()
  })

  test('CRLF files parse like LF files', () => {
    const parsed = parseSqlMigration('-- migrate:up\r\nSELECT 1;\r\n-- migrate:down\r\nSELECT 2;\r\n', 'postgres')
    expect(parsed.up.statements.map((s) => s.text)).toEqual(['SELECT 1'])
    expect(parsed.down?.statements.map((s) => s.text)).toEqual(['SELECT 2'])
  })

  test.each([
    {
      name: 'no up marker',
      text: 'CREATE TABLE a (x int);\n',
      line: 1,
      message: /no `-- migrate:up` section/,
    },
    {
      name: 'SQL before the marker',
      text: '\nCREATE TABLE a (x int);\n-- migrate:up\nSELECT 1;',
      line: 2,
      message: /SQL before/,
    },
    {
      name: 'two up markers',
      text: '-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;',
      line: 3,
      message: /second `-- migrate:up`/,
    },
    {
      name: 'unknown option',
      text: '-- migrate:up transactions:false\nSELECT 1;',
      line: 1,
      message: /unknown migration option `transactions:false`/,
    },
    {
      name: 'COMMIT inside a transactional section',
      text: '-- migrate:up\nSELECT 1;\nCOMMIT;\n',
      line: 3,
      message: /`COMMIT` inside a transactional section/,
    },
    {
      name: 'unterminated string',
      text: "-- migrate:up\nSELECT 1;\nSELECT 'x;\n",
      line: 3,
      message: /unterminated string starting at line 3/,
    },
  ])('$name is an error naming the line', ({ text, line, message }) => {
    let caught: unknown
    try {
      parseSqlMigration(text, 'postgres')
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SqlMigrationFormatError)
    expect((caught as SqlMigrationFormatError).line).toBe(line)
    expect((caught as Error).message).toMatch(message)
  })

  test.each([
    { name: 'a NUL byte', text: '-- migrate:up\nCREATE TABLE a (x int);\0\nCREATE TABLE b (x int);\n', line: 2, reason: 'nul' },
    { name: 'a NUL byte in the down section', text: '-- migrate:up\nSELECT 1;\n-- migrate:down\n\nSELECT\0 2;\n', line: 5, reason: 'nul' },
    { name: 'a psql meta-command', text: '-- migrate:up\nSELECT 1;\n\\connect other\n', line: 3, reason: 'psql' },
  ])('$name is refused whatever the dialect, naming the line', ({ text, line, reason }) => {
    for (const flavour of ['postgres', 'sqlite'] as const) {
      let caught: unknown
      try {
        parseSqlMigration(text, flavour)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(SqlMigrationFormatError)
      expect(caught).toMatchObject({ line, reason })
    }
  })

  test.each(['ROLLBACK TO SAVEPOINT s', 'rollback to s', 'ROLLBACK TRANSACTION TO SAVEPOINT s', 'ROLLBACK WORK TO s'])(
    'a transactional section may use savepoints: %s',
    (rollbackTo) => {
      const text = `-- migrate:up\nSAVEPOINT s;\nSELECT 1;\n${rollbackTo};\nRELEASE SAVEPOINT s;\n`
      expect(parseSqlMigration(text, 'postgres').up.statements).toHaveLength(4)
    },
  )

  test.each(['ROLLBACK', 'ROLLBACK WORK', 'rollback and chain', 'END'])('%s still ends the transaction: refused', (statement) => {
    expect(() => parseSqlMigration(`-- migrate:up\nSELECT 1;\n${statement};\n`, 'sqlite')).toThrow(/inside a transactional section/)
  })

  test('transaction control is allowed in a transaction:false section', () => {
    const parsed = parseSqlMigration('-- migrate:up transaction:false\nBEGIN;\nSELECT 1;\nCOMMIT;\n', 'postgres')
    expect(parsed.up.statements).toHaveLength(3)
  })
})

describe('indented markers (dbops splits there, dbmate does not)', () => {
  test.each([
    { name: 'markers at column 1', text: '-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n', expected: undefined },
    { name: 'no space after --', text: '--migrate:up\nSELECT 1;\n', expected: undefined },
    {
      name: 'an indented down',
      text: '-- migrate:up\nSELECT 1;\n  -- migrate:down\nSELECT 2;\n',
      expected: 'm.sql: indented `-- migrate:down` (line 3): dbmate would not split there; start the marker at column 1',
    },
    {
      name: 'both, a tab and CRLF',
      text: '\t-- migrate:up\r\nSELECT 1;\r\n -- migrate:down\r\nSELECT 2;\r\n',
      expected:
        'm.sql: indented `-- migrate:up` (line 1) and `-- migrate:down` (line 3): dbmate would not split there; start the markers at column 1',
    },
  ])('$name', ({ text, expected }) => {
    expect(indentedMarkerWarning(text, 'm.sql')).toBe(expected)
    // accepted all the same
    expect(parseSqlMigration(text, 'sqlite').up.statements.map((st) => st.text)).toEqual(['SELECT 1'])
  })
})

describe('checksums and versions', () => {
  test('CRLF and LF give the same checksum; any other change does not', () => {
    expect(checksumOf('a\r\nb\r\n')).toBe(checksumOf('a\nb\n'))
    expect(checksumOf('a\nb \n')).not.toBe(checksumOf('a\nb\n'))
  })
  test.each([
    { a: '9', b: '10', expected: -1 },
    { a: '20250101120000', b: '20250101120000', expected: 0 },
    { a: '0010', b: '9', expected: 1 },
  ])('compareVersions($a, $b)', ({ a, b, expected }) => expect(Math.sign(compareVersions(a, b))).toBe(expected))
})

describe('classifyMigrations', () => {
  const file = (version: string, content = version): MigrationFile => ({
    version,
    name: `${version}_m.sql`,
    path: `/m/${version}_m.sql`,
    kind: 'sql',
    checksum: checksumOf(content),
    content,
  })
  const row = (version: string, content = version, status = 'applied'): MigrationRow => ({
    version,
    name: `${version}_m.sql`,
    checksum: checksumOf(content),
    status,
    appliedAt: undefined,
    durationMs: 1,
    dbopsVersion: '0.1.0',
  })

  test.each([
    {
      name: 'applied and pending',
      files: [file('1'), file('2')],
      rows: [row('1')],
      expected: ['applied', 'pending'],
      head: '1',
      outOfOrder: 0,
    },
    {
      name: 'changed',
      files: [file('1', 'edited')],
      rows: [row('1')],
      expected: ['changed'],
      head: '1',
      outOfOrder: 0,
    },
    {
      name: 'missing',
      files: [],
      rows: [row('1')],
      expected: ['missing'],
      head: '1',
      outOfOrder: 0,
    },
    {
      name: 'dirty wins over missing',
      files: [],
      rows: [row('1', '1', 'started')],
      expected: ['dirty'],
      head: undefined,
      outOfOrder: 0,
    },
    {
      name: 'started while a run holds the lock: running, not dirty',
      files: [file('1'), file('2')],
      rows: [row('1', '1', 'started')],
      runner: { pid: 42, applicationName: undefined, clientAddress: undefined, since: undefined },
      expected: ['running', 'pending'],
      head: undefined,
      outOfOrder: 0,
    },
    {
      name: 'out of order',
      files: [file('1'), file('2'), file('3')],
      rows: [row('1'), row('3')],
      expected: ['applied', 'pending', 'applied'],
      head: '3',
      outOfOrder: 1,
    },
  ])('$name', ({ files, rows, runner, expected, head, outOfOrder }) => {
    const result = classifyMigrations(files, rows, runner)
    expect(result.migrations.map((m) => m.state)).toEqual(expected)
    expect(result.head).toBe(head)
    expect(result.counts.outOfOrder).toBe(outOfOrder)
  })
})

describe('githubErrorAnnotation', () => {
  test.each([
    { name: 'outside GitHub Actions', env: {}, expected: undefined },
    {
      name: 'relative to the workspace, with line and column, escaped',
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/w' },
      expected: '::error file=migrations/1_a.sql,line=3,col=5,title=dbops migrate::100%25 failed%0Anext',
    },
  ])('$name', ({ env, expected }) => {
    expect(
      githubErrorAnnotation(
        {
          message: '100% failed\nnext',
          file: '/w/migrations/1_a.sql',
          line: 3,
          column: 5,
          title: 'dbops migrate',
        },
        env,
        '/elsewhere',
      ),
    ).toBe(expected)
  })

  test('escape sequences in the file name and message are shown, not sent to the log', () => {
    const annotation = githubErrorAnnotation(
      { message: 'Migration 1_\u001b[2Ka.sql failed', file: '/w/migrations/1_\u001b[2Ka.sql' },
      { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/w' },
      '/w',
    )
    expect(annotation).toBe('::error file=migrations/1_\\x1b[2Ka.sql::Migration 1_\\x1b[2Ka.sql failed')
  })
})

describe('generate names', () => {
  test.each([
    { input: 'add users', expected: 'add_users' },
    { input: 'Add-Users  Table!', expected: 'add_users_table' },
    { input: 'Crème brûlée', expected: 'creme_brulee' },
    { input: '!!!', expected: '' },
  ])('slugifyMigrationName($input)', ({ input, expected }) => expect(slugifyMigrationName(input)).toBe(expected))
  test('timestampVersion is UTC YYYYMMDDHHMMSS', () =>
    expect(timestampVersion(new Date('2025-03-04T05:06:07.890Z'))).toBe('20250304050607'))
})

describe('durations in run output', () => {
  test.each([
    { ms: 0.04, text: '0.0 ms' },
    { ms: 0.44, text: '0.4 ms' },
    { ms: 5, text: '5 ms' },
    { ms: 0, text: '0 ms' },
    { ms: 9.94, text: '9.9 ms' },
    { ms: 9.96, text: '10 ms' },
    { ms: 999.4, text: '999 ms' },
    { ms: 999.6, text: '1.0 s' },
    { ms: 61_250, text: '61.3 s' },
  ])('formatDuration($ms) is $text', ({ ms, text }) => expect(formatDuration(ms)).toBe(text))

  test('the summary adds up sub-millisecond migrations instead of rounding each to 0', () => {
    const results = Array.from({ length: 200 }, (_, i) => ({
      version: String(i + 1),
      name: `${i + 1}_t.sql`,
      status: 'applied' as const,
      duration_ms: 0.4,
    }))
    const summary = renderRunSummary({
      database: 'sqlite x.db',
      direction: 'up',
      dry_run: false,
      results,
      head: '200',
      error: undefined,
      warnings: [],
    })
    expect(summary).toBe('Applied 200 migrations in 80 ms; head is 200.')
  })
})

describe('postgresMigrationLockKey', () => {
  test.each([
    // the key every dbops before the history-table setting took: an old and a new dbops deploying at once exclude each other
    { name: 'default table in public', schema: 'public', table: undefined, expected: [0x64626f70, -1442749430] },
    { name: 'dbops_migrations named explicitly', schema: 'public', table: 'dbops_migrations', expected: [0x64626f70, -1442749430] },
    { name: 'default table in app', schema: 'app', table: undefined, expected: [0x64626f70, 1805268506] },
    { name: 'another table', schema: 'app', table: 'history', expected: [0x64626f70, -560332278] },
  ])('$name', ({ schema, table, expected }) => expect(postgresMigrationLockKey(schema, table)).toEqual(expected))
})
