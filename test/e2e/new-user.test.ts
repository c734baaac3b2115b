/**
 * What a new user trips over, through the built CLI: `--models FILE` on every command that
 * reads models (as the missing-models hint says), the database's SQLSTATE in a failed
 * migration's message, indented dbmate markers (accepted, with a warning dbmate would not
 * split there), table names matched by the database's own rules, and the wording of
 * `inspect table`, `migrate up`'s failure hint, `migrate generate` and SQLite's health.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { execSql } from '../support/backup-fixtures.js'
import { type CliResult, runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const MODELS = `import { col, defineModels, table } from 'dbops'
export const users = table('users', { id: col.bigint().primaryKey().identity(), email: col.text() })
export default defineModels({ users })
`

for (const dialect of testDialects()) {
  describe(`${dialect.name}: what a new user trips over`, () => {
    let p: MigrationProject
    beforeEach(async () => {
      p = await createMigrationProject(dialect)
    })
    afterEach(async () => {
      await p.cleanup()
    })
    const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
      runCli(args, { cwd: p.dir, env: { DATABASE_URL: p.url, NO_COLOR: '1', ...env }, timeoutMs: 60_000 })

    test('--models FILE: the hint names it and generate --from-models takes it; both generates print a path relative to cwd', async () => {
      fs.mkdirSync(path.join(p.dir, 'db'))
      fs.writeFileSync(path.join(p.dir, 'db', 'models.ts'), MODELS)
      const unconfigured = await cli(['migrate', 'generate', 'create_users', '--from-models'])
      expect(unconfigured.code).toBe(2)
      expect(unconfigured.stderr).toMatch(/^hint: .*pass --models FILE/m)

      const alone = await cli(['migrate', 'generate', 'create_users', '--models', 'db/models.ts'])
      expect(alone.code).toBe(2)
      expect(alone.stderr).toMatch(/^error: All of the following must be provided when using --models: --from-models$/m)

      const generated = await cli(['migrate', 'generate', 'create_users', '--from-models', '--models', 'db/models.ts'])
      expect(generated.code, generated.stderr).toBe(0)
      expect(generated.stdout).toMatch(/^Created migrations\/\d{14}_create_users\.sql \(1 change\)$/m)
      const json = await cli(['migrate', 'generate', 'add_more', '--from-models', '--models', 'db/models.ts', '--json'])
      expect(json.json()).toMatchObject({ path: null, changes: 0 }) // nothing to do: the first file gives the models
      const empty = await cli(['migrate', 'generate', 'by_hand'])
      expect(empty.stdout).toMatch(/^Created migrations\/\d{14}_by_hand\.sql$/m)

      expect((await cli(['migrate', 'up', '--quiet'])).code).toBe(0)
      const diff = await cli(['schema', 'diff', '--models', 'db/models.ts', '--exit-code'])
      expect(diff.code, diff.stdout + diff.stderr).toBe(0)
    })

    test('a failed migration: the message carries the SQLSTATE on PostgreSQL (text and JSON), none on SQLite', async () => {
      p.write('20250101000001_users.sql', sqlMigration('CREATE TABLE users (id integer PRIMARY KEY);'))
      p.write('20250101000002_bad.sql', sqlMigration('UPDATE users SET missing_column = 1;'))
      const text = await cli(['migrate', 'up'])
      expect(text.code).toBe(1)
      const json = await cli(['migrate', 'up', '--json'])
      expect(json.code).toBe(1)
      const error = json.json().error
      if (dialect.name === 'postgres') {
        expect(text.stderr).toMatch(/^error: .*column "missing_column" of relation "users" does not exist \(SQLSTATE 42703\)$/m)
        expect(error).toMatchObject({ code: 'MIGRATION_FAILED', sqlstate: '42703', message: expect.stringMatching(/\(SQLSTATE 42703\)$/) })
      } else {
        expect(text.stderr).toMatch(/^error: .*no such column: missing_column$/m)
        expect(text.stderr).not.toMatch(/SQLSTATE/)
        expect(error).not.toHaveProperty('sqlstate')
      }
      // one migration before it in this run: singular
      expect(text.stderr).toMatch(/^hint: .*The migration before it in this run stays applied\./m)
    })

    test('indented -- migrate:down / -- migrate:up: accepted, one warning per file that dbmate would not split there', async () => {
      p.write('20250101000001_indented.sql', '  -- migrate:up\nCREATE TABLE t (id integer);\n\n\t-- migrate:down\nDROP TABLE t;\n')
      p.write('20250101000002_plain.sql', sqlMigration('CREATE TABLE u (id integer);', 'DROP TABLE u;'))
      const warning =
        /^warning: migrations\/20250101000001_indented\.sql: indented `-- migrate:up` \(line 1\) and `-- migrate:down` \(line 4\): dbmate would not split there/
      const expectOneWarning = (result: CliResult) => {
        const warnings = result.stderr.split('\n').filter((l) => l.startsWith('warning:'))
        expect(warnings, result.stderr).toHaveLength(1)
        expect(warnings[0]).toMatch(warning)
      }
      const status = await cli(['migrate', 'status'])
      expect(status.code).toBe(0)
      expectOneWarning(status)
      expect((await cli(['migrate', 'status', '--json'])).json().warnings).toEqual([expect.stringMatching(/dbmate would not split there/)])
      const up = await cli(['migrate', 'up', '--json'])
      expect(up.code, up.stderr).toBe(0)
      expect(up.json().warnings).toEqual([expect.stringMatching(/20250101000001_indented\.sql: indented/)])
      expectOneWarning(up)
      expect(await p.tables()).toEqual(['t', 'u'])
      const down = await cli(['migrate', 'down', '--to', '0'])
      expect(down.code, down.stderr).toBe(0)
      expectOneWarning(down)
      expect(await p.tables()).toEqual([])
    })

    test('table names follow the database: SQLite matches case-insensitively; PostgreSQL folds unless quoted', async () => {
      await execSql(p.url, 'CREATE TABLE "Track" (id integer PRIMARY KEY, title text); CREATE TABLE users (id integer PRIMARY KEY)')
      const rows = (name: string) => cli(['inspect', 'rows', name, '--json'])
      if (dialect.name === 'sqlite') {
        for (const name of ['track', 'TRACK', 'Track', '"track"']) {
          const result = await rows(name)
          expect(result.code, `${name}: ${result.stderr}`).toBe(0)
          expect(result.json().table).toBe('Track')
        }
        expect((await cli(['inspect', 'table', 'track', '--json'])).json()).toMatchObject({ name: 'Track' })
      } else {
        expect((await rows('"Track"')).json()).toMatchObject({ table: 'Track' })
        expect((await cli(['inspect', 'table', '"Track"', '--json'])).json()).toMatchObject({ name: 'Track' })
        expect((await rows('USERS')).json()).toMatchObject({ table: 'users' })
        for (const name of ['track', 'Track']) {
          const refused = await cli(['inspect', 'rows', name])
          expect(refused.code).toBe(2)
          expect(refused.stderr).toMatch(/hint: Did you mean "Track"\?/)
        }
      }
    })

    test('inspect table: as many titles as dash groups', async () => {
      await execSql(p.url, 'CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL)')
      const result = await cli(['inspect', 'table', 'users'])
      expect(result.code, result.stderr).toBe(0)
      const lines = result.stdout.split('\n')
      const dashes = lines.findIndex((l) => /^-+ /.test(l))
      const groups = lines[dashes]!.trim().split(/\s+/)
      const titles = lines[dashes - 1]!.trim().split(/\s{2,}/)
      expect(titles).toHaveLength(groups.length)
      // each title starts where its dash group starts
      let at = 0
      for (const group of groups) {
        const start = lines[dashes]!.indexOf(group, at)
        expect(lines[dashes - 1]!.slice(start)).toMatch(/^[A-Z]/)
        at = start + group.length
      }
    })
  })
}

describe('sqlite: health names the library version, not a server version', () => {
  test('text and JSON', async () => {
    const p = await createMigrationProject(testDialects().find((d) => d.name === 'sqlite')!)
    try {
      await execSql(p.url, 'CREATE TABLE t (id integer)')
      const run = (json: boolean) =>
        runCli(['health', '--threshold', 'backup_age_hours=off', ...(json ? ['--json'] : [])], {
          cwd: p.dir,
          env: { DATABASE_URL: p.url, NO_COLOR: '1' },
        })
      const text = await run(false)
      expect(text.stdout).not.toMatch(/server version/)
      expect(text.stdout).toMatch(/^connection +ok .*sqlite version 3\.\d+\.\d+/m)
      const connection = (await run(true)).json().components[0]
      expect(connection.details).toMatchObject({ sqlite_version: expect.stringMatching(/^3\.\d+\.\d+$/) })
      expect(connection.details).not.toHaveProperty('server_version')
    } finally {
      await p.cleanup()
    }
  })
})
