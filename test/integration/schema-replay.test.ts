/**
 * The migrations replayed into a throwaway database, with the test stand-in for the runner:
 * `migrate generate --from-models` writes the migration (nothing when there is nothing to
 * do), data-loss steps commented out and warned about; `schema diff --against migrations`
 * then finds no drift; the down section reverses the up; the throwaway database is gone
 * afterwards; `SHADOW_DATABASE_URL` must be empty and is emptied again.
 */
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, inject, test } from 'vitest'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import type { SqliteConnection } from '../../src/dialects/sqlite/sqlite-connection.js'
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { col } from '../../src/schema/column-builder.js'
import { compareSchemas } from '../../src/drift/compare-schemas.js'
import { defineModels, table } from '../../src/schema/define-models.js'
import { diffSchemas } from '../../src/schema/diff-schemas.js'
import { generateMigrationFromModels } from '../../src/drift/generate-migration-from-models.js'
import { modelsToSchema } from '../../src/schema/models-to-schema.js'
import { replayMigrations } from '../../src/drift/replay-migrations.js'
import { summariseChange } from '../../src/schema/schema-change.js'
import { applySqlMigrations, parseMigrationFile, runSection } from '../support/apply-sql-migrations.js'
import { type TestDatabase, testDialects } from '../support/dialects.js'
import { createTestDatabase } from '../support/postgres.js'

function models(version: 1 | 2) {
  const users = table('users', {
    id: col.integer().primaryKey().identity(),
    email: col.varchar(255).unique(),
    // v2: nickname dropped (data loss), active added
    ...(version === 1 ? { nickname: col.text().nullable() } : { active: col.boolean().default(true) }),
  })
  const posts = table('posts', {
    id: col.integer().primaryKey().identity(),
    author_id: col.integer().references('users', 'id', { onDelete: 'cascade' }),
    // v2: a check
    title: version === 1 ? col.text() : col.text().check('length(title) > 0'),
  })
  return defineModels({ users, posts })
}

const connect = { mode: 'read' as const, command: 'test' }

async function countShadowDatabases(): Promise<number> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') })
  await client.connect()
  try {
    return Number((await client.query("SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'dbops_shadow_%'")).rows[0].n)
  } finally {
    await client.end()
  }
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: migrations replayed`, () => {
    let db: TestDatabase | undefined
    afterEach(async () => {
      await db?.cleanup()
      db = undefined
    })

    async function project(): Promise<ResolvedConfig> {
      db ??= await dialect.create()
      return resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
    }

    test('generate from models, nothing to do twice, no drift against the migrations, data loss commented, down reverses up', async () => {
      const config = await project()
      const first = await generateMigrationFromModels(config, {
        name: 'create users',
        models: models(1),
        apply: applySqlMigrations,
        connect,
        now: new Date('2025-01-02T03:04:05Z'),
      })
      expect(first.file).toBe(path.join(config.migrationsDir, '20250102030405_create_users.sql'))
      const text = fs.readFileSync(first.file!, 'utf8')
      expect(text).toMatch(/^-- migrate:up\n/)
      expect(text).toContain('-- migrate:down')
      expect(text).toContain('CREATE TABLE users')
      expect(first.warnings).toEqual([])

      // nothing to do: nothing written, and it says so (file undefined)
      const again = await generateMigrationFromModels(config, {
        name: 'again',
        models: models(1),
        apply: applySqlMigrations,
        connect,
        now: new Date('2025-01-02T03:04:06Z'),
      })
      expect(again).toEqual({ file: undefined, changes: [], warnings: [], commentedSteps: 0 })
      expect(fs.readdirSync(config.migrationsDir)).toEqual(['20250102030405_create_users.sql'])
      const clean = await compareSchemas(config, { against: 'migrations', models: models(1), apply: applySqlMigrations, connect })
      expect(clean.changes).toEqual([])

      // v2: the dropped column is data loss, commented out and warned about
      const second = await generateMigrationFromModels(config, {
        name: 'v2',
        models: models(2),
        apply: applySqlMigrations,
        connect,
        now: new Date('2025-01-03T00:00:00Z'),
      })
      const v2 = fs.readFileSync(second.file!, 'utf8')
      expect(second.commentedSteps).toBe(1)
      expect(second.warnings).toEqual([
        expect.stringMatching(/^data loss, commented out in the migration \(uncomment to apply\): drop column users\.nickname/),
      ])
      expect(v2).toContain('-- DATA LOSS: commented out; uncomment to apply')
      if (dialect.name === 'sqlite') {
        // the check rebuilds posts (foreign keys off); the dropped column stands alone, so only it is commented
        expect(v2).toMatch(/^-- migrate:up foreign_keys:off\n/)
        expect(v2).toContain('\nALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT 1;')
        expect(v2).toContain('-- ALTER TABLE users DROP COLUMN nickname;')
        expect(v2).toContain('CREATE TABLE _dbops_new_posts (')
      } else {
        expect(v2).toContain('-- ALTER TABLE users DROP COLUMN nickname;')
        expect(v2).toContain('ALTER TABLE posts ADD CONSTRAINT posts_title_check CHECK (length(title) > 0);')
      }
      // with the data-loss step commented out, the migrations still keep the column: drift, and it is named
      const drift = await compareSchemas(config, { against: 'migrations', models: models(2), apply: applySqlMigrations, connect })
      expect(drift.changes.map(summariseChange).some((s) => s.includes('users.nickname'))).toBe(true)

      // uncomment it: no drift
      fs.writeFileSync(second.file!, uncommentDataLoss(v2))
      const none = await compareSchemas(config, { against: 'migrations', models: models(2), apply: applySqlMigrations, connect })
      expect(none.changes.map(summariseChange)).toEqual([])

      // down of the last migration brings the replay back to v1
      await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
        for (const file of fs.readdirSync(config.migrationsDir).sort()) {
          await runSection(
            conn as SqliteConnection | PostgresConnection,
            parseMigrationFile(fs.readFileSync(path.join(config.migrationsDir, file), 'utf8')).up,
            file,
          )
        }
        const afterUp = await conn.dialect.introspect(conn, { schemas: [config.schema], defaultSchema: config.schema })
        const v2Schema = modelsToSchema(models(2), dialect.name)
        expect(diffSchemas(afterUp, v2Schema).map(summariseChange)).toEqual([])
        await runSection(conn as SqliteConnection | PostgresConnection, parseMigrationFile(uncommentDataLoss(v2)).down, 'down')
        const afterDown = await conn.dialect.introspect(conn, { schemas: [config.schema], defaultSchema: config.schema })
        const replayedV1 = await replayOnly(config, first.file!)
        expect(diffSchemas(afterDown, replayedV1).map(summariseChange)).toEqual([])
      })
      if (dialect.name === 'postgres') expect(await countShadowDatabases()).toBe(0)
    })

    test('a migration that fails in the replay fails the comparison, and the shadow database is still removed', async () => {
      const config = await project()
      fs.mkdirSync(config.migrationsDir, { recursive: true })
      fs.writeFileSync(path.join(config.migrationsDir, '20250101000000_broken.sql'), '-- migrate:up\nCREATE TABLE x (;\n-- migrate:down\n')
      await expect(
        compareSchemas(config, { against: 'migrations', models: models(1), apply: applySqlMigrations, connect }),
      ).rejects.toThrow(/syntax error|near/)
      if (dialect.name === 'postgres') expect(await countShadowDatabases()).toBe(0)
    })
  })
}

describe('postgres: SHADOW_DATABASE_URL', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  test('must be empty, is used, and is emptied again; the configured database itself is refused', async () => {
    const main = await createTestDatabase(inject('pgAdminUrl'))
    const shadow = await createTestDatabase(inject('pgAdminUrl'))
    cleanups.push(
      () => main.drop(),
      () => shadow.drop(),
    )
    const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'dbops-shadow-test-'))
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }))
    fs.mkdirSync(path.join(dir, 'migrations'))
    fs.writeFileSync(
      path.join(dir, 'migrations', '20250101000000_a.sql'),
      "-- migrate:up\nCREATE TABLE a (id integer PRIMARY KEY);\nCREATE VIEW av AS SELECT * FROM a;\nCREATE TYPE t AS ENUM ('x');\n-- migrate:down\nDROP TABLE a;\n",
    )
    const config = await resolveConfig({ cwd: dir, env: { DATABASE_URL: main.url } })

    const replayed = await replayMigrations(config, { apply: applySqlMigrations, shadowUrl: shadow.url, connect })
    expect(replayed.tables.map((t) => t.name)).toEqual(['a'])
    expect(replayed.enums).toEqual([{ name: 't', values: ['x'] }])
    const client = new pg.Client({ connectionString: shadow.url })
    await client.connect()
    try {
      const left = await client.query(
        "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
      )
      expect(Number(left.rows[0].n)).toBe(0)
      await client.query('CREATE TABLE not_yours (id int)')
    } finally {
      await client.end()
    }
    await expect(replayMigrations(config, { apply: applySqlMigrations, shadowUrl: shadow.url, connect })).rejects.toMatchObject({
      code: 'SHADOW_NOT_EMPTY',
      exitCode: 2,
    })
    await expect(replayMigrations(config, { apply: applySqlMigrations, shadowUrl: main.url, connect })).rejects.toMatchObject({
      code: 'SHADOW_IS_TARGET',
      exitCode: 2,
    })
  })
})

/** The migration with its data-loss steps uncommented, as a user would after reading it. */
function uncommentDataLoss(text: string): string {
  const lines = text.split('\n')
  const out: string[] = []
  let inDisabled = false
  for (const line of lines) {
    if (
      line === '-- DATA LOSS: commented out; uncomment to apply' ||
      line === '-- reverses a step commented out in up; uncomment with it'
    ) {
      inDisabled = true
      continue
    }
    if (inDisabled && line.startsWith('-- ') && !/^-- (add|drop|alter|create|rename|primary|note)/.test(line)) {
      out.push(line.slice(3))
      continue
    }
    inDisabled = inDisabled && line.startsWith('-- ')
    out.push(line)
  }
  return out.join('\n')
}

/** The schema of one migration file replayed alone. */
async function replayOnly(config: ResolvedConfig, file: string) {
  const dir = fs.mkdtempSync(path.join(path.dirname(file), '..', 'only-'))
  fs.copyFileSync(file, path.join(dir, path.basename(file)))
  try {
    return await replayMigrations({ ...config, migrationsDir: dir }, { apply: applySqlMigrations, connect })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
