/**
 * The developer loop end to end, on each dialect: models → `migrate generate --from-models`
 * → `migrate up` → `schema diff` is empty; change the models → a new migration with just
 * that change; a dropped column is commented out and warned about; nothing to do writes nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { runCli } from '../support/cli.js'
import { testDialects, type TestDatabase } from '../support/dialects.js'

const MODELS_V1 = `import { col, defineModels, table } from 'dbops'
export const users = table('users', {
  id: col.bigint().primaryKey().identity(),
  email: col.varchar(255).unique(),
  nickname: col.text().nullable(),
})
export default defineModels({ users })
`
const MODELS_V2 = MODELS_V1.replace(
  '  nickname: col.text().nullable(),\n',
  '  nickname: col.text().nullable(),\n  active: col.boolean().default(true),\n',
)
const MODELS_V3 = MODELS_V2.replace('  nickname: col.text().nullable(),\n', '')

let db: TestDatabase | undefined
afterEach(async () => {
  await db?.cleanup()
  db = undefined
})

for (const dialect of testDialects()) {
  describe(`${dialect.name}: migrate generate --from-models`, () => {
    test('generate, apply, no drift; change, generate again; data loss commented; nothing to do', async () => {
      db = await dialect.create()
      const cwd = db.dir
      fs.mkdirSync(path.join(cwd, 'migrations'))
      fs.writeFileSync(path.join(cwd, 'dbops.config.json'), JSON.stringify({ models: 'models.ts' }))
      const env = { DATABASE_URL: db.url }
      const cli = (...args: string[]) => runCli(args, { cwd, env, timeoutMs: 60_000 })
      const migrationFiles = () => fs.readdirSync(path.join(cwd, 'migrations')).sort()

      fs.writeFileSync(path.join(cwd, 'models.ts'), MODELS_V1)
      const first = await cli('migrate', 'generate', 'create_users', '--from-models', '--json')
      expect(first.code, first.stderr).toBe(0)
      expect(first.json()).toMatchObject({ changes: 1, commented_steps: 0 })
      expect(migrationFiles()).toHaveLength(1)
      expect((await cli('migrate', 'up')).code).toBe(0)
      const clean = await cli('schema', 'diff', '--exit-code')
      expect(clean.code, clean.stdout + clean.stderr).toBe(0)

      fs.writeFileSync(path.join(cwd, 'models.ts'), MODELS_V2)
      const drift = await cli('schema', 'diff', '--exit-code', '--json')
      expect(drift.code).toBe(3)
      const second = await cli('migrate', 'generate', 'add_active', '--from-models', '--json')
      expect(second.code, second.stderr).toBe(0)
      const secondFile = fs.readFileSync(path.join(cwd, second.json().path), 'utf8')
      expect(secondFile).toMatch(/-- migrate:up/)
      expect(secondFile).toMatch(/active/)
      expect(secondFile).toMatch(/-- migrate:down/)
      expect((await cli('migrate', 'up')).code).toBe(0)
      expect((await cli('schema', 'diff', '--exit-code')).code).toBe(0)
      // the migrations directory alone gives the models too (the CI check)
      expect((await cli('schema', 'diff', '--against', 'migrations', '--exit-code')).code).toBe(0)

      fs.writeFileSync(path.join(cwd, 'models.ts'), MODELS_V3)
      const third = await cli('migrate', 'generate', 'drop_nickname', '--from-models', '--json')
      expect(third.code, third.stderr).toBe(0)
      expect(third.json().commented_steps).toBeGreaterThan(0)
      expect(third.stderr).toMatch(/warning:/)
      expect(fs.readFileSync(path.join(cwd, third.json().path), 'utf8')).toMatch(/DATA LOSS/)

      // with nothing to do, nothing is written
      fs.writeFileSync(path.join(cwd, 'models.ts'), MODELS_V2)
      fs.rmSync(path.join(cwd, third.json().path))
      const before = migrationFiles()
      const none = await cli('migrate', 'generate', 'nothing', '--from-models')
      expect(none.code).toBe(0)
      expect(none.stdout).toMatch(/Nothing to do/)
      expect(migrationFiles()).toEqual(before)
    })
  })
}
