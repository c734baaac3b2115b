/**
 * Which database a backup belongs to, through the core API against real SQLite files and the
 * test PostgreSQL: the identity recorded in the manifest (a SQLite file's real path; a
 * PostgreSQL cluster's system identifier and the database name, or host:port when the role
 * may not read it), manifests written before identities existed, and what reaches the
 * `pg_restore` that reads an archive without connecting anywhere.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, inject, test } from 'vitest'
import { createBackup } from '../../src/backup/create-backup.js'
import { resolveBackupIdentity } from '../../src/backup/backup-identity.js'
import { listBackups } from '../../src/backup/list-backups.js'
import { pruneBackups } from '../../src/backup/prune-backups.js'
import { restoreBackup } from '../../src/backup/restore-backup.js'
import { verifyBackup } from '../../src/backup/verify-backup.js'
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js'
import { DbopsError } from '../../src/errors.js'
import { verifyPostgresBackup } from '../../src/dialects/postgres/postgres-backup.js'
import { connectionScope } from '../../src/dialects/index.js'
import { execSql, querySql, sampleData, sqlitePathOf } from '../support/backup-fixtures.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'

const { defer, fresh } = perTestCleanup()
const sqlite = testDialects().find((d) => d.name === 'sqlite')!
const postgres = testDialects().find((d) => d.name === 'postgres')!

function configFor(db: TestDatabase, url = db.url): Promise<ResolvedConfig> {
  return resolveConfig({ cwd: db.dir, env: { DATABASE_URL: url } })
}

async function rejection(promise: Promise<unknown>): Promise<DbopsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(DbopsError)
  return err as DbopsError
}

/** Rewrites a manifest as a dbops without source identities wrote it. */
function stripIdentity(file: string): void {
  const manifest = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'))
  delete manifest.source_identity
  fs.writeFileSync(`${file}.json`, JSON.stringify(manifest))
}

describe('postgres: the identity of a database', () => {
  test("the cluster's system identifier and the database name; host:port where the role may not call pg_control_system()", async () => {
    const db = await fresh(postgres)
    const database = new URL(db.url).pathname.slice(1)
    const [{ id }] = (await querySql<{ id: string }>(db.url, 'SELECT system_identifier::text AS id FROM pg_control_system()')) as [
      { id: string },
    ]
    const config = await configFor(db)
    expect(await resolveBackupIdentity(config)).toBe(`postgres:${id}/${database}`)

    // a role that may not read the control file, in this database only (function privileges are per database)
    const role = `dbops_noctl_${randomBytes(4).toString('hex')}`
    await execSql(db.url, `CREATE ROLE ${role} LOGIN PASSWORD 'pw-${role}'; REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC`)
    defer(() => execSql(inject('pgAdminUrl'), `DROP ROLE IF EXISTS ${role}`))
    const limitedUrl = withUrl(db.url, { user: role, password: `pw-${role}` })
    const limited = await configFor(db, limitedUrl)
    const port = new URL(db.url).port
    expect(await resolveBackupIdentity(limited)).toBe(`postgres-address:127.0.0.1:${port}/${database}`)

    // a backup under the fallback identity is another database's for a role that reads the identifier
    const made = await createBackup(limited)
    const err = await rejection(restoreBackup(config, { latest: true, inPlace: true }))
    expect(err).toMatchObject({ code: 'BACKUP_NONE', exitCode: 1 })
    expect(err.hint).toContain(made.file)
    await expect(verifyBackup(limited, { latest: true, level: 'hash' })).resolves.toMatchObject({ file: made.file })
  })
})

describe('postgres: a database that was dropped', () => {
  test('keeps its identity (read from another database of the cluster): restore --latest --in-place brings it back', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 7))
    const config = await configFor(db)
    const identity = await resolveBackupIdentity(config)
    const made = await createBackup(config)
    const database = new URL(db.url).pathname.slice(1)
    await execSql(inject('pgAdminUrl'), `DROP DATABASE "${database}" WITH (FORCE)`)

    expect(await resolveBackupIdentity(config)).toBe(identity)
    await expect(restoreBackup(config, { latest: true, inPlace: true })).resolves.toMatchObject({ file: made.file, created: true })
    expect(await querySql(db.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 7 }])
  })
})

describe('manifests written before source identities', () => {
  test('sqlite: the identity comes from the recorded path, so the same file still owns them and another file does not', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const config = await configFor(db)
    const old = await createBackup(config)
    stripIdentity(old.path)

    const otherFile = path.join(db.dir, 'other', 'app.db')
    fs.mkdirSync(path.dirname(otherFile))
    fs.copyFileSync(sqlitePathOf(db.url)!, otherFile)
    const other = await configFor(db, `sqlite:///${otherFile}`)
    const otherBackup = await createBackup(other, { dir: config.backup.dir })

    expect((await listBackups(config, { onlyThisDatabase: true })).map((b) => b.file)).toEqual([old.file])
    const err = await rejection(restoreBackup(other, { name: old.file, inPlace: true }))
    expect(err).toMatchObject({ code: 'RESTORE_OTHER_DATABASE', exitCode: 2 })
    await expect(pruneBackups(other, { retention: { keepLast: 0 } })).resolves.toMatchObject({ deleted: [] })
    const mine = await createBackup(config, { retention: { keepLast: 1 } })
    expect(mine.retention?.deleted.map((d) => d.file)).toEqual([old.file])
    expect(fs.existsSync(otherBackup.path)).toBe(true)
  })

  test('postgres: an unknown source, listed as such, never chosen by --latest, never pruned; restoring it over data needs the flag', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 5))
    const config = await configFor(db)
    const old = await createBackup(config)
    stripIdentity(old.path)

    const [listed] = await listBackups(config)
    expect(listed).toMatchObject({ file: old.file, source_identity: null, status: 'ok' })
    expect(await listBackups(config, { onlyThisDatabase: true })).toEqual([])
    const none = await rejection(verifyBackup(config, { latest: true }))
    expect(none).toMatchObject({ code: 'BACKUP_NONE' })
    expect(none.hint).toMatch(new RegExp(`${old.file.replaceAll('.', '\\.')}.*source was not recorded`))

    const pruned = await createBackup(config, { retention: { keepLast: 0 } })
    expect(pruned.retention?.deleted).toEqual([])
    expect(fs.existsSync(old.path)).toBe(true)

    await execSql(db.url, 'DELETE FROM posts')
    const refused = await rejection(restoreBackup(config, { name: old.file, inPlace: true }))
    expect(refused).toMatchObject({ code: 'RESTORE_OTHER_DATABASE', exitCode: 2 })
    expect(refused.message).toMatch(/its source was not recorded/)
    await expect(restoreBackup(config, { name: old.file, inPlace: true, fromOtherDatabase: true })).resolves.toMatchObject({
      replaced: true,
    })
  })
})

describe('postgres: the pg_restore that reads an archive to nowhere', () => {
  test.skipIf(process.platform !== 'linux')(
    'gets no DATABASE_URL, no password and no PG* connection settings: it connects nowhere',
    async () => {
      const db = await fresh(postgres)
      await execSql(db.url, sampleData('postgres', 5))
      const config = await configFor(db)
      // the archive through a FIFO: pg_restore waits on it, so its environment can be read while it runs
      const fifo = path.join(db.dir, 'archive.fifo')
      await new Promise<void>((resolve, reject) =>
        spawn('mkfifo', [fifo]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo: ${code}`)))),
      )
      const saved = { DATABASE_URL: process.env.DATABASE_URL, PGPASSWORD: process.env.PGPASSWORD }
      process.env.DATABASE_URL = 'postgres://leak:fifo-secret-url@nowhere.invalid/leak'
      process.env.PGPASSWORD = 'fifo-secret-pgpassword'
      defer(() => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      })
      const verifying = verifyPostgresBackup(connectionScope(config, { mode: 'read', command: 'backup verify' }), {
        file: fifo,
        level: 'read',
        toolVersion: undefined,
        scratchPath: (tag) => path.join(db.dir, `.scratch-${tag}`),
      })
      const pid = await pgRestoreChild(fifo)
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8')
      // its environment is read; now let it go: an empty archive ends it (feeding it the real one
      // raced with pg_restore reopening a non-seekable input, and is not what this test checks)
      fs.closeSync(fs.openSync(fifo, 'w'))
      const outcome = await verifying
      expect(outcome.checks).toEqual([expect.objectContaining({ name: 'pg_restore_read', ok: false })])

      const names = environ
        .split('\0')
        .filter((e) => e !== '')
        .map((e) => e.slice(0, e.indexOf('=')))
        .sort()
      expect(names.filter((n) => !/^(PATH|HOME|LANG|LC_MESSAGES|TMPDIR|TZ)$/.test(n))).toEqual([])
      expect(environ).not.toMatch(/fifo-secret|DATABASE_URL/)
    },
  )
})

/** The pid of this process's `pg_restore` child reading `file`. */
async function pgRestoreChild(file: string): Promise<number> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const ppid = Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
        const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        if (ppid === process.pid && cmdline.includes('pg_restore') && cmdline.includes(file)) return Number(entry)
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('no pg_restore child appeared')
}
