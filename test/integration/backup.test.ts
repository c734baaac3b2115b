/**
 * Backups against real SQLite files and the test PostgreSQL, through the core API: consistency
 * under a writer in another process, restore round trips, verification failures, the lock,
 * the migration head from the snapshot, the safety backup and the production guard.
 */
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { createBackup } from '../../src/backup/create-backup.js'
import { acquireDirectoryLock } from '../../src/backup/directory-lock.js'
import { backupSeriesName, resolveBackupIdentity } from '../../src/backup/backup-identity.js'
import { listBackups } from '../../src/backup/list-backups.js'
import { readManifest } from '../../src/backup/backup-manifest.js'
import { pruneBackups } from '../../src/backup/prune-backups.js'
import { restoreBackup } from '../../src/backup/restore-backup.js'
import { verifyBackup } from '../../src/backup/verify-backup.js'
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js'
import { DbopsError } from '../../src/errors.js'
import { BACKUP_LOCK_KEY } from '../../src/dialects/postgres/postgres-backup.js'
import {
  execSql,
  fingerprintTables,
  migrationsTable,
  paddingData,
  querySql,
  sampleData,
  sqlitePathOf,
  startConstantWriter,
  writerSchema,
} from '../support/backup-fixtures.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'

const { defer, fresh } = perTestCleanup()

function configFor(db: TestDatabase, env: Record<string, string> = {}): Promise<ResolvedConfig> {
  return resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url, ...env } })
}

/** The URL of a database restored next to `db` (a new SQLite file or PostgreSQL database). */
function restoredUrl(db: TestDatabase, targetUrl: string): string {
  if (sqlitePathOf(db.url)) return targetUrl
  const url = new URL(db.url)
  url.pathname = new URL(targetUrl).pathname
  return url.toString()
}

/** Drops a PostgreSQL database a restore created (SQLite files go with the test's directory). */
function dropLater(db: TestDatabase, url: string): void {
  if (sqlitePathOf(url)) return
  defer(async () => {
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`)
    } finally {
      await admin.end()
    }
  })
}

async function expectDbopsError(promise: Promise<unknown>, exitCode: number, message: RegExp): Promise<DbopsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(DbopsError)
  expect((err as DbopsError).exitCode).toBe(exitCode)
  expect((err as DbopsError).message).toMatch(message)
  return err as DbopsError
}

function flipBytes(file: string, at: number): void {
  const fd = fs.openSync(file, 'r+')
  const buf = Buffer.alloc(16)
  fs.readSync(fd, buf, 0, 16, at)
  for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! ^ 0xff
  fs.writeSync(fd, buf, 0, 16, at)
  fs.closeSync(fd)
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: backup and restore`, () => {
    test('round trip: the restored database equals the source at backup time, and the manifest says what it is', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name) + migrationsTable(dialect.name))
      const atBackup = await fingerprintTables(db.url)
      const config = await configFor(db)

      const created = await createBackup(config)
      await execSql(db.url, `DELETE FROM posts; UPDATE users SET name = 'changed'; INSERT INTO users (id, name) VALUES (100000, 'late');`)

      expect(created.file).toMatch(
        dialect.name === 'sqlite'
          ? /^app-[0-9a-f]{8}-\d{8}T\d{6}\.\d{3}Z\.db$/
          : /^dbops_test_[0-9a-f]+-[0-9a-f]{8}-\d{8}T\d{6}\.\d{3}Z\.dump$/,
      )
      expect(fs.statSync(created.path).mode & 0o777).toBe(0o600)
      expect(fs.statSync(`${created.path}.json`).mode & 0o777).toBe(0o600)
      const manifest = readManifest(created.path)
      expect(manifest.status).toBe('ok')
      if (manifest.status !== 'ok') return
      expect(manifest.manifest).toMatchObject({
        file: created.file,
        dialect: dialect.name,
        size_bytes: fs.statSync(created.path).size,
        sha256: created.sha256,
        migration_head: '20250102000000', // the latest applied one; the 'started' row does not count
        tool: dialect.name === 'sqlite' ? 'sqlite-backup-api' : 'pg_dump',
        verification: { level: 'read' },
      })
      expect(manifest.manifest.server_version).toMatch(/^\d+\.\d+/)
      if (dialect.name === 'postgres') expect(manifest.manifest.tool_version).toMatch(/^\d+\.\d+/)
      expect(fs.readdirSync(path.dirname(created.path)).filter((f) => f.includes('.tmp-'))).toEqual([])

      const restored = await restoreBackup(config, { name: created.file })
      const url = restoredUrl(db, restored.target_url)
      dropLater(db, url)
      expect(restored).toMatchObject({ created: true, replaced: false, safety_backup: null })
      expect(await fingerprintTables(url)).toEqual(atBackup)
      expect(Object.keys(atBackup)).toEqual(expect.arrayContaining(['users', 'posts', 'dbops_migrations']))
    })

    test('a writer in another process commits throughout: the copy is one instant (count(a) = count(b) = counter)', async () => {
      const db = await fresh(dialect)
      // big enough for several copy steps, so a commit lands between two of them
      await execSql(db.url, writerSchema(dialect.name) + paddingData(dialect.name, dialect.name === 'sqlite' ? 24 : 8))
      const writer = startConstantWriter(db.url)
      defer(() => writer.stop())
      await writer.ready
      const config = await configFor(db)
      const notes: string[] = []
      const created = await createBackup(config, { onNote: (n) => notes.push(n) })
      const stillWriting = Number((await querySql<{ n: number }>(db.url, 'SELECT n FROM counter'))[0]!.n)
      await writer.stop()

      const restored = await restoreBackup(config, { name: created.file })
      const url = restoredUrl(db, restored.target_url)
      dropLater(db, url)
      const [row] = await querySql<{ a: number; b: number; counter: number }>(
        url,
        'SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, (SELECT n FROM counter) AS counter',
      )
      const counts = { a: Number(row!.a), b: Number(row!.b), counter: Number(row!.counter) }
      expect(counts.a).toBe(counts.counter)
      expect(counts.b).toBe(counts.counter)
      expect(counts.counter).toBeGreaterThan(0)
      expect(counts.counter).toBeLessThan(stillWriting) // the writer went on after the snapshot
      if (dialect.name === 'sqlite') {
        // the stepped copy was restarted by the writer, and still finished
        expect(created.restarts).toBeGreaterThanOrEqual(1)
        expect(notes.some((n) => /copy restarted/.test(n))).toBe(true)
        expect(readManifest(created.path)).toMatchObject({
          manifest: { restarts: created.restarts },
        })
      }
    })

    test('verify: bytes flipped with the manifest intact fails at the sha256 check (exit 6) and records level none', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name))
      const config = await configFor(db)
      const created = await createBackup(config)
      await expect(verifyBackup(config, { name: created.file, level: 'hash' })).resolves.toMatchObject({ verification_level: 'read' })

      flipBytes(created.path, Math.floor(fs.statSync(created.path).size / 2))
      const err = await expectDbopsError(verifyBackup(config, { name: created.file }), 6, /failed verification at the sha256 check/)
      expect(err.code).toBe('BACKUP_CORRUPT')
      const after = readManifest(created.path)
      expect(after).toMatchObject({
        manifest: { verification: { level: 'none', failed_check: 'sha256' } },
      })
      // a backup that failed verification is not the newest verified one any more
      const [entry] = await listBackups(config)
      expect(entry).toMatchObject({ file: created.file, verification_level: 'none' })
      // and restore refuses it
      await expectDbopsError(restoreBackup(config, { name: created.file }), 6, /sha256 check/)
    })

    test('verify: a damaged file whose manifest was rewritten to match fails the read check by name', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 3000))
      const config = await configFor(db)
      const created = await createBackup(config)
      const size = fs.statSync(created.path).size
      // SQLite: the header of the first table's root page; PostgreSQL: inside the compressed table data
      flipBytes(created.path, dialect.name === 'sqlite' ? 4096 : Math.floor(size * 0.6))
      const manifestFile = `${created.path}.json`
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'))
      const { sha256File } = await import('../../src/backup/durable-file.js')
      manifest.sha256 = await sha256File(created.path)
      fs.writeFileSync(manifestFile, JSON.stringify(manifest))

      await expect(verifyBackup(config, { name: created.file, level: 'hash' })).resolves.toMatchObject({ verification_level: 'read' })
      const check = dialect.name === 'sqlite' ? 'integrity_check' : 'pg_restore_read'
      await expectDbopsError(verifyBackup(config, { name: created.file, level: 'read' }), 6, new RegExp(`at the ${check} check`))
    })

    test('verify: a missing manifest fails at the manifest check (exit 6)', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 50))
      const config = await configFor(db)
      const created = await createBackup(config)
      fs.rmSync(`${created.path}.json`)
      const err = await expectDbopsError(verifyBackup(config, { latest: true }), 6, /failed the manifest check: .*\.json is missing/)
      expect(err.code).toBe('BACKUP_MANIFEST_MISSING')
      expect((await listBackups(config))[0]).toMatchObject({
        file: created.file,
        status: expect.stringMatching(/^no manifest/),
      })
    })

    test('verify --level restore restores into a scratch database, records row counts, and leaves nothing behind', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 120))
      const config = await configFor(db)
      const created = await createBackup(config, { verifyLevel: 'hash' })
      const result = await verifyBackup(config, { name: created.file, level: 'restore' })
      const prefix = dialect.name === 'postgres' ? 'public.' : ''
      expect(result.row_counts).toEqual({ [`${prefix}users`]: 120, [`${prefix}posts`]: 40 })
      expect(result.checks.map((c) => c.name)).toEqual([
        'size',
        'sha256',
        dialect.name === 'sqlite' ? 'integrity_check' : 'pg_restore_read',
        'restore',
      ])
      expect(readManifest(created.path)).toMatchObject({
        manifest: { verification: { level: 'restore', row_counts: result.row_counts } },
      })
      // a later hash-level check keeps the restore level: the file is the one that restored
      await expect(verifyBackup(config, { name: created.file, level: 'hash' })).resolves.toMatchObject({ verification_level: 'restore' })
      expect(fs.readdirSync(path.dirname(created.path)).filter((f) => f.includes('.tmp-'))).toEqual([])
      if (dialect.name === 'postgres') {
        // this process's scratch databases only: other test files verify on the same server meanwhile
        const scratch = await querySql(db.url, `SELECT datname FROM pg_database WHERE datname LIKE 'dbops\\_verify\\_%\\_${process.pid}'`)
        expect(scratch).toEqual([])
      }
    })

    test('another backup of the same database running: exit 5, no file written', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 10))
      const config = await configFor(db)
      let release: () => Promise<void>
      if (dialect.name === 'sqlite') {
        fs.mkdirSync(config.backup.dir, { recursive: true })
        const lock = await acquireDirectoryLock(config.backup.dir, backupSeriesName('app', await resolveBackupIdentity(config)), {
          timeoutMs: 0,
        })
        release = () => lock.release()
      } else {
        const holder = new pg.Client({ connectionString: db.url, application_name: 'other-backup' })
        await holder.connect()
        await holder.query('SELECT pg_advisory_lock($1, $2)', [...BACKUP_LOCK_KEY])
        release = () => holder.end()
      }
      try {
        const err = await expectDbopsError(createBackup(config, { lockTimeoutMs: 300 }), 5, /Another backup .* is running/)
        expect(err.code).toBe('LOCK_TIMEOUT')
        if (dialect.name === 'postgres') expect(err.message).toContain('other-backup')
        expect(fs.readdirSync(config.backup.dir).filter((f) => !f.endsWith('.backup-lock'))).toEqual([])
      } finally {
        await release()
      }
      await expect(createBackup(config)).resolves.toMatchObject({ verification_level: 'read' })
    })

    test('restore in place: a safety backup of what it replaces first, then the old contents', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 30))
      const original = await fingerprintTables(db.url)
      const config = await configFor(db)
      const created = await createBackup(config)
      await execSql(db.url, `INSERT INTO users (id, name) VALUES (9999, 'after the backup'); CREATE TABLE extra (id integer);`)
      const changed = await fingerprintTables(db.url)

      const result = await restoreBackup(config, { name: created.file, inPlace: true })
      expect(result).toMatchObject({
        created: false,
        replaced: true,
        safety_backup: expect.any(String),
      })
      const { extra: _extra, ...restoredTables } = await fingerprintTables(db.url)
      expect(restoredTables).toEqual(original)

      // the safety backup holds the replaced contents and restores to them
      const safety = await restoreBackup(config, { name: result.safety_backup! })
      const url = restoredUrl(db, safety.target_url)
      dropLater(db, url)
      expect(await fingerprintTables(url)).toEqual(changed)
      expect(readManifest(path.join(config.backup.dir, result.safety_backup!))).toMatchObject({
        manifest: { reason: `safety backup before restoring ${created.file}` },
      })
    })

    test('production guard: restore and prune refuse without --yes (exit 2), and allow with it', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 5))
      const config = await configFor(db, { NODE_ENV: 'production' })
      const first = await createBackup(config)
      await createBackup(config)
      await expectDbopsError(restoreBackup(config, { name: first.file }), 2, /Refusing to restore .*production/)
      await expectDbopsError(pruneBackups(config, { retention: { keepLast: 1 } }), 2, /Refusing to prune backups/)
      await expect(pruneBackups(config, { retention: { keepLast: 1 }, dryRun: true })).resolves.toMatchObject({
        deleted: [{ file: first.file }],
      })
      await expect(pruneBackups(config, { retention: { keepLast: 1 }, yes: true })).resolves.toMatchObject({
        deleted: [{ file: first.file }],
      })
      expect(fs.existsSync(first.path)).toBe(false)
      expect(fs.existsSync(`${first.path}.json`)).toBe(false)
    })

    test('restore warns when the backup migration head differs from the migrations directory', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, migrationsTable(dialect.name))
      fs.mkdirSync(path.join(db.dir, 'migrations'))
      fs.writeFileSync(path.join(db.dir, 'migrations', '20250101000000_init.sql'), '-- migrate:up\n')
      fs.writeFileSync(path.join(db.dir, 'migrations', '20250105000000_newer.sql'), '-- migrate:up\n')
      fs.writeFileSync(path.join(db.dir, 'migrations', 'README.md'), 'not a migration')
      const config = await configFor(db)
      const created = await createBackup(config)
      const warnings: string[] = []
      const result = await restoreBackup(config, {
        name: created.file,
        onWarning: (w) => warnings.push(w),
      })
      dropLater(db, restoredUrl(db, result.target_url))
      expect(result).toMatchObject({
        migration_head: '20250102000000',
        latest_migration: '20250105000000',
      })
      expect(warnings).toEqual([
        expect.stringMatching(/migration head is 20250102000000 but the latest migration in migrations is 20250105000000/),
      ])
    })

    test('retention runs after a successful backup only and never deletes the newest verified backup', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 5))
      const config = await configFor(db)
      const a = await createBackup(config)
      const b = await createBackup(config)
      // a failing run applies no retention
      const missingDir = path.join(db.dir, 'not-mounted')
      await expectDbopsError(createBackup(config, { dir: missingDir, retention: { keepLast: 1 } }), 1, /does not exist/)
      expect(fs.existsSync(a.path) && fs.existsSync(b.path)).toBe(true)
      const c = await createBackup(config, { retention: { keepLast: 0 } })
      expect(c.retention?.deleted.map((d) => d.file).sort()).toEqual([a.file, b.file].sort())
      expect((await listBackups(config)).map((e) => e.file)).toEqual([c.file])
    })
  })
}

describe('postgres: free space', () => {
  const postgres = testDialects().find((d) => d.name === 'postgres')!

  test('less free space than 1.2x the last backup: a warning, and the backup goes ahead', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 10))
    const config = await configFor(db)
    const database = new URL(db.url).pathname.slice(1)
    fs.mkdirSync(config.backup.dir)
    // a sparse "last backup" far bigger than the disk: no manifest, so retention leaves it alone
    const series = backupSeriesName(database, await resolveBackupIdentity(config))
    const huge = path.join(config.backup.dir, `${series}-20250101T000000.000Z.dump`)
    fs.closeSync(fs.openSync(huge, 'w'))
    fs.truncateSync(huge, 2 ** 40)
    const warnings: string[] = []
    const created = await createBackup(config, {
      onWarning: (w) => warnings.push(w),
      retention: { keepLast: 1 },
    })
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`^only .* free in .*; the last backup of ${database} took 1\\.0 TB$`)),
      `retention left ${path.basename(huge)} alone: no manifest (${path.basename(huge)}.json)`,
    ])
    expect(created.warnings).toEqual(warnings)
    expect(fs.existsSync(huge)).toBe(true)
  })
})

describe("postgres: the command's connect options", () => {
  const postgres = testDialects().find((d) => d.name === 'postgres')!

  test('the sessions of a backup carry the command: its application name on the server, and SQL echo', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 10))
    const config = await configFor(db)
    const database = new URL(db.url).pathname.slice(1)
    // another backup's lock keeps dbops' session waiting, so the server can be asked about it
    const holder = new pg.Client({ connectionString: db.url, application_name: 'other-backup' })
    await holder.connect()
    defer(() => holder.end())
    await holder.query('SELECT pg_advisory_lock($1, $2)', [...BACKUP_LOCK_KEY])
    const echoed: string[] = []
    const creating = createBackup(config, {
      lockTimeoutMs: 30_000,
      verifyLevel: 'hash',
      connect: { command: 'backup nightly', onQuery: (sql) => echoed.push(sql) },
    })
    const sessions = () =>
      querySql<{ name: string }>(
        db.url,
        `SELECT application_name AS name FROM pg_stat_activity WHERE datname = '${database}' AND application_name LIKE 'dbops/%'`,
      )
    let seen = await sessions()
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await sessions()
    }
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [...BACKUP_LOCK_KEY])
    await expect(creating).resolves.toMatchObject({ verification_level: 'hash' })
    expect(seen.map((s) => s.name)).toEqual(['dbops/backup nightly'])
    // the migration head is read in the snapshot's transaction, on the session that holds the lock
    expect(echoed).not.toEqual([])
  })
})

describe('sqlite: restore into a live database, and a damaged source', () => {
  const sqlite = testDialects().find((d) => d.name === 'sqlite')!

  test('restore in place while the application holds a connection: that connection sees the restored data', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 50))
    const config = await configFor(db)
    const created = await createBackup(config)
    await execSql(db.url, 'DELETE FROM posts; DELETE FROM users;')

    const { default: Database } = await import('better-sqlite3')
    const app = new Database(sqlitePathOf(db.url)!)
    defer(async () => {
      app.close()
    })
    expect(app.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(app.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 0 })

    await restoreBackup(config, { name: created.file, inPlace: true })
    // the same open connection, not a reopened file: the restore wrote through SQLite's locks
    expect(app.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 50 })
    expect(app.pragma('integrity_check', { simple: true })).toBe('ok')
    app.prepare("INSERT INTO users (id, name) VALUES (777, 'written after the restore')").run()
    expect(app.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 51 })
  })

  test('a damaged source fails the new backup at integrity_check (exit 6) and keeps nothing', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 3000))
    const file = sqlitePathOf(db.url)!
    const { default: Database } = await import('better-sqlite3')
    const checkpoint = new Database(file)
    checkpoint.pragma('wal_checkpoint(TRUNCATE)')
    checkpoint.pragma('journal_mode = DELETE')
    checkpoint.close()
    flipBytes(file, 4096) // the first table's root page header
    const config = await configFor(db)
    await expectDbopsError(createBackup(config), 6, /failed the integrity_check check/)
    expect(fs.readdirSync(config.backup.dir).filter((f) => !f.endsWith('.backup-lock'))).toEqual([])
  })
})
