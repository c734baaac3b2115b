/**
 * `dbops doctor` end to end, the built CLI against the test PostgreSQL and real SQLite files:
 * each planted problem makes its check fire, and the fix the doctor printed, applied as
 * printed, clears it. Plants that do not interfere share one database.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, inject, test } from 'vitest'
import { type CliResult, makeTempDir, runCli } from '../support/cli.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'

const { defer, fresh } = perTestCleanup()
const postgres = testDialects().find((d) => d.name === 'postgres')!
const sqlite = testDialects().find((d) => d.name === 'sqlite')!

interface CheckDoc {
  id: string
  status: string
  finding: string
  evidence: { items: Array<{ subject: string } & Record<string, unknown>> } & Record<string, unknown>
  fix: string[]
  partial: string | null
}

async function doctor(
  url: string,
  args: string[] = [],
  cwd?: string,
): Promise<{ result: CliResult; checks: Map<string, CheckDoc>; doc: any }> {
  const result = await runCli(['doctor', '--json', ...args], { env: { DATABASE_URL: url }, ...(cwd ? { cwd } : {}) })
  const doc = result.json()
  return { result, checks: new Map((doc.checks ?? []).map((c: CheckDoc) => [c.id, c])), doc }
}

function subjects(check: CheckDoc | undefined): string[] {
  return (check?.evidence.items ?? []).map((i) => i.subject)
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Applies each printed fix as it is printed, one statement text per query (CONCURRENTLY needs that). */
async function applyFixes(url: string, checks: CheckDoc[]): Promise<void> {
  await withClient(url, async (client) => {
    for (const check of checks) for (const fix of check.fix) await client.query(fix)
  })
}

describe('postgres: doctor', () => {
  test('schema plants fire (sequence at 95 % of int4, invalid, duplicate, unused index, FK without index, table without PK) and the printed fixes clear them', async () => {
    const db = await fresh(postgres)
    await withClient(db.url, async (c) => {
      await c.query(`
        CREATE TABLE ids (id serial PRIMARY KEY);
        SELECT setval('ids_id_seq', 2040109466);  -- 95 % of 2^31 - 1
        CREATE TABLE parent (id int PRIMARY KEY);
        CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id), email text, created date);
        CREATE INDEX child_email ON child (email);
        CREATE INDEX child_email_twin ON child (email);
        CREATE INDEX child_created ON child (created);
        CREATE TABLE events (at timestamptz, what text);
        CREATE TABLE dupes (v int PRIMARY KEY, w int);
        INSERT INTO dupes VALUES (1, 7), (2, 7);`)
      // a failed CREATE INDEX CONCURRENTLY leaves its index behind, invalid
      await expect(c.query('CREATE UNIQUE INDEX CONCURRENTLY dupes_w ON dupes (w)')).rejects.toThrow(/could not create unique index/)
    })
    const ids = ['sequences', 'invalid_indexes', 'duplicate_indexes', 'unused_indexes', 'fk_without_index', 'tables_without_pk']
    const before = await doctor(db.url, ['--only', ids.join(',')])
    expect(before.result.code).toBe(1) // the sequence is past sequence_fail_pct
    const at = (id: string) => before.checks.get(id)!
    expect(at('sequences')).toMatchObject({ status: 'fail' })
    expect(at('sequences').evidence.items[0]).toMatchObject({
      subject: 'public.ids_id_seq (public.ids.id)',
      pct: 95,
      column_type: 'integer',
    })
    expect(at('invalid_indexes')).toMatchObject({
      status: 'warn',
      fix: ['DROP INDEX CONCURRENTLY public.dupes_w;  -- then CREATE INDEX CONCURRENTLY again'],
    })
    expect(at('duplicate_indexes').status).toBe('warn')
    expect(subjects(at('duplicate_indexes'))).toEqual(['public.child_email_twin'])
    expect(at('unused_indexes').status).toBe('warn')
    expect(subjects(at('unused_indexes')).sort()).toEqual(['public.child_created', 'public.child_email', 'public.child_email_twin'])
    expect(at('unused_indexes').evidence).toHaveProperty('stats_age_days')
    expect(at('fk_without_index')).toMatchObject({ status: 'warn', fix: ['CREATE INDEX CONCURRENTLY ON public.child (parent_id);'] })
    expect(subjects(at('tables_without_pk'))).toEqual(['public.events'])
    expect(before.doc.skipped).toEqual([])

    // the unused index's fix would also drop child_email (its twin's fix drops the twin): apply all but that one
    const unused = at('unused_indexes')
    await applyFixes(db.url, [
      ...ids.filter((id) => id !== 'unused_indexes').map(at),
      { ...unused, fix: unused.fix.filter((f) => f.includes('child_created')) },
    ])
    const after = await doctor(db.url, ['--only', ids.join(',')])
    for (const id of ids.filter((i) => i !== 'unused_indexes')) expect(after.checks.get(id), id).toMatchObject({ status: 'ok', fix: [] })
    // what is left unused is the index the FK fix just made and the kept twin, never the planted ones
    expect(subjects(after.checks.get('unused_indexes'))).not.toContain('public.child_created')
    expect(subjects(after.checks.get('unused_indexes'))).not.toContain('public.child_email_twin')
  })

  test('sessions and slots: idle in transaction, a blocked query, an inactive physical slot fire, thresholds come from doctor.thresholds, and the printed fixes clear them', async () => {
    const db = await fresh(postgres)
    const project = makeTempDir()
    defer(project.cleanup)
    fs.writeFileSync(
      path.join(project.dir, 'dbops.config.json'),
      JSON.stringify({ doctor: { thresholds: { idle_in_transaction_seconds: 0, lock_wait_seconds: 0 } } }),
    )
    const slot = `dbops_doctor_${randomBytes(4).toString('hex')}`
    await withClient(db.url, (c) => c.query(`CREATE TABLE jobs (id int PRIMARY KEY, state text); INSERT INTO jobs VALUES (1, 'new');`))
    await withClient(db.url, (c) => c.query('SELECT pg_create_physical_replication_slot($1)', [slot]))
    defer(() =>
      withClient(db.url, (c) =>
        c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]),
      ).then(() => undefined),
    )
    const holder = new pg.Client({ connectionString: db.url })
    const waiter = new pg.Client({ connectionString: db.url })
    await holder.connect()
    await waiter.connect()
    defer(() => Promise.allSettled([holder.end(), waiter.end()]).then(() => undefined))
    holder.on('error', () => {})
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    const waiterPid = (await waiter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    await holder.query("BEGIN; UPDATE jobs SET state = 'taken' WHERE id = 1")
    const blocked = waiter.query("UPDATE jobs SET state = 'again' WHERE id = 1")
    await withClient(db.url, async (c) => {
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted', [waiterPid])
        if (rows.length > 0) return
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error('the waiter never waited')
    })

    const ids = 'idle_in_transaction,blocking,replication_slots,settings'
    const before = await doctor(db.url, ['--only', ids], project.dir)
    const at = (id: string) => before.checks.get(id)!
    expect(at('idle_in_transaction')).toMatchObject({ status: 'warn', fix: [`SELECT pg_terminate_backend(${holderPid});`] })
    expect(subjects(at('idle_in_transaction'))).toEqual([`pid ${holderPid}`])
    expect(at('blocking').status).toBe('warn')
    expect(at('blocking').evidence.items[0]).toMatchObject({ subject: `pid ${waiterPid}`, root_blockers: String(holderPid) })
    expect(at('blocking').fix).toEqual([`SELECT pg_terminate_backend(${holderPid});`])
    expect(at('replication_slots').status).toMatch(/warn|fail/)
    expect(at('replication_slots').evidence.items.find((i) => i.subject === slot)).toMatchObject({ active: false, slot_type: 'physical' })
    expect(at('replication_slots').fix).toContain(`SELECT pg_drop_replication_slot('${slot}');  -- once nothing will ever consume it`)
    // the server default (0) with a session idle in a transaction is a harmful setting
    expect(at('settings').finding).toMatch(/idle_in_transaction_session_timeout = 0/)

    // the printed fixes, as printed: terminate the root blocker, drop the slot
    await applyFixes(db.url, [
      at('blocking'),
      { ...at('replication_slots'), fix: at('replication_slots').fix.filter((f) => f.includes(slot)) },
    ])
    await blocked
    const after = await doctor(db.url, ['--only', ids], project.dir)
    // sessions of other databases on the shared server may still be counted (info), never listed
    expect(['ok', 'info']).toContain(after.checks.get('idle_in_transaction')!.status)
    expect(subjects(after.checks.get('idle_in_transaction'))).toEqual([])
    expect(after.checks.get('blocking')).toMatchObject({ status: 'ok' })
    expect(subjects(after.checks.get('replication_slots'))).not.toContain(slot)
    expect(after.checks.get('settings')!.finding).not.toMatch(/idle_in_transaction_session_timeout/)
  })

  test('a role with pg_monitor only: every check runs, and what it could not read is named', async () => {
    const db = await fresh(postgres)
    const role = `dbops_doctor_${randomBytes(4).toString('hex')}`
    await withClient(db.url, (c) =>
      c.query(`CREATE ROLE ${role} LOGIN PASSWORD 'doctor-secret' IN ROLE pg_monitor; CREATE TABLE secret (id serial PRIMARY KEY);`),
    )
    defer(() => withClient(inject('pgAdminUrl'), (c) => c.query(`DROP ROLE IF EXISTS ${role}`)).then(() => undefined))
    defer(() => withClient(db.url, (c) => c.query(`DROP TABLE IF EXISTS secret`)).then(() => undefined))
    const { result, checks, doc } = await doctor(withUrl(db.url, { user: role, password: 'doctor-secret' }))
    expect(result.stderr).not.toContain('doctor-secret')
    expect(result.stdout).not.toContain('doctor-secret')
    expect([...checks.values()].filter((c) => c.finding.startsWith('the check failed'))).toEqual([])
    expect(checks.size + doc.skipped.length).toBe(19)
    expect(checks.get('sequences')!.partial).toMatch(/1 sequence not read: no SELECT privilege/)
  })
})

describe('sqlite: doctor', () => {
  test('a freelist-heavy file, no sqlite_stat1 and a foreign key violation fire; VACUUM, ANALYZE and the repaired rows clear them', async () => {
    const db = await fresh(sqlite)
    const file = db.url.replace(/^sqlite:\/\/\//, '')
    const handle = new Database(file)
    handle.exec(`
      PRAGMA foreign_keys = OFF;
      CREATE TABLE customers (id INTEGER PRIMARY KEY);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), note TEXT);
      CREATE INDEX orders_customer ON orders (customer_id);
      INSERT INTO customers VALUES (1);`)
    const insert = handle.prepare('INSERT INTO orders (customer_id, note) VALUES (?, ?)')
    handle.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(1, 'x'.repeat(400))
    })()
    handle.exec('DELETE FROM orders WHERE id > 20; INSERT INTO orders (customer_id) VALUES (42);') // foreign_keys is off on this handle
    handle.close()

    const ids = 'freelist,analyze,foreign_keys,integrity'
    const before = await doctor(db.url, ['--only', ids])
    expect(before.result.code).toBe(3)
    expect(before.checks.get('freelist')).toMatchObject({
      status: 'warn',
      fix: ['VACUUM;  -- rewrites the file, needs its size free on disk and the write lock'],
    })
    expect(before.checks.get('freelist')!.evidence.pct).toBeGreaterThan(50)
    expect(before.checks.get('analyze')).toMatchObject({ status: 'warn' })
    expect(before.checks.get('foreign_keys')).toMatchObject({ status: 'warn', finding: '1 foreign key violated: orders → customers' })
    expect(before.checks.get('integrity')).toMatchObject({ status: 'ok', finding: 'quick_check: ok' })

    const fixer = new Database(file)
    fixer.exec('VACUUM; ANALYZE; INSERT INTO customers VALUES (42);')
    fixer.close()
    const after = await doctor(db.url, ['--only', ids, '--deep'])
    expect(after.result.code).toBe(0)
    for (const check of after.checks.values()) expect(check, check.id).toMatchObject({ status: 'ok', fix: [] })
    expect(after.checks.get('integrity')!.finding).toBe('integrity_check: ok')
  })

  test('bad usage exits 2 in one line: an unknown check id (with the closest one), a check of the other database, an unknown threshold', async () => {
    const db = await fresh(sqlite)
    fs.writeFileSync(db.url.replace(/^sqlite:\/\/\//, ''), '')
    const typo = await runCli(['doctor', '--only', 'freelst'], { env: { DATABASE_URL: db.url } })
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/^error: --only: unknown check "freelst"\nhint: Did you mean freelist\?/)
    const typoJson = await runCli(['doctor', '--skip', 'sequnces', '--json'], { env: { DATABASE_URL: db.url } })
    expect(typoJson.code).toBe(2)
    expect(typoJson.json().error).toMatchObject({ code: 'DOCTOR_UNKNOWN_CHECK', hint: expect.stringMatching(/Did you mean sequences\?/) })
    const other = await runCli(['doctor', '--only', 'sequences'], { env: { DATABASE_URL: db.url } })
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/SQLite has no check "sequences"/)
    fs.writeFileSync(path.join(db.dir, 'dbops.config.json'), JSON.stringify({ doctor: { thresholds: { freelist_pc: 5 } } }))
    const threshold = await runCli(['doctor'], { env: { DATABASE_URL: db.url }, cwd: db.dir })
    expect(threshold.code).toBe(2)
    expect(threshold.stderr).toMatch(/unknown key doctor\.thresholds\.freelist_pc\nhint: Did you mean freelist_pct\?/)
    expect(threshold.stderr).not.toMatch(/\n\s+at /)
  })
})
