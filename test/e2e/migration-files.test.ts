/**
 * Hostile and unusual migration files, end to end through the built CLI: NUL bytes, psql-only
 * syntax, savepoints and long dollar-quote tags in `.sql` files; `.ts` migrations that never
 * settle or leave a rejected promise behind; file names that are not UTF-8 or that carry
 * terminal escapes. Each is refused or reported before anything runs, or leaves the database
 * in the state the message says.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type CliResult, runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

/** stderr and stdout hold no raw escape character or bidi control. */
function expectNoRawControls(result: CliResult): void {
  // eslint-disable-next-line no-control-regex
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
  expect(result.stderr).not.toMatch(raw)
  expect(result.stdout).not.toMatch(raw)
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: migration files dbops must refuse or survive`, () => {
    let p: MigrationProject
    beforeEach(async () => {
      p = await createMigrationProject(dialect)
    })
    afterEach(async () => {
      await p.cleanup()
    })
    const cli = (args: string[]) => runCli(['migrate', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url }, timeoutMs: 30_000 })

    test('a NUL byte or psql syntax in a .sql file: exit 2 naming file and line, before anything of the run is applied', async () => {
      p.write('20250101000001_first.sql', sqlMigration('CREATE TABLE first (id integer);'))
      p.write('20250101000002_nul.sql', '-- migrate:up\nCREATE TABLE a (x integer);\0\nCREATE TABLE b (x integer);\n')
      const nul = await cli(['up'])
      expect(nul.code, nul.stderr).toBe(2)
      expect(nul.stderr).toMatch(/^error: Migration migrations\/20250101000002_nul\.sql is not valid at line 2: a NUL byte/m)
      expect(nul.stderr).not.toMatch(/\n\s+at /)

      p.write('20250101000002_nul.sql', sqlMigration('CREATE TABLE a (x integer);'))
      p.write('20250101000003_connect.sql', '-- migrate:up\nCREATE TABLE b (x integer);\n\\connect other\nCREATE TABLE c (x integer);\n')
      const connect = await cli(['up', '--json'])
      expect(connect.code).toBe(2)
      expect(connect.json().error).toMatchObject({
        code: 'MIGRATION_PSQL_SYNTAX',
        message: expect.stringMatching(
          /^Migration migrations\/20250101000003_connect\.sql is not valid at line 3: `\\connect` is a psql meta-command/,
        ),
      })

      p.write(
        '20250101000003_connect.sql',
        '-- migrate:up\nCREATE TABLE b (x integer);\nCOPY b (x) FROM stdin;\n1\n2\n\\.\n\n-- migrate:down\nDROP TABLE b;\n',
      )
      const copy = await cli(['up'])
      expect(copy.code).toBe(2)
      expect(copy.stderr).toMatch(/^error: Migration migrations\/20250101000003_connect\.sql is not valid at line 3: `COPY … FROM stdin`/m)
      expect(copy.stderr).toMatch(/^hint: .*INSERT/m)

      expect(await p.tables()).toEqual([])
      expect(await p.rows()).toEqual([])
    })

    test('ROLLBACK TO SAVEPOINT inside a transactional section undoes only what followed the savepoint', async () => {
      p.write(
        '20250101000001_savepoint.sql',
        sqlMigration(
          [
            'CREATE TABLE kept (id integer);',
            'SAVEPOINT before_scratch;',
            'CREATE TABLE scratch (id integer);',
            'INSERT INTO kept (id) VALUES (1);',
            'ROLLBACK TO SAVEPOINT before_scratch;',
            'RELEASE SAVEPOINT before_scratch;',
            'INSERT INTO kept (id) VALUES (2);',
          ].join('\n'),
        ),
      )
      const up = await cli(['up'])
      expect(up.code, up.stderr).toBe(0)
      expect(await p.tables()).toEqual(['kept'])
      expect((await p.query<{ id: number }>('SELECT id FROM kept')).map((r) => Number(r.id))).toEqual([2])
      expect((await p.rows()).map((r) => r.status)).toEqual(['applied'])
    })

    test('a .ts up() that never settles: exit 1 naming it; transactional rolled back, non-transactional dirty', async () => {
      const hang = (transaction: boolean, table: string) =>
        [
          ...(transaction ? [] : ['export const transaction = false']),
          'export async function up(db: any) {',
          `  await db.schema.createTable('${table}').addColumn('id', 'integer').execute()`,
          '  await new Promise(() => {}) // never resolved',
          '}',
          '',
        ].join('\n')
      p.write('20250101000001_hang.ts', hang(true, 'hung'))
      const tx = await cli(['up'])
      expect(tx.code, tx.stderr).toBe(1)
      expect(tx.stderr).toMatch(
        /^error: Migration migrations\/20250101000001_hang\.ts \(up\) failed: up\(\) never settled: its promise neither resolved nor rejected/m,
      )
      expect(tx.stderr).toMatch(/^hint: Nothing of it was applied: it ran in one transaction/m)
      expect(await p.tables()).toEqual([])
      expect(await p.rows()).toEqual([])

      fs.rmSync(path.join(p.migrationsDir, '20250101000001_hang.ts'))
      p.write('20250101000002_hang_nontx.ts', hang(false, 'hung_nontx'))
      const nonTx = await cli(['up', '--json'])
      expect(nonTx.code, nonTx.stderr).toBe(1)
      expect(nonTx.json().error).toMatchObject({
        code: 'MIGRATION_FAILED',
        message: expect.stringMatching(/up\(\) never settled.*it ran outside a transaction and is now dirty$/),
        hint: expect.stringContaining('dbops migrate repair 20250101000002_hang_nontx.ts'),
      })
      expect(await p.tables()).toEqual(['hung_nontx'])
      expect((await p.rows()).map((r) => r.status)).toEqual(['started'])
    })

    test('a rejected promise nothing awaits inside up(): that migration fails in one line (stack with --verbose), rolled back', async () => {
      p.write(
        '20250101000001_unawaited.ts',
        [
          'export async function up(db: any) {',
          "  Promise.reject(new Error('backfill exploded'))",
          "  await db.schema.createTable('half_done').addColumn('id', 'integer').execute()",
          '  await new Promise((resolve) => setTimeout(resolve, 50))',
          '}',
          '',
        ].join('\n'),
      )
      const up = await cli(['up'])
      expect(up.code, up.stderr).toBe(1)
      expect(up.stderr).toMatch(
        /^error: Migration migrations\/20250101000001_unawaited\.ts \(up\) failed at line 2, column \d+: a promise in up\(\) rejected and nothing awaited it: backfill exploded$/m,
      )
      expect(up.stderr).not.toMatch(/\n\s+at /)
      expect(await p.tables()).toEqual([])
      const verbose = await cli(['up', '--verbose'])
      expect(verbose.code).toBe(1)
      expect(verbose.stderr).toMatch(/Error: backfill exploded\n\s+at .*20250101000001_unawaited\.ts:2/)
    })

    if (dialect.name === 'postgres') {
      test('transaction:false: a dollar-quote tag longer than 62 characters keeps its body whole', async () => {
        const tag = `$${'long_tag_'.repeat(10)}$`
        p.write(
          '20250101000001_long_tag.sql',
          sqlMigration(
            [
              `CREATE FUNCTION long_tag() RETURNS text LANGUAGE sql AS ${tag}SELECT 'a;b'${tag};`,
              `DO ${tag} DECLARE n int; BEGIN n := 1; PERFORM n; END ${tag};`,
            ].join('\n'),
            undefined,
            'transaction:false',
          ),
        )
        const up = await cli(['up'])
        expect(up.code, up.stderr).toBe(0)
        expect(await p.query('SELECT long_tag() AS v')).toEqual([{ v: 'a;b' }])
      })
    }
  })
}

describe('sqlite: migration file names', () => {
  const sqlite = testDialects().find((d) => d.name === 'sqlite')!
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(sqlite)
  })
  afterEach(async () => {
    await p.cleanup()
  })
  const cli = (args: string[]) => runCli(['migrate', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url } })

  test('a name that is not UTF-8 is refused by every migrate command (exit 2), shown escaped, with a hint to rename it', async () => {
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    const latin1 = Buffer.concat([Buffer.from(`${p.migrationsDir}/20250101000002_caf`), Buffer.from([0xe9]), Buffer.from('.sql')])
    fs.writeFileSync(latin1, sqlMigration('CREATE TABLE b (id integer);'))
    for (const args of [['status'], ['up'], ['up', '--json']]) {
      const result = await cli(args)
      expect(result.code, result.stderr).toBe(2)
      const message = args.includes('--json') ? result.json().error.message : result.stderr
      expect(message).toContain('migrations/20250101000002_caf\\xe9.sql')
      expect(message).toMatch(/not valid UTF-8/)
      if (!args.includes('--json')) expect(result.stderr).toMatch(/^hint: Rename it/m)
    }
    expect(await p.tables()).toEqual([])
  })

  test('escape sequences and bidi controls in names are escaped in status, progress and errors; JSON keeps the raw name', async () => {
    const name = '20250101000001_\u001b[31mred\u001b[0m_\u202eevil.sql'
    const escaped = '20250101000001_\\x1b[31mred\\x1b[0m_\\u202eevil.sql'
    p.write(name, sqlMigration('CREATE TABLE a (id integer);'))
    const bad = '20250101000002_\u001b]0;pwned\u0007.sql'
    p.write(bad, sqlMigration('CREATE TABLE;'))

    const status = await cli(['status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(escaped)
    expect(status.stdout).toContain('20250101000002_\\x1b]0;pwned\\x07.sql')
    expectNoRawControls(status)

    const up = await cli(['up'])
    expect(up.code).toBe(1)
    expect(up.stderr).toContain(`applied ${escaped}`)
    expect(up.stderr).toContain('error: Migration migrations/20250101000002_\\x1b]0;pwned\\x07.sql (up) failed')
    expectNoRawControls(up)

    const json = await cli(['status', '--json'])
    expect(json.stdout).not.toContain('\u001b')
    expect(json.json().migrations.map((m: { name: string }) => m.name)).toEqual([name, bad])
  })
})
