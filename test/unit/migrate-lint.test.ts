import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import type { DialectName } from '../../src/dialects/index.js'
import { lintMigrationFiles } from '../../src/migrate/lint-migrations.js'

const corpus = path.resolve(__dirname, '../fixtures/lint')

/** The corpus of one dialect: each file with the rule ids its `-- expect:` line names. */
function fixtures(dialect: DialectName): Array<{ name: string; text: string; expected: string[] }> {
  const dir = path.join(corpus, dialect)
  return fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const text = fs.readFileSync(path.join(dir, name), 'utf8')
      const expect = /^-- expect: (.*)$/m.exec(text)![1]!.trim()
      return { name, text, expected: expect === 'none' ? [] : expect.split(/\s+/).sort() }
    })
}

async function ruleIds(dialect: DialectName, files: Array<{ name: string; text: string }>, serverVersionNum?: number): Promise<string[]> {
  const result = await lintMigrationFiles(
    files.map((f) => ({ file: f.name, text: f.text })),
    { dialect, serverVersionNum },
  )
  return [...new Set(result.findings.map((f) => f.rule))].sort()
}

describe('the lint corpus', () => {
  test('holds at least 40 migrations, each dangerous form beside a safe one', () => {
    const all = [...fixtures('postgres'), ...fixtures('sqlite')]
    expect(all.length).toBeGreaterThanOrEqual(40)
    expect(all.filter((f) => f.expected.length === 0).length).toBeGreaterThanOrEqual(20)
  })

  test.each(fixtures('postgres'))('postgres $name: $expected', async ({ name, text, expected }) => {
    expect(await ruleIds('postgres', [{ name, text }])).toEqual(expected)
  })

  test.each(fixtures('sqlite'))('sqlite $name: $expected', async ({ name, text, expected }) => {
    expect(await ruleIds('sqlite', [{ name, text }])).toEqual(expected)
  })

  test('every PostgreSQL and SQLite rule fires somewhere in the corpus', async () => {
    for (const dialect of ['postgres', 'sqlite'] as const) {
      const { rules } = await lintMigrationFiles([], { dialect })
      const fired = new Set(fixtures(dialect).flatMap((f) => f.expected))
      expect(rules.map((r) => r.id).filter((id) => !fired.has(id))).toEqual([])
    }
  })
})

describe('lintMigrationFiles', () => {
  const file = (name: string, body: string, options = '') => ({ name, text: `-- migrate:up${options}\n${body}\n` })

  test('a constant default rewrites before PostgreSQL 11 and not after; a volatile one always', async () => {
    const constant = file('1_a.sql', 'ALTER TABLE users ADD COLUMN active boolean DEFAULT true;')
    expect(await ruleIds('postgres', [constant], 100000)).toEqual(['add-column-volatile-default'])
    expect(await ruleIds('postgres', [constant], 110000)).toEqual([])
    const volatile = file('1_a.sql', 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();')
    expect(await ruleIds('postgres', [volatile], 150000)).toEqual(['add-column-volatile-default'])
  })

  test('a validated CHECK (col IS NOT NULL) from an earlier file makes SET NOT NULL safe, from PostgreSQL 12', async () => {
    const files = [
      file('1_check.sql', 'ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;'),
      file('2_validate.sql', 'ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;'),
      file('3_not_null.sql', 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;'),
    ]
    expect(await ruleIds('postgres', files, 150000)).toEqual([])
    expect(await ruleIds('postgres', files, 110000)).toEqual(['set-not-null-unsafe'])
    expect(await ruleIds('postgres', [files[0]!, files[2]!], 150000)).toEqual(['set-not-null-unsafe'])
  })

  test('a table created by an earlier file is new: its index and type change are not flagged', async () => {
    const files = [
      file('1_create.sql', 'CREATE TABLE notes (id bigint PRIMARY KEY, body text);'),
      file('2_index.sql', 'CREATE INDEX notes_body_idx ON notes (body);\nALTER TABLE notes ALTER COLUMN body TYPE varchar(200);'),
    ]
    expect(await ruleIds('postgres', files)).toEqual([])
    expect(await ruleIds('postgres', [files[1]!])).toEqual(['column-type-rewrite', 'create-index-non-concurrently'])
  })

  test('a finding names its file, line, column, the tables it locks, and the statement', async () => {
    const result = await lintMigrationFiles(
      [
        {
          file: 'migrations/2_fk.sql',
          text: '-- migrate:up\nSELECT 1;\n  ALTER TABLE app.orders ADD CONSTRAINT fk FOREIGN KEY (user_id)\n    REFERENCES users (id);\n',
        },
      ],
      { dialect: 'postgres' },
    )
    expect(result.findings).toEqual([
      expect.objectContaining({
        rule: 'constraint-not-valid-missing',
        severity: 'error',
        file: 'migrations/2_fk.sql',
        line: 3,
        column: 3,
        statement: 'ALTER TABLE app.orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)',
        tables: [{ schema: 'app', name: 'orders' }, { name: 'users' }],
      }),
    ])
    expect(result.findings[0]!.hint).toMatch(/NOT VALID/)
  })

  test('ignore comments: marks the finding with the reason; no reason or an unknown rule is exit 2 naming file and line', async () => {
    const ignored = await lintMigrationFiles(
      [
        {
          file: '1_a.sql',
          text: '-- migrate:up\n-- dbops:lint-ignore drop-column nothing reads it since v2.3\nALTER TABLE users DROP COLUMN legacy;\n',
        },
      ],
      { dialect: 'postgres' },
    )
    expect(ignored.findings.map((f) => [f.rule, f.ignored])).toEqual([['drop-column', { reason: 'nothing reads it since v2.3' }]])
    await expect(
      lintMigrationFiles(
        [{ file: '1_a.sql', text: '-- migrate:up\n-- dbops:lint-ignore drop-column\nALTER TABLE users DROP COLUMN legacy;\n' }],
        {
          dialect: 'postgres',
        },
      ),
    ).rejects.toMatchObject({ exitCode: 2, message: '1_a.sql:2: dbops:lint-ignore drop-column without a reason' })
    await expect(
      lintMigrationFiles([{ file: '1_a.sql', text: '-- migrate:up\n-- dbops:lint-ignore drop-colum typo\nSELECT 1;\n' }], {
        dialect: 'postgres',
      }),
    ).rejects.toMatchObject({ exitCode: 2, message: '1_a.sql:2: unknown lint rule `drop-colum` in dbops:lint-ignore' })
  })

  test('the config turns rules off and changes their severity', async () => {
    const text = '-- migrate:up\nALTER TABLE users DROP COLUMN legacy;\nCREATE INDEX i ON users (email);\n'
    const result = await lintMigrationFiles([{ file: '1_a.sql', text }], {
      dialect: 'postgres',
      config: { rules: { 'drop-column': 'off', 'create-index-non-concurrently': 'warning' } },
    })
    expect(result.findings.map((f) => [f.rule, f.severity])).toEqual([
      ['create-index-non-concurrently', 'warning'],
      ['lock-after-access-exclusive', 'warning'],
    ])
    expect(result.rules.map((r) => r.id)).not.toContain('drop-column')
  })

  test('unparsable SQL is exit 2 with file, line, column and the parser’s message', async () => {
    await expect(
      lintMigrationFiles([{ file: '3_bad.sql', text: '-- migrate:up\nSELECT 1;\nCREATE TABL x (id int);\n' }], { dialect: 'postgres' }),
    ).rejects.toMatchObject({ exitCode: 2, message: '3_bad.sql:3:8: SQL does not parse: syntax error at or near "TABL"' })
  })

  test('a .ts migration is an info note, not an error', async () => {
    const result = await lintMigrationFiles([{ file: '4_backfill.ts', text: 'export async function up() {}' }], { dialect: 'postgres' })
    expect(result.findings).toEqual([])
    expect(result.files).toBe(0)
    expect(result.notes).toEqual([expect.stringMatching(/^4_backfill\.ts: not linted \(only \.sql migrations can be linted statically/)])
  })
})

test('a rule id the dialect does not have in the config is a config error (exit 2)', async () => {
  await expect(lintMigrationFiles([], { dialect: 'sqlite', config: { rules: { 'drop-table': 'off' } } })).rejects.toMatchObject({
    exitCode: 2,
    message: 'lint.rules.drop-table: no SQLite lint rule has this id',
  })
})

test('docs/lint.md documents every rule of the registry, and no other, with why and the safe rewrite', async () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/lint.md'), 'utf8')
  const documented = [...doc.matchAll(/^### `([a-z0-9-]+)`\n\n(.*)\n\n\*\*Safe rewrite:\*\* (.+)$/gm)].map((m) => m[1])
  const registry: string[] = []
  for (const dialect of ['postgres', 'sqlite'] as const)
    registry.push(...(await lintMigrationFiles([], { dialect })).rules.map((r) => r.id))
  expect(documented).toEqual(registry)
})
