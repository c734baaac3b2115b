/**
 * Fleets end to end through the built CLI: 50 PostgreSQL databases (one unreachable, one with a
 * failing migration, one locked by another run), 50 tenant schemas in one database (concurrency
 * capped by the role's free connections, the history guard scoped to sibling tenants and still
 * guarding everyone else), duplicate targets, a failing targets query, SIGINT, and SQLite files
 * with --canary and --fail-fast.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import pg from 'pg'
import { postgresMigrationLockKey } from '../../src/dialects/postgres/postgres-migration-lock.js'
import { makeTempDir, runCli, startCli, waitFor } from '../support/cli.js'
import { type TestDatabase, createTestDatabase, withUrl } from '../support/postgres.js'
import { sqlMigration } from '../support/migrations.js'

const V1 = '20250101000001'
const V3 = '20250101000003'

/** A project directory with three trivial migrations and `config` as dbops.config.json. */
function project(config: object, dir = makeTempDir('dbops-fleet-')) {
  fs.mkdirSync(path.join(dir.dir, 'migrations'))
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir.dir, 'migrations', name), text)
  write(`${V1}_a.sql`, sqlMigration('CREATE TABLE a (id integer);', 'DROP TABLE a;'))
  write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);', 'DROP TABLE b;'))
  write(`${V3}_c.sql`, sqlMigration('CREATE TABLE c (id integer);', 'DROP TABLE c;'))
  fs.writeFileSync(path.join(dir.dir, 'dbops.config.json'), JSON.stringify(config))
  return { ...dir, write }
}

/** Runs `fn` on each of `items`, `width` at a time (creating and dropping 50 databases one by one is most of this file's time). */
async function eachAtOnce<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!)
      }
    }),
  )
  return out
}

async function sqlOn<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text, params)).rows as T[]
  } finally {
    await client.end()
  }
}

describe('postgres: a fleet of 50 databases', () => {
  const admin = inject('pgAdminUrl')
  const password = decodeURIComponent(new URL(admin).password)
  let dbs: TestDatabase[] = []
  let p: ReturnType<typeof project>
  let holder: pg.Client
  // without their passwords: DATABASE_PASSWORD supplies them
  const bare = (db: TestDatabase) => withUrl(db.url, { password: '' }).replace(/:@/, '@')
  const env = { DATABASE_PASSWORD: password, DATABASE_CONNECT_TIMEOUT: '4' }

  beforeAll(async () => {
    dbs = await eachAtOnce(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      () => createTestDatabase(admin, 'dbops_fleet'),
    )
    const unreachable = withUrl(bare(dbs[0]!), { port: 1 })
    p = project({
      fleets: {
        tenants: { urlsFile: 'tenants.txt' },
        reachable: { urlsFile: 'reachable.txt' },
        twice: { urls: [bare(dbs[0]!), bare(dbs[1]!), bare(dbs[0]!)] },
      },
    })
    fs.writeFileSync(path.join(p.dir, 'reachable.txt'), `# the 50\n${dbs.map(bare).join('\n')}\n`)
    fs.writeFileSync(path.join(p.dir, 'tenants.txt'), `${[...dbs.map(bare), unreachable].join('\n')}\n`)
  })
  afterAll(async () => {
    await holder?.end().catch(() => undefined)
    await eachAtOnce(dbs, 4, (db) => db.drop())
    p?.cleanup()
  })

  test('migrate up --fleet: the unreachable row says 4, the failing one 1 (its first migration applied), the locked one 5; the other 48 applied; a re-run does what is left', async () => {
    await sqlOn(dbs[10]!.url, 'CREATE TABLE b (id integer)') // migration b fails here
    holder = new pg.Client({ connectionString: dbs[20]!.url })
    await holder.connect()
    await holder.query('SELECT pg_advisory_lock($1, $2)', postgresMigrationLockKey('public'))

    const up = await runCli(['migrate', 'up', '--fleet', 'tenants', '--concurrency', '8', '--lock-timeout', '1', '--json'], {
      cwd: p.dir,
      env,
      timeoutMs: 120_000,
    })
    expect(up.code).toBe(1) // the worst: a failed migration outranks a lock timeout (5) and an unreachable server (4)
    const doc = up.json()
    expect(doc.targets).toHaveLength(51)
    const row = (db: TestDatabase) => doc.targets.find((t: { target: string }) => t.target.endsWith(`/${db.name}`))
    expect(row(dbs[10]!)).toMatchObject({ status: 'failed', exit_code: 1, before: null, after: V1, applied: 1 })
    expect(row(dbs[10]!).error.message).toMatch(/20250101000002_b\.sql.*already exists/s)
    expect(row(dbs[20]!)).toMatchObject({ status: 'failed', exit_code: 5, error: { code: 'LOCK_TIMEOUT' } })
    expect(doc.targets[50]).toMatchObject({
      target: expect.stringMatching(/:1\//),
      status: 'failed',
      exit_code: 4,
      error: { code: 'DB_UNREACHABLE' },
    })
    const ok = doc.targets.filter((t: { status: string }) => t.status === 'ok')
    expect(ok).toHaveLength(48)
    for (const t of ok) expect(t).toMatchObject({ before: null, after: V3, applied: 3, exit_code: 0, error: null })
    expect(up.stdout + up.stderr).not.toContain(password)
    expect(await sqlOn(dbs[30]!.url, 'SELECT version FROM dbops_migrations ORDER BY version')).toHaveLength(3)

    // status groups the fleet by head; with --exit-code the unreachable one (4) outranks the behind ones (3)
    const status = await runCli(['migrate', 'status', '--fleet', 'tenants', '--concurrency', '8', '--exit-code'], {
      cwd: p.dir,
      env,
      timeoutMs: 60_000,
    })
    expect(status.stdout).toContain(`48 at ${V3}, 1 at ${V1}, 1 at nothing applied, 1 unreachable`)
    expect(status.stdout).toContain('2 targets behind')
    expect(status.code).toBe(4)
    expect(status.stdout).toMatch(/TARGET\s+HEAD\s+PENDING\s+DIRTY\s+TIME\s+STATUS\s+ERROR/)

    await holder.end()
    await sqlOn(dbs[10]!.url, 'DROP TABLE b')
    const again = await runCli(['migrate', 'up', '--fleet', 'reachable', '--concurrency', '8', '--json'], {
      cwd: p.dir,
      env,
      timeoutMs: 120_000,
    })
    expect(again.code, JSON.stringify(again.json().targets.filter((t: { error: unknown }) => t.error))).toBe(0)
    const applied = again.json().targets.map((t: { applied: number }) => t.applied)
    expect(applied.filter((n: number) => n > 0)).toEqual([2, 3]) // dbs[10] and dbs[20] only
    expect(again.json().targets.every((t: { after: string }) => t.after === V3)).toBe(true)

    p.write('20250101000004_d.sql', sqlMigration('CREATE TABLE d (id integer);', 'DROP TABLE d;'))
    const pending = await runCli(['migrate', 'status', '--fleet', 'reachable', '--concurrency', '8', '--exit-code', '--json'], {
      cwd: p.dir,
      env,
      timeoutMs: 60_000,
    })
    expect(pending.code).toBe(3)
    expect(pending.json().groups).toEqual([{ group: `at ${V3}`, targets: 50 }])
    fs.rmSync(path.join(p.dir, 'migrations', '20250101000004_d.sql'))
  })

  test('duplicate targets are refused (exit 2) before anything runs', async () => {
    const fresh = await createTestDatabase(admin, 'dbops_fleet')
    dbs.push(fresh)
    fs.writeFileSync(path.join(p.dir, 'dup.txt'), `${bare(fresh)}\n${bare(dbs[5]!)}\n${bare(fresh)}?sslmode=disable\n`)
    const config = JSON.parse(fs.readFileSync(path.join(p.dir, 'dbops.config.json'), 'utf8'))
    config.fleets.dup = { urlsFile: 'dup.txt' }
    fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify(config))
    const result = await runCli(['migrate', 'up', '--fleet', 'dup'], { cwd: p.dir, env })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: Duplicate fleet target .*\/dbops_fleet_\w+: dup\.txt line 3 repeats dup\.txt line 1\nhint: /)
    expect(result.stdout).toBe('')
    expect(await sqlOn(fresh.url, "SELECT to_regclass('public.dbops_migrations') AS t")).toEqual([{ t: null }])
    const json = await runCli(['migrate', 'up', '--fleet', 'twice', '--json'], { cwd: p.dir, env })
    expect(json.code).toBe(2)
    expect(json.json().error.code).toBe('FLEET_DUPLICATE_TARGET')
  })
})

describe('postgres: 50 tenant schemas in one database', () => {
  const admin = inject('pgAdminUrl')
  const role = `fleet_role_${process.pid}`
  let db: TestDatabase
  let p: ReturnType<typeof project>
  let url: string

  beforeAll(async () => {
    db = await createTestDatabase(admin, 'dbops_fleet_schemas')
    // a role with 8 connections: a fleet of 20 at once would exhaust them
    await sqlOn(admin, `DROP ROLE IF EXISTS ${role}`)
    await sqlOn(admin, `CREATE ROLE ${role} LOGIN PASSWORD 'tenant-secret-pw' CONNECTION LIMIT 8`)
    await sqlOn(admin, `ALTER DATABASE ${db.name} OWNER TO ${role}`)
    url = withUrl(db.url, { user: role, password: 'tenant-secret-pw' })
    await sqlOn(url, Array.from({ length: 50 }, (_, i) => `CREATE SCHEMA tenant_${String(i + 1).padStart(2, '0')};`).join(''))
    p = project({
      fleets: {
        listed: { query: "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_0%' ORDER BY 1", on: 'main' },
        broken: { query: 'SELECT url FROM no_such_table', on: 'main' },
        pass: { urls: [withUrl(db.url, { user: role, password: '' }).replace(/:@/, '@')], passfile: 'pgpass' },
        wrong: { urls: [withUrl(db.url, { user: role, password: '' }).replace(/:@/, '@')], passfile: 'badpass' },
      },
      databases: { main: { url } },
    })
  })
  afterAll(async () => {
    await db?.drop()
    await sqlOn(admin, `DROP ROLE IF EXISTS ${role}`)
    p?.cleanup()
  })

  test("migrate up --schemas 'tenant_*': each schema its own history; --concurrency capped by the role's free connections; siblings do not trip the guard, which still guards the rest", async () => {
    const env = { DATABASE_URL: url }
    const up = await runCli(['migrate', 'up', '--schemas', 'tenant_*', '--concurrency', '20', '--json'], {
      cwd: p.dir,
      env,
      timeoutMs: 120_000,
    })
    expect(up.stderr).toMatch(/warning: --concurrency 20 capped to [1-3]: .* free connections? for this role/)
    const doc = up.json()
    expect(doc.concurrency).toBeLessThanOrEqual(3)
    expect(doc.targets).toHaveLength(50)
    expect(doc.targets.every((t: { status: string; applied: number }) => t.status === 'ok' && t.applied === 3)).toBe(true)
    expect(up.code).toBe(0)
    const histories = await sqlOn<{ n: string }>(
      url,
      "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'dbops_migrations' AND schemaname LIKE 'tenant_%'",
    )
    expect(histories[0]!.n).toBe('50')
    expect(await sqlOn(url, "SELECT to_regclass('tenant_07.c') IS NOT NULL AS ok")).toEqual([{ ok: true }])

    // a new tenant: its siblings' histories are not "the history elsewhere"; the others do nothing
    await sqlOn(url, 'CREATE SCHEMA tenant_51')
    const next = await runCli(['migrate', 'up', '--schemas', 'tenant_*', '--json'], { cwd: p.dir, env, timeoutMs: 120_000 })
    expect(next.code).toBe(0)
    const applied = next.json().targets.filter((t: { applied: number }) => t.applied > 0)
    expect(applied).toEqual([expect.objectContaining({ target: expect.stringMatching(/\/tenant_51$/), applied: 3 })])

    // an ordinary single-schema user pointed at an empty schema is still stopped
    const single = await runCli(['migrate', 'up'], { cwd: p.dir, env: { ...env, DATABASE_SCHEMA: 'app' } })
    expect(single.code).toBe(6)
    expect(single.stderr).toMatch(
      /error: The migration history is in tenant_\d+\.dbops_migrations \(3 rows\) and 50 others, not in app\.dbops_migrations/,
    )

    // a tenant fleet still sees a history outside the tenants (the application's, in public)
    await sqlOn(
      url,
      `CREATE TABLE public.dbops_migrations (version text, name text, checksum text, status text, applied_at timestamptz, duration_ms int, dbops_version text); INSERT INTO public.dbops_migrations VALUES ('${V1}', 'x', 'x', 'applied', now(), 1, 'x')`,
    )
    await sqlOn(url, 'CREATE SCHEMA tenant_52')
    const guarded = await runCli(['migrate', 'up', '--schemas', 'tenant_*', '--json'], { cwd: p.dir, env, timeoutMs: 60_000 })
    expect(guarded.code).toBe(6)
    const row = guarded.json().targets.find((t: { target: string }) => t.target.endsWith('/tenant_52'))
    expect(row).toMatchObject({
      exit_code: 6,
      error: { code: 'HISTORY_ELSEWHERE', message: expect.stringContaining('public.dbops_migrations (1 row)') },
    })
    await sqlOn(url, 'DROP TABLE public.dbops_migrations; DROP SCHEMA tenant_52')

    expect(up.stdout + up.stderr + next.stdout + guarded.stdout).not.toContain('tenant-secret-pw')
  })

  test('a fleet from a query on another database; a failing targets query exits 2 with nothing run', async () => {
    const status = await runCli(['migrate', 'status', '--fleet', 'listed', '--json'], { cwd: p.dir, timeoutMs: 60_000 })
    expect(status.code).toBe(0)
    expect(status.json().targets).toHaveLength(9)
    expect(status.json().groups).toEqual([{ group: `at ${V3}`, targets: 9 }])

    // passwords from a .pgpass-style file; a wrong one is that target's 7
    fs.writeFileSync(path.join(p.dir, 'pgpass'), `*:*:*:${role}:tenant-secret-pw\n`)
    fs.writeFileSync(path.join(p.dir, 'badpass'), `*:*:*:${role}:not-the-password\n`)
    const pass = await runCli(['migrate', 'status', '--fleet', 'pass', '--schemas', 'tenant_01', '--json'], { cwd: p.dir })
    expect(pass.code).toBe(0)
    expect(pass.json().targets[0]).toMatchObject({ head: V3, exit_code: 0 })
    const wrong = await runCli(['migrate', 'status', '--fleet', 'wrong'], { cwd: p.dir })
    expect(wrong.code).toBe(7)
    expect(wrong.stdout).toMatch(/failed \(7\)\s+AUTH_FAILED/)
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password')

    const broken = await runCli(['migrate', 'up', '--fleet', 'broken'], { cwd: p.dir })
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/^error: fleets\.broken\.query failed on main: relation "no_such_table" does not exist\nhint: /)
    expect(broken.stdout).toBe('')
  })

  test('health --fleet: one row per tenant schema', async () => {
    const health = await runCli(['health', '--schemas', 'tenant_0*', '--json'], {
      cwd: p.dir,
      env: { DATABASE_URL: url },
      timeoutMs: 60_000,
    })
    expect(health.json().targets).toHaveLength(9)
    expect(health.json().targets[0]).toMatchObject({
      target: expect.stringMatching(/\/tenant_01$/),
      health: expect.stringMatching(/ok|warn/),
    })
    expect([0, 3]).toContain(health.code)
  })
})

describe('postgres: SIGINT during a fleet run', () => {
  test('running targets roll back their current migration, none is left dirty, the rest are not started; summary printed, exit 130', async () => {
    const db = await createTestDatabase(inject('pgAdminUrl'), 'dbops_fleet_int')
    const p = project({})
    try {
      await sqlOn(db.url, Array.from({ length: 6 }, (_, i) => `CREATE SCHEMA s_${i + 1};`).join(''))
      p.write('20250101000005_slow.sql', sqlMigration('CREATE TABLE slow (id integer); SELECT pg_sleep(3);', 'DROP TABLE slow;'))
      const run = startCli(['migrate', 'up', '--schemas', 's_*', '--concurrency', '2'], {
        cwd: p.dir,
        env: { DATABASE_URL: db.url, CI: '1' },
      })
      await waitFor(
        'the slow migration to run',
        async () =>
          (await sqlOn(db.url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()")).length >= 2,
      )
      run.child().kill('SIGINT')
      const result = await run.done
      expect(result.code).toBe(130)
      expect(result.stdout).toMatch(/6 targets: 2 interrupted, 4 not run/)
      expect(result.stderr).toContain('warning: interrupted')
      const rows = await sqlOn<{ schemaname: string; n: string }>(
        db.url,
        "SELECT schemaname, (xpath('//n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.dbops_migrations WHERE status <> ''applied''', schemaname), false, false, '')))[1]::text AS n FROM pg_tables WHERE tablename = 'dbops_migrations'",
      )
      for (const r of rows) expect(r.n).toBe('0') // nothing dirty or started
      expect(await sqlOn(db.url, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'slow'")).toEqual([{ n: 0 }])
    } finally {
      await db.drop()
      p.cleanup()
    }
  })
})

describe('sqlite: a fleet of files', () => {
  test('a fleet with two sources, or an unknown fleet: exit 2 naming the key', async () => {
    const p = project({ fleets: { both: { urls: ['sqlite:///a.db'], query: 'SELECT 1', on: 'main' } } })
    try {
      const both = await runCli(['migrate', 'up', '--fleet', 'both'], { cwd: p.dir })
      expect(both.code).toBe(2)
      expect(both.stderr).toMatch(
        /^error: dbops\.config\.json: fleets\.both needs exactly one of urls, urlsFile or query, got urls and query\nhint: /,
      )
      fs.writeFileSync(path.join(p.dir, 'dbops.config.json'), JSON.stringify({ fleets: { files: { urls: ['sqlite:///a.db'] } } }))
      const unknown = await runCli(['migrate', 'status', '--fleet', 'tenants', '--json'], { cwd: p.dir })
      expect(unknown.code).toBe(2)
      expect(unknown.json().error).toMatchObject({ code: 'CONFIG_UNKNOWN_FLEET', hint: 'Known fleets: files.' })
    } finally {
      p.cleanup()
    }
  })

  test('--canary stops the rest after a failing canary; --fail-fast stops after the first failure; otherwise all run', async () => {
    const p = project({ fleets: { files: { urls: ['sqlite:///t1.db', 'sqlite:///t2.db', 'sqlite:///t3.db', 'sqlite:///t4.db'] } } })
    try {
      const prepare = await runCli(['migrate', 'up', '--url', 'sqlite:///t1.db', '--to', V1], { cwd: p.dir })
      expect(prepare.code).toBe(0)
      fs.writeFileSync(path.join(p.dir, 'migrations', '20250101000002_b.sql'), sqlMigration('CREATE TABLE a (id integer);', 'SELECT 1;'))
      const canary = await runCli(['migrate', 'up', '--fleet', 'files', '--canary', '1', '--json'], { cwd: p.dir })
      expect(canary.code).toBe(1)
      expect(canary.json().stopped).toBe('canary')
      expect(canary.json().targets.map((t: { status: string }) => t.status)).toEqual(['failed', 'not_run', 'not_run', 'not_run'])
      expect(fs.existsSync(path.join(p.dir, 't2.db'))).toBe(false)

      const table = await runCli(['migrate', 'up', '--fleet', 'files', '--concurrency', '1', '--fail-fast'], { cwd: p.dir })
      expect(table.code).toBe(1)
      expect(table.stdout).toMatch(/^TARGET\s+BEFORE → AFTER\s+APPLIED\s+TIME\s+STATUS\s+ERROR\n/)
      expect(table.stdout).toMatch(/t1\.db\s+20250101000001 → 20250101000001\s+0\s+\d+ ms\s+failed \(1\)\s+MIGRATION_FAILED/)
      expect(table.stdout).toContain('4 targets: 1 failed, 3 not run')

      const all = await runCli(['migrate', 'up', '--fleet', 'files', '--json'], { cwd: p.dir })
      expect(all.code).toBe(1)
      expect(all.json().targets.map((t: { status: string }) => t.status)).toEqual(['failed', 'failed', 'failed', 'failed'])
    } finally {
      p.cleanup()
    }
  })
})
