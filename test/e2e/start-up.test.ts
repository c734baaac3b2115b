/**
 * What a run loads: `migrate status`, `up` and `down` read and write the history table through
 * each connection's own query and never load Kysely (~470 kB of code; src/kysely-runtime.ts).
 * A command that builds queries with Kysely (`inspect rows`) does, which shows the check
 * sees a load when there is one.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { repoRoot, runCli } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

const preload = path.join(repoRoot, 'test', 'support', 'record-requires.mjs')
let runs = 0

/** Runs dbops with the preload; returns the exit code and every module id it required. */
async function requiresOf(project: MigrationProject, args: string[]): Promise<{ code: number | null; requested: string[] }> {
  const log = path.join(project.dir, `requires-${++runs}.jsonl`)
  const result = await runCli(args, {
    cwd: project.dir,
    env: { DATABASE_URL: project.url, NODE_OPTIONS: `--import ${preload}`, DBOPS_TEST_REQUIRES: log },
  })
  expect(result.stderr).not.toMatch(/Error|error:/)
  return {
    code: result.code,
    requested: fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .flatMap((line) => JSON.parse(line) as string[]),
  }
}

const loadsKysely = (requested: string[]) => requested.some((id) => /kysely/.test(id))

for (const dialect of testDialects()) {
  describe(`${dialect.name}: what a migration command loads`, () => {
    let project: MigrationProject
    afterEach(async () => project?.cleanup())

    test('migrate up, status and down never load Kysely; inspect rows does', async () => {
      project = await createMigrationProject(dialect)
      project.write(
        '20250101000000_users.sql',
        sqlMigration('CREATE TABLE users (id integer PRIMARY KEY, name text);', 'DROP TABLE users;'),
      )
      project.write('20250101000001_orders.sql', sqlMigration('CREATE TABLE orders (id integer PRIMARY KEY);', 'DROP TABLE orders;'))
      for (const args of [
        ['migrate', 'up'],
        ['migrate', 'status'],
        ['migrate', 'up'],
        ['migrate', 'down'],
      ]) {
        const run = await requiresOf(project, args)
        expect(run.code, args.join(' ')).toBe(0)
        expect(run.requested.length, args.join(' ')).toBeGreaterThan(0)
        expect(loadsKysely(run.requested), args.join(' ')).toBe(false)
      }
      expect(await project.tables()).toEqual(['users'])
      const inspect = await requiresOf(project, ['inspect', 'rows', 'users'])
      expect(inspect.code).toBe(0)
      expect(loadsKysely(inspect.requested)).toBe(true)
    })
  })
}
