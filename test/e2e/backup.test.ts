/**
 * The backup commands end to end, as cron runs them: the built CLI against real SQLite files,
 * the test PostgreSQL and the real pg_dump / pg_restore. Exit codes, silence on success,
 * JSON, signals (SIGKILL and SIGINT mid-create), a full disk (a small tmpfs), missing or
 * unfitting tools, wrong passwords and unreachable servers.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, inject, test } from 'vitest'
import { acquireDirectoryLock } from '../../src/backup/directory-lock.js'
import { backupSeriesName } from '../../src/backup/backup-identity.js'
import { parseBackupFileName } from '../../src/backup/backup-name.js'
import { sqliteFileIdentity } from '../../src/dialects/sqlite/sqlite-identity.js'
import { execSql, paddingData, querySql, sampleData, sqlitePathOf } from '../support/backup-fixtures.js'
import { type CliResult, expectOneLineError, runCli } from '../support/cli.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'
import { freePort } from '../support/tcp.js'

const { defer, fresh } = perTestCleanup()

function dbops(
  db: TestDatabase,
  args: string[],
  env: Record<string, string> = {},
  extra: Parameters<typeof runCli>[1] = {},
): Promise<CliResult> {
  return runCli(['backup', ...args], {
    cwd: db.dir,
    env: { DATABASE_URL: db.url, ...env },
    timeoutMs: 60_000,
    ...extra,
  })
}

/** Names of final backups (not temporaries, manifests or locks) in a directory. */
function finalBackups(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => parseBackupFileName(f) && !f.endsWith('.json')) : []
}

function tempFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.includes('.tmp-')) : []
}

/** A tmpfs of `megabytes`, or undefined (and the reason) when mounting is not permitted here. */
function mountTmpfs(megabytes: number): { dir: string } | { skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    })
  } catch (err) {
    fs.rmdirSync(dir)
    return {
      skip: `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}): the full-disk tests need root`,
    }
  }
  defer(() => {
    execFileSync('umount', [dir])
    fs.rmdirSync(dir)
  })
  return { dir }
}

/** Calls `onTemp` as soon as a temporary backup file appears in `dir` (and, if asked, has data). */
function whenTempAppears(dir: string, minBytes: number, onTemp: (name: string) => void): () => void {
  let done = false
  const timer = setInterval(() => {
    if (done) return
    for (const name of tempFiles(dir)) {
      if (!/\.tmp-\d+$/.test(name)) continue
      let size = 0
      try {
        size = fs.statSync(path.join(dir, name)).size
      } catch {
        continue
      }
      if (size >= minBytes) {
        done = true
        onTemp(name)
        return
      }
    }
  }, 2)
  return () => {
    done = true
    clearInterval(timer)
  }
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: backup commands as cron runs them`, () => {
    test('create is silent on success; --verbose prints one line; --json one document; list, verify, prune agree', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 100))

      const quiet = await dbops(db, ['create'])
      expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' })

      const verbose = await dbops(db, ['create', '--verbose'])
      expect(verbose.code).toBe(0)
      expect(verbose.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^backup \S+\.(db|dump): [\d.]+ [KM]?B in [\d.]+ s, verified read, migration head none$/),
      ])

      const json = await dbops(db, ['create', '--json', '--keep-last', '2'])
      expect(json.code).toBe(0)
      const doc = json.json()
      expect(doc).toMatchObject({
        verification_level: 'read',
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        retention: { deleted: [expect.any(Object)] },
      })
      expect(json.stderr).toBe('')

      const list = await dbops(db, ['list', '--json'])
      expect(list.json().backups.map((b: { file: string }) => b.file)).toEqual([doc.file, verbose.stdout.match(/^backup (\S+):/)![1]])
      const table = await dbops(db, ['list'])
      expect(table.stdout).toMatch(/backup\s+database\s+age\s+size\s+migration head\s+verified\s+status/)
      expect(table.stdout).toContain(doc.file)

      expect(await dbops(db, ['verify', '--latest'])).toMatchObject({
        code: 0,
        stdout: '',
        stderr: '',
      })
      const restoreLevel = await dbops(db, ['verify', doc.file, '--level', 'restore', '--json'])
      expect(restoreLevel.json()).toMatchObject({
        verification_level: 'restore',
        row_counts: expect.any(Object),
      })

      const prune = await dbops(db, ['prune', '--keep-last', '1', '--dry-run'])
      expect(prune.code).toBe(0)
      expect(prune.stdout).toMatch(/would delete/)
      expect(finalBackups(path.join(db.dir, 'backups'))).toHaveLength(2)
    })

    test('SIGKILL during create: nothing incomplete under a final name; the next run succeeds and sweeps the leftovers', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 10) + paddingData(dialect.name, dialect.name === 'sqlite' ? 40 : 16))
      const dir = path.join(db.dir, 'backups')
      fs.mkdirSync(dir)
      let stop = () => {}
      const killed = await dbops(
        db,
        ['create'],
        {},
        {
          onSpawn: (child) => {
            // killed once data is being written: mid-copy
            stop = whenTempAppears(dir, 1, () => child.kill('SIGKILL'))
          },
        },
      )
      stop()
      expect(killed.signal).toBe('SIGKILL')
      expect(finalBackups(dir)).toEqual([])
      const leftovers = tempFiles(dir)
      expect(leftovers.length).toBeGreaterThan(0)
      if (dialect.name === 'postgres') {
        // pg_dump writes straight into the file, so no broken pipe stops it: it must die with dbops
        const database = new URL(db.url).pathname.slice(1)
        let sessions: unknown[] = []
        for (let i = 0; i < 20; i++) {
          sessions = await querySql(
            inject('pgAdminUrl'),
            `SELECT pid FROM pg_stat_activity WHERE datname = '${database}' AND application_name LIKE 'dbops/%'`,
          )
          if (sessions.length === 0) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        expect(sessions).toEqual([])
      }

      const next = await dbops(db, ['create', '--json', '--verbose'])
      expect(next.code).toBe(0)
      expect([...next.json().swept].sort()).toEqual(leftovers.sort())
      expect(tempFiles(dir)).toEqual([])
      expect(finalBackups(dir)).toEqual([next.json().file])
    })

    test('SIGINT during create: exit 130, the temporary files removed, no backup', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, paddingData(dialect.name, dialect.name === 'sqlite' ? 40 : 6))
      const dir = path.join(db.dir, 'backups')
      fs.mkdirSync(dir)
      let stop = () => {}
      const result = await dbops(db, ['create'], {}, { onSpawn: (child) => (stop = whenTempAppears(dir, 1, () => child.kill('SIGINT'))) })
      stop()
      expect(result.code).toBe(130)
      expect(result.stderr).toMatch(/Interrupted by SIGINT/)
      expect(tempFiles(dir)).toEqual([])
      expect(finalBackups(dir)).toEqual([])
    })
  })
}

describe('sqlite: failures', () => {
  const sqlite = testDialects().find((d) => d.name === 'sqlite')!

  test.each([[[]], [['--json']]])('a missing SQLite file: exit 7, and no empty database created %s', async (extra) => {
    const db = await fresh(sqlite)
    const result = await dbops(db, ['create', ...extra])
    expect(result.code).toBe(7)
    if (extra.length > 0) expect(result.json()).toMatchObject({ error: { code: 'DB_FILE_MISSING' } })
    else expectOneLineError(result, /SQLite file .*app\.db does not exist/)
    expect(fs.readdirSync(db.dir)).toEqual([])
  })

  test.each([{ args: ['verify', '../etc/passwd'] }, { args: ['restore', 'sub/app-20250101T000000.000Z.db'] }, { args: ['verify', '..'] }])(
    'a path that reaches no backup file (.. included: the user chose it): exit 2 ($args)',
    async ({ args }) => {
      const db = await fresh(sqlite)
      const plain = await dbops(db, args)
      expect(plain.code).toBe(2)
      expectOneLineError(plain, /No backup file at /)
      const json = await dbops(db, [...args, '--json'])
      expect(json.code).toBe(2)
      expect(json.json()).toMatchObject({ error: { code: 'BACKUP_NOT_FOUND' } })
    },
  )

  test('another backup running: exit 5 with and without --json', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const dir = path.join(db.dir, 'backups')
    fs.mkdirSync(dir)
    const lock = await acquireDirectoryLock(dir, backupSeriesName('app', sqliteFileIdentity(sqlitePathOf(db.url)!)), { timeoutMs: 0 })
    try {
      const plain = await dbops(db, ['create'])
      expect(plain.code).toBe(5)
      expectOneLineError(plain, /Another backup or prune of "app" is running/)
      const json = await dbops(db, ['create', '--json', '--lock-timeout', '1'])
      expect(json.code).toBe(5)
      expect(json.json()).toMatchObject({
        error: { code: 'LOCK_TIMEOUT', message: expect.stringContaining('waited 1.0 s') },
      })
      expect(await dbops(db, ['prune', '--keep-last', '1'])).toMatchObject({ code: 5 })
    } finally {
      await lock.release()
    }
    expect(await dbops(db, ['create'])).toMatchObject({ code: 0 })
  })

  test('a corrupted backup: verify exits 6 naming the check (bytes flipped; manifest missing)', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 200))
    const created = (await dbops(db, ['create', '--json'])).json()
    const fd = fs.openSync(created.path, 'r+')
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 5000)
    fs.closeSync(fd)
    const flipped = await dbops(db, ['verify', created.file])
    expect(flipped.code).toBe(6)
    expectOneLineError(flipped, /failed verification at the sha256 check/)

    fs.rmSync(`${created.path}.json`)
    const missing = await dbops(db, ['verify', created.file, '--json'])
    expect(missing.code).toBe(6)
    expect(missing.json()).toMatchObject({
      error: {
        code: 'BACKUP_MANIFEST_MISSING',
        message: expect.stringContaining('failed the manifest check'),
      },
    })
  })

  test('a backup directory this user cannot write: exit 1 naming it', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const dir = path.join(db.dir, 'root-only')
    fs.mkdirSync(dir, { mode: 0o755 })
    // the database (a WAL file: its directory too) belongs to the user; the backup directory does not
    for (const f of fs.readdirSync(db.dir).filter((f) => f.startsWith('app.db'))) fs.chownSync(path.join(db.dir, f), 65534, 65534)
    fs.chownSync(db.dir, 65534, 65534)
    const result = await dbops(db, ['create', '--dir', dir], { HOME: db.dir }, { uid: 65534, gid: 65534 })
    expect(result.code).toBe(1)
    expectOneLineError(result, /Backup directory .*root-only is not writable by this user/)
  })

  test('no space left before the copy (a tmpfs smaller than the database): exit 1, nothing written', async (ctx) => {
    const tmpfs = mountTmpfs(2)
    if ('skip' in tmpfs) return ctx.skip(tmpfs.skip)
    const db = await fresh(sqlite)
    await execSql(db.url, paddingData('sqlite', 3))
    const result = await dbops(db, ['create', '--dir', tmpfs.dir])
    expect(result.code).toBe(1)
    expectOneLineError(result, /No space left for the backup in .*: [\d.]+ [KM]B free, the database is 3\.\d MB/)
    expect(fs.readdirSync(tmpfs.dir)).toEqual([])
  })

  test('no space left while writing (gzip on a small tmpfs): exit 1, temporary files removed, earlier backups untouched, no retention', async (ctx) => {
    const tmpfs = mountTmpfs(2)
    if ('skip' in tmpfs) return ctx.skip(tmpfs.skip)
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 20))
    expect(await dbops(db, ['create', '--gzip', '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
    expect(await dbops(db, ['create', '--gzip', '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
    const before = finalBackups(tmpfs.dir).sort()
    expect(before).toHaveLength(2)
    expect(before[0]).toMatch(/\.db\.gz$/)

    await execSql(db.url, paddingData('sqlite', 1.3))
    const result = await dbops(db, ['create', '--gzip', '--keep-last', '1', '--dir', tmpfs.dir])
    expect(result.code).toBe(1)
    expectOneLineError(result, /No space left on device/)
    expect(tempFiles(tmpfs.dir)).toEqual([])
    expect(finalBackups(tmpfs.dir).sort()).toEqual(before) // retention did not run
    for (const file of before) expect(await dbops(db, ['verify', file, '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
  })
})

describe('postgres: failures', () => {
  const postgres = testDialects().find((d) => d.name === 'postgres')!
  const fakeDirs: string[] = []
  afterEach(() => {
    for (const dir of fakeDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })

  /** A stand-in pg_dump that only knows its (old) version. */
  function fakePgDump(version: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-fake-pg-'))
    fakeDirs.push(dir)
    const file = path.join(dir, 'pg_dump')
    fs.writeFileSync(file, `#!/bin/sh\necho "pg_dump (PostgreSQL) ${version}"\n`, { mode: 0o755 })
    return file
  }

  test('pg_dump missing (PG_DUMP points nowhere): exit 1, before any file exists', async () => {
    const db = await fresh(postgres)
    const result = await dbops(db, ['create'], { PG_DUMP: '/nonexistent/pg_dump' })
    expect(result.code).toBe(1)
    expectOneLineError(result, /PG_DUMP=\/nonexistent\/pg_dump: no executable pg_dump there/)
    expect(fs.existsSync(path.join(db.dir, 'backups'))).toBe(false)
  })

  test('pg_dump older than the server (PG_DUMP in .env): exit 1 listing the version found and what to install', async () => {
    const db = await fresh(postgres)
    fs.writeFileSync(path.join(db.dir, '.env'), `PG_DUMP=${fakePgDump('12.3')}\n`)
    const result = await dbops(db, ['create', '--json'])
    expect(result.code).toBe(1)
    expect(result.json().error).toMatchObject({
      code: 'PG_TOOL_TOO_OLD',
      message: expect.stringMatching(/No pg_dump fits the server \(PostgreSQL 1\d\): found 12\.3 \(/),
      hint: expect.stringMatching(/postgresql-client-1\d/),
    })
  })

  test('wrong password: exit 7, the password never shown', async () => {
    const db = await fresh(postgres)
    const wrong = 'Wr0ng-Secret-xyz'
    const result = await dbops(db, ['create'], {
      DATABASE_URL: withUrl(db.url, { password: wrong }),
    })
    expect(result.code).toBe(7)
    expectOneLineError(result, /Authentication failed/)
    expect(result.stderr + result.stdout).not.toContain(wrong)
  })

  test('unreachable server: exit 4', async () => {
    const db = await fresh(postgres)
    const port = await freePort()
    const result = await dbops(db, ['create', '--json'], {
      DATABASE_URL: withUrl(db.url, { port }),
      DATABASE_CONNECT_TIMEOUT: '1',
      DATABASE_MAX_RETRIES: '0',
    })
    expect(result.code).toBe(4)
    expect(result.json().error.code).toBe('DB_UNREACHABLE')
  })

  test('stray PG* variables do not redirect pg_dump', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 10))
    const result = await dbops(db, ['create', '--json', '--verify', 'restore'], {
      PGHOST: 'nowhere.invalid',
      PGPORT: '1',
      PGDATABASE: 'nope',
      PGUSER: 'nobody',
      PGPASSWORD: 'x',
    })
    expect(result.code).toBe(0)
    expect(result.json().checks.find((c: { name: string }) => c.name === 'restore')).toMatchObject({
      ok: true,
    })
  })

  test('no space left while pg_dump streams (a small tmpfs): exit 1, temporary file removed, earlier backups untouched, no retention', async (ctx) => {
    const tmpfs = mountTmpfs(2)
    if ('skip' in tmpfs) return ctx.skip(tmpfs.skip)
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 20))
    expect(await dbops(db, ['create', '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
    expect(await dbops(db, ['create', '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
    const before = finalBackups(tmpfs.dir).sort()

    await execSql(db.url, paddingData('postgres', 4))
    const result = await dbops(db, ['create', '--keep-last', '1', '--dir', tmpfs.dir])
    expect(result.code).toBe(1)
    expectOneLineError(result, /[Nn]o space left on device/)
    expect(tempFiles(tmpfs.dir)).toEqual([])
    expect(finalBackups(tmpfs.dir).sort()).toEqual(before)
    for (const file of before) expect(await dbops(db, ['verify', file, '--dir', tmpfs.dir])).toMatchObject({ code: 0 })
  })

  test('restore --target-url into a new database, --no-owner, and the safety backup when it exists', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 10))
    const created = (await dbops(db, ['create', '--json'])).json()
    const copyName = `${new URL(db.url).pathname.slice(1)}_copy`
    const copyUrl = withUrl(db.url, { database: copyName })
    defer(() => execSql(inject('pgAdminUrl'), `DROP DATABASE IF EXISTS "${copyName}" WITH (FORCE)`))

    const first = await dbops(db, ['restore', created.file, '--target-url', copyUrl, '--no-owner', '--json'])
    expect(first.code).toBe(0)
    expect(first.json()).toMatchObject({ created: true, replaced: false, safety_backup: null })
    expect(first.stdout).not.toContain(new URL(db.url).password)

    // the copy now holds data of its own: replacing it with the source's backup needs the flag
    const refused = await dbops(db, ['restore', created.file, '--target-url', copyUrl])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/is a backup of postgres .*, not of postgres .*_copy/)
    const second = await dbops(db, ['restore', created.file, '--target-url', copyUrl, '--from-other-database'])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/replacing its contents/)
    expect(second.stdout).toMatch(new RegExp(`safety backup of the previous contents: ${copyName}-[0-9a-f]{8}-\\d{8}T`))
  })
})
