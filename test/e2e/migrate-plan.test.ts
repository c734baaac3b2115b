/**
 * `dbops migrate plan` through the built CLI on the real PostgreSQL: the pending migrations
 * traced in a schema-only copy of the target, graded by the target's sizes; the target is only
 * read and the copy is gone afterwards; `migrate up --plan` applies exactly the saved plan.
 */
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, inject, test } from 'vitest'
import { runCli, startCli, waitFor } from '../support/cli.js'
import { testDialects } from '../support/dialects.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'
import { createTestDatabase, withUrl } from '../support/postgres.js'
import { copyDatabaseName } from '../../src/dialects/postgres/plan/postgres-schema-copy.js'

const postgres = testDialects().find((d) => d.name === 'postgres')!
const sqlite = testDialects().find((d) => d.name === 'sqlite')!

describe('postgres: migrate plan', () => {
  let p: MigrationProject
  beforeEach(async () => {
    p = await createMigrationProject(postgres)
  })
  afterEach(async () => {
    await p.cleanup()
  })
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['migrate', ...args], { cwd: p.dir, env: { DATABASE_URL: p.url, ...extra }, timeoutMs: 60_000 })
  /** Copies of this project's database that plan may have left behind (other tests plan other databases at the same time). */
  const leftovers = async () => {
    const prefix = copyDatabaseName(new URL(p.url).pathname.slice(1)).replace(/[0-9a-f]+$/, '')
    const rows = await p.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix}')`)
    return rows.map((r) => r.datname)
  }

  test('a type change on a table with rows: ACCESS EXCLUSIVE and a rewrite, graded by the target; the target unchanged', async () => {
    await p.query('CREATE TABLE orders (id integer PRIMARY KEY, amount integer NOT NULL)')
    await p.query('INSERT INTO orders SELECT g, g FROM generate_series(1, 20000) g')
    await p.query('ANALYZE orders')
    const before = await leftovers()
    p.write('20250101000001_amount_bigint.sql', sqlMigration('ALTER TABLE orders ALTER COLUMN amount TYPE bigint;'))

    const json = await cli(['plan', '--json'])
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const doc = json.json()
    const statement = doc.migrations[0].statements[0]
    expect(statement.line).toBe(2)
    expect(statement.locks).toContainEqual(expect.objectContaining({ relation: 'public.orders', mode: 'AccessExclusiveLock' }))
    expect(statement.rewritten).toContain('public.orders')
    expect(statement.blocks).toEqual({ reads: true, writes: true, ddl: true })
    expect(statement.grade).toBe('high')
    expect(statement.reason).toMatch(/public\.orders \(.*~20 k rows\)/)
    // the static lint beside it, confirmed by the trace: not downgraded
    expect(statement.lint).toEqual([expect.objectContaining({ rule: 'column-type-rewrite', severity: 'error' })])
    expect(statement.lint[0].downgraded).toBeUndefined()

    const text = await cli(['plan'])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('20250101000001_amount_bigint.sql')
    expect(text.stdout).toMatch(/ACCESS EXCLUSIVE on public\.orders .*rewrite.*blocks reads and writes/)

    // only read: no history, no change, no copy left
    expect(await p.query(`SELECT to_regclass('public.dbops_migrations') AS t`)).toEqual([{ t: null }])
    expect(
      await p.query(`SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'amount'`),
    ).toEqual([{ data_type: 'integer' }])
    expect(await leftovers()).toEqual(before)
  })

  test('CREATE INDEX CONCURRENTLY (transaction:false) takes no write-blocking lock; the same on a table created in the plan is low', async () => {
    await p.query('CREATE TABLE events (id integer, kind text)')
    await p.query('INSERT INTO events SELECT g, g::text FROM generate_series(1, 20000) g')
    await p.query('ANALYZE events')
    p.write(
      '20250101000001_idx.sql',
      sqlMigration('CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);', undefined, 'transaction:false'),
    )
    p.write('20250101000002_fresh.sql', sqlMigration('CREATE TABLE fresh (id integer);\nALTER TABLE fresh ALTER COLUMN id TYPE bigint;'))
    await p.query('CREATE TABLE tiny (id integer)')
    p.write('20250101000003_tiny.sql', sqlMigration('CREATE INDEX tiny_id_idx ON tiny (id);'))
    const doc = (await cli(['plan', '--json'])).json()
    const [index, fresh, tiny] = doc.migrations
    expect(index.transaction).toBe(false)
    const locks = index.statements[0].locks
    expect(locks).toContainEqual(expect.objectContaining({ relation: 'public.events', mode: 'ShareUpdateExclusiveLock' }))
    expect(index.statements[0].blocks.writes).toBe(false)
    expect(index.statements[0].blocks.reads).toBe(false)
    expect(fresh.statements[1].rewritten).toEqual(['public.fresh'])
    expect(fresh.statements[1].grade).toBe('low')
    expect(fresh.statements[1].reason).toContain('created in this plan')
    // the lint's finding on an empty table of the target, downgraded by the trace with its reason
    expect(tiny.statements[0].locks).toContainEqual(expect.objectContaining({ relation: 'public.tiny', mode: 'ShareLock' }))
    expect(tiny.statements[0].lint).toEqual([
      expect.objectContaining({
        rule: 'create-index-non-concurrently',
        severity: 'warning',
        downgraded: expect.stringMatching(/^the trace disagrees: SHARE on public\.tiny \(.*~0 rows\) with an index build/),
      }),
    ])
    expect(fresh.commit_locks).toContainEqual(expect.objectContaining({ relation: 'public.fresh', mode: 'AccessExclusiveLock' }))
  })

  test('a migration failing in the copy: exit 1 naming file and line, nothing left behind', async () => {
    const before = await leftovers()
    p.write('20250101000001_bad.sql', sqlMigration('CREATE TABLE a (id integer);\nINSERT INTO nowhere VALUES (1);'))
    for (const args of [['plan'], ['plan', '--json']]) {
      const result = await cli(args)
      expect(result.code).toBe(1)
      if (args.length === 1)
        expect(result.stderr).toMatch(/error: Migration migrations\/20250101000001_bad\.sql failed in the schema copy at line 3/)
      else expect(result.json().error.code).toBe('MIGRATION_FAILED')
    }
    expect(await leftovers()).toEqual(before)
    expect(await p.tables()).toEqual([])
  })

  test('SIGTERM while a statement runs in the copy: 143, the copy dropped', async () => {
    const before = await leftovers()
    p.write('20250101000001_slow.sql', sqlMigration('CREATE TABLE slow (id integer);\nSELECT pg_sleep(60);'))
    const run = startCli(['migrate', 'plan'], { cwd: p.dir, env: { DATABASE_URL: p.url }, timeoutMs: 60_000 })
    await waitFor('the sleep in the copy', async () => {
      const rows = await p.query(`SELECT 1 FROM pg_stat_activity WHERE datname LIKE 'dbops\\_plan\\_%' AND query LIKE '%pg_sleep(60)%'`)
      return rows.length > 0
    })
    run.child().kill('SIGTERM')
    const result = await run.done
    expect(result.code).toBe(143)
    expect(result.stderr).toMatch(/Interrupted by SIGTERM/)
    expect(await leftovers()).toEqual(before)
  })

  test('a role that may not create databases: exit 2 naming SHADOW_DATABASE_URL; with it set, the plan runs there and empties it', async () => {
    const role = `dbops_plan_role_${randomBytes(4).toString('hex')}`
    const shadow = await createTestDatabase(inject('pgAdminUrl'), 'dbops_plan_shadow')
    await p.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw' NOCREATEDB`)
    try {
      const db = new URL(p.url).pathname.slice(1)
      await p.query(`ALTER DATABASE ${db} OWNER TO ${role}; ALTER SCHEMA public OWNER TO ${role}`)
      await p.query(`ALTER DATABASE ${shadow.name} OWNER TO ${role}`)
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      const env = { DATABASE_URL: withUrl(p.url, { user: role, password: 'pw' }) }
      const denied = await cli(['plan'], env)
      expect(denied.code).toBe(2)
      expect(denied.stderr).toMatch(/^error: Cannot create a temporary database .* for the schema copy: permission denied/m)
      expect(denied.stderr).toMatch(/^hint: Set SHADOW_DATABASE_URL to an empty PostgreSQL database/m)

      const shadowUrl = withUrl(shadow.url, { user: role, password: 'pw' })
      const planned = await cli(['plan', '--json'], { ...env, SHADOW_DATABASE_URL: shadowUrl })
      expect(planned.code).toBe(0)
      expect(planned.json().copy).toContain('SHADOW_DATABASE_URL')
      const { Client } = (await import('pg')).default
      const client = new Client({ connectionString: shadow.url })
      await client.connect()
      try {
        const left = await client.query(
          `SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`,
        )
        expect(left.rows).toEqual([])
      } finally {
        await client.end()
      }
    } finally {
      await shadow.drop()
      await p.cleanup()
      const { Client } = (await import('pg')).default
      const admin = new Client({ connectionString: inject('pgAdminUrl') })
      await admin.connect()
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end())
    }
  })

  test('a .ts migration is traced as one step, its locks read at the end of its transaction', async () => {
    await p.query('CREATE TABLE items (id integer)')
    p.write(
      '20250101000001_items_index.ts',
      "export async function up(db: any) { await db.schema.createIndex('items_id_idx').on('items').column('id').execute() }\n",
    )
    const doc = (await cli(['plan', '--json'])).json()
    const [migration] = doc.migrations
    expect(migration.traced).toBe('whole')
    expect(migration.statements).toHaveLength(1)
    expect(migration.statements[0].line).toBeNull()
    expect(migration.statements[0].locks).toContainEqual(expect.objectContaining({ relation: 'public.items', mode: 'ShareLock' }))
    expect(migration.statements[0].indexes_built).toEqual(['public.items_id_idx on public.items'])
  })

  test('unreachable target: exit 4', async () => {
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    const result = await runCli(['migrate', 'plan'], {
      cwd: p.dir,
      env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/app', DATABASE_CONNECT_TIMEOUT: '2', DATABASE_MAX_RETRIES: '0' },
    })
    expect(result.code).toBe(4)
  })

  test('--out then up --plan applies it; a changed file since: exit 6 naming it', async () => {
    p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
    p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
    const out = path.join(p.dir, 'plan.json')
    const saved = await cli(['plan', '--out', out])
    expect(saved.code).toBe(0)
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).migrations).toHaveLength(2)
    expect(fs.readdirSync(p.dir).filter((f) => f.startsWith('.plan') || f.includes('.tmp'))).toEqual([])

    p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id bigint);'))
    for (const args of [
      ['up', '--plan', out],
      ['up', '--plan', out, '--json'],
    ]) {
      const stale = await cli(args)
      expect(stale.code).toBe(6)
      if (args.length === 3) expect(stale.stderr).toMatch(/20250101000002_b\.sql changed since the plan/)
    }
    expect(await p.tables()).toEqual([])

    p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
    const applied = await cli(['up', '--plan', out])
    expect(applied.code).toBe(0)
    expect(await p.tables()).toEqual(['a', 'b'])
  })
})

test('sqlite: plan needs PostgreSQL (exit 2, pointing at migrate lint)', async () => {
  const db = await sqlite.create()
  try {
    fs.mkdirSync(path.join(db.dir, 'migrations'))
    const result = await runCli(['migrate', 'plan'], { cwd: db.dir, env: { DATABASE_URL: db.url } })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/plan needs PostgreSQL.*migrate lint/)
  } finally {
    await db.cleanup()
  }
})
