/**
 * `dbops migrate lint` through the built CLI: exit codes, the text, JSON, GitHub and SARIF
 * outputs, ignore comments, the config file's rule settings, pending vs --all against a real
 * PostgreSQL database, offline lint, and --pg-version.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const [sqlite, postgres] = testDialects()
const OFFLINE = 'postgres://nobody@127.0.0.1:1/nowhere'

describe('postgres: migrate lint', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(postgres!)
    p.write(
      '20250101000001_users.sql',
      sqlMigration('CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_email ON users (email);'),
    )
  })
  afterEach(() => p.cleanup())
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(['migrate', 'lint', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url, ...env } })
  const migrateUp = async () => expect((await runCli(['migrate', 'up'], { cwd: p.dir, env: { DATABASE_URL: p.url } })).code).toBe(0)

  test('pending only by default, every file with --all; exit 3 on an error, 0 when clean', async () => {
    await migrateUp()
    p.write('20250101000002_fk.sql', sqlMigration('ALTER TABLE users ADD COLUMN email2 text;'))
    const clean = await cli([])
    expect([clean.code, clean.stdout.trim()]).toEqual([0, 'No findings in 1 migration'])

    p.write('20250101000003_index.sql', sqlMigration('-- the lookup\nCREATE INDEX users_email2 ON users (email2);'))
    const pending = await cli(['--json'])
    expect(pending.code).toBe(3)
    const doc = pending.json()
    expect(doc).toMatchObject({ dialect: 'postgres', selection: 'pending', files: 2, offline: null, exit_code: 3, fail_on: 'error' })
    expect(doc.server_version_num).toBeGreaterThanOrEqual(110000)
    expect(doc.summary).toEqual({ errors: 1, warnings: 0, ignored: 0 })
    expect(doc.findings).toEqual([
      {
        rule: 'create-index-non-concurrently',
        severity: 'error',
        file: 'migrations/20250101000003_index.sql',
        line: 3,
        column: 1,
        message: expect.stringMatching(/^CREATE INDEX users_email2 on users: takes a SHARE lock/),
        hint: expect.stringMatching(/CONCURRENTLY/),
        statement: 'CREATE INDEX users_email2 ON users (email2)',
        tables: [{ name: 'users' }],
      },
    ])

    // --all reads the history from the start: users is created by its first file, so it counts as new and empty
    const all = await cli(['--all', '--json'])
    expect([all.code, all.json().selection, all.json().files, all.json().findings]).toEqual([0, 'all', 3, []])

    const text = await cli([])
    expect(text.stdout).toContain(
      'migrations/20250101000003_index.sql:3:1  error  create-index-non-concurrently  CREATE INDEX users_email2 on users',
    )
    expect(text.stdout).toMatch(/ {2}hint: CREATE INDEX CONCURRENTLY/)
    expect(text.stdout.trim().split('\n').at(-1)).toBe('1 error, 0 warnings in 2 migrations')
  })

  test('--format github prints annotations; --format sarif a SARIF 2.1.0 log with the rules', async () => {
    await migrateUp()
    p.write(
      '20250101000002_bad.sql',
      sqlMigration('ALTER TABLE users ALTER COLUMN email SET NOT NULL;\nCREATE TABLE events (at timestamp);'),
    )
    const github = await cli(['--format', 'github'])
    expect(github.code).toBe(3)
    expect(
      github.stdout
        .trim()
        .split('\n')
        .map((l) => l.slice(0, l.indexOf('::', 2))),
    ).toEqual([
      '::error file=migrations/20250101000002_bad.sql,line=2,col=1,title=dbops lint%3A set-not-null-unsafe',
      '::warning file=migrations/20250101000002_bad.sql,line=3,col=1,title=dbops lint%3A prefer-timestamptz',
    ])

    const sarif = JSON.parse((await cli(['--format', 'sarif'])).stdout)
    expect(sarif.version).toBe('2.1.0')
    const run = sarif.runs[0]
    expect(run.tool.driver.name).toBe('dbops')
    const ruleIds = run.tool.driver.rules.map((r: { id: string }) => r.id)
    expect(ruleIds).toContain('set-not-null-unsafe')
    expect(run.tool.driver.rules.find((r: { id: string }) => r.id === 'set-not-null-unsafe').help.text).toMatch(
      /^Safe rewrite: ADD CONSTRAINT/,
    )
    expect(
      run.results.map((r: any) => [
        r.ruleId,
        r.level,
        r.locations[0].physicalLocation.artifactLocation.uri,
        r.locations[0].physicalLocation.region.startLine,
      ]),
    ).toEqual([
      ['set-not-null-unsafe', 'error', 'migrations/20250101000002_bad.sql', 2],
      ['prefer-timestamptz', 'warning', 'migrations/20250101000002_bad.sql', 3],
    ])
    for (const r of run.results) expect(ruleIds).toContain(r.ruleId)
  })

  test('--pg-version changes the verdict on a constant default; offline it lints from the files and says so', async () => {
    p.write('20250101000002_flag.sql', sqlMigration('ALTER TABLE users ADD COLUMN active boolean DEFAULT true;'))
    const file = 'migrations/20250101000002_flag.sql'
    expect((await cli([file])).code).toBe(0)
    const old = await cli([file, '--pg-version', '10', '--json'])
    expect([old.code, old.json().findings.map((f: { rule: string }) => f.rule), old.json().server_version_num]).toEqual([
      3,
      ['add-column-volatile-default'],
      100000,
    ])
    expect((await cli([file, '--pg-version', '11'])).code).toBe(0)

    const offline = await cli(['--json'], { DATABASE_URL: OFFLINE })
    expect([offline.code, offline.json().selection, offline.json().files]).toEqual([0, 'all', 2])
    expect(offline.stderr).toMatch(/^cannot read the database \(.*\): linting from the files alone, every migration$/m)
    const bad = await cli(['--pg-version', 'eleven'])
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, 'error: --pg-version eleven: not a PostgreSQL version'])
  })

  test('ignore comments: with a reason the finding is ignored (exit 0); without one, exit 2 naming file and line', async () => {
    await migrateUp()
    p.write(
      '20250101000002_drop.sql',
      sqlMigration('-- dbops:lint-ignore drop-column nothing reads it since v2.3\nALTER TABLE users DROP COLUMN email;'),
    )
    const ok = await cli(['--json'])
    expect([ok.code, ok.json().summary, ok.json().findings[0].ignored]).toEqual([
      0,
      { errors: 0, warnings: 0, ignored: 1 },
      { reason: 'nothing reads it since v2.3' },
    ])
    p.write('20250101000002_drop.sql', sqlMigration('-- dbops:lint-ignore drop-column\nALTER TABLE users DROP COLUMN email;'))
    const bad = await cli([])
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([
      2,
      'error: migrations/20250101000002_drop.sql:2: dbops:lint-ignore drop-column without a reason',
    ])
  })

  test('the config file turns a rule off; --fail-on warning fails on warnings; unparsable SQL is exit 2', async () => {
    await migrateUp()
    p.write('20250101000002_drop.sql', sqlMigration('ALTER TABLE users DROP COLUMN email;\nCREATE TABLE payloads (body json);'))
    expect((await cli([])).code).toBe(3)
    fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ lint: { rules: { 'drop-column': 'off' } } }))
    const off = await cli(['--json'])
    expect([off.code, off.json().findings.map((f: { rule: string }) => f.rule)]).toEqual([0, ['prefer-jsonb']])
    expect((await cli(['--fail-on', 'warning'])).code).toBe(3)

    p.write('20250101000003_broken.sql', sqlMigration('SELECT 1;\nALTER TABEL users ADD COLUMN x int;'))
    const broken = await cli([])
    expect([broken.code, broken.stderr.split('\n')[0]]).toEqual([
      2,
      'error: migrations/20250101000003_broken.sql:3:7: SQL does not parse: syntax error at or near "TABEL"',
    ])
  })

  test('a .ts migration is noted as not lintable, not an error', async () => {
    p.write('20250101000002_backfill.ts', 'export async function up() {}\n')
    const result = await cli([])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('migrations/20250101000002_backfill.ts: not linted (only .sql migrations can be linted statically')
  })
})

describe('sqlite: migrate lint', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(sqlite!)
  })
  afterEach(() => p.cleanup())

  test('its rules: PRAGMA foreign_keys in a transaction and a NOT NULL column without a default fail (exit 3)', async () => {
    p.write('20250101000001_users.sql', sqlMigration('CREATE TABLE users (id INTEGER PRIMARY KEY);'))
    p.write('20250101000002_plan.sql', sqlMigration('PRAGMA foreign_keys = OFF;\nALTER TABLE users ADD COLUMN plan TEXT NOT NULL;'))
    const result = await runCli(['migrate', 'lint', '--json'], { cwd: p.dir, env: { DATABASE_URL: p.url } })
    expect(result.code).toBe(3)
    expect(result.json().findings.map((f: { rule: string; line: number }) => [f.rule, f.line])).toEqual([
      ['sqlite-pragma-in-transaction', 2],
      ['sqlite-not-null-without-default', 3],
    ])
  })
})
