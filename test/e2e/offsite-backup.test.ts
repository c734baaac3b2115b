/**
 * Off-site backups end to end: the built CLI against a real S3-compatible server (s3rver on
 * a free loopback port), real SQLite files and the test PostgreSQL. Round trips through the
 * remote, incomplete uploads, altered objects, refused credentials, a missing bucket and an
 * unreachable endpoint.
 */
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseBackupFileName } from '../../src/backup/backup-name.js'
import { execSql, fingerprintTables, paddingData, sampleData, sqlitePathOf } from '../support/backup-fixtures.js'
import { type CliResult, expectOneLineError, runCli, startCli, waitFor } from '../support/cli.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'
import { S3_SECRET, type S3Server, startS3Server } from '../support/s3-server.js'
import { faultyRelay, freePort } from '../support/tcp.js'

const { defer, fresh } = perTestCleanup()
let s3: S3Server
let prefixes = 0
/** An age key pair for the test file: the identity in a file, as a restoring machine keeps it. */
let key: { recipient: string; identity: string; file: string }

beforeAll(async () => {
  s3 = await startS3Server()
  const identity = await generateIdentity()
  const file = path.join(s3.dir, 'key.txt')
  fs.writeFileSync(file, `# test key\n${identity}\n`, { mode: 0o600 })
  key = { recipient: await identityToRecipient(identity), identity, file }
})
afterAll(async () => {
  await s3?.close()
})

/** A prefix of its own for each test, so tests never see each other's backups. */
function remoteEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...s3.env(`t${++prefixes}-${process.pid}`), ...extra }
}

function dbops(db: TestDatabase, args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(['backup', ...args], { cwd: db.dir, env: { DATABASE_URL: db.url, ...env }, timeoutMs: 60_000 })
}

function localBackups(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => parseBackupFileName(f) && !f.endsWith('.json')) : []
}

function remoteKeys(env: Record<string, string>): string[] {
  const prefix = env.BACKUP_REMOTE_URL!.split('/').slice(3).join('/')
  const dir = path.join(s3.dir, s3.bucket, prefix)
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .map((f) => f.replace(/\._S3rver_.*$/, ''))
        .filter((v, i, a) => a.indexOf(v) === i)
    : []
}

/** `url` with the database (or SQLite file) of `other`. */
function withDatabaseOf(url: string, other: string): string {
  if (sqlitePathOf(url)) return other
  const u = new URL(url)
  u.pathname = new URL(other).pathname
  return u.toString()
}

/** Whether an AbortMultipartUpload request passed the relay (s3rver itself does not implement it, so its disk cannot tell). */
function sentAbort(relay: { requests(): string[] }): boolean {
  return relay.requests().some((r) => r.startsWith('DELETE ') && r.includes('uploadId='))
}

for (const dialect of testDialects()) {
  describe(dialect.name, () => {
    test('create --remote → list → local copy gone → restore from the remote: the same rows', async () => {
      const db = await fresh(dialect)
      await execSql(db.url, sampleData(dialect.name, 200))
      const env = remoteEnv({ BACKUP_AGE_RECIPIENTS: key.recipient, BACKUP_AGE_IDENTITY_FILE: key.file })
      const created = await dbops(db, ['create', '--remote-only', '--json'], env)
      expect(created.code, created.stderr).toBe(0)
      const doc = created.json()
      expect(doc.remote.url).toBe(`${env.BACKUP_REMOTE_URL}/${doc.file}.age`)
      expect(doc.remote.encrypted).toBe(true)
      expect(doc.remote.stored_check).toBe('read-back') // s3rver reports no checksum, so dbops read it back
      expect(doc.remote.local_deleted).toBe(true)
      expect(localBackups(path.join(db.dir, 'backups'))).toEqual([])
      expect(remoteKeys(env).sort()).toEqual([`${doc.file}.age`, `${doc.file}.age.json`])

      const listed = await dbops(db, ['list', '--remote', '--json'], env)
      expect(listed.code, listed.stderr).toBe(0)
      expect(listed.json().backups.map((b: { file: string; status: string }) => [b.file, b.status])).toEqual([[`${doc.file}.age`, 'ok']])

      const restored = await dbops(db, ['restore', '--remote', `${doc.file}.age`, '--json'], env)
      expect(restored.code, restored.stderr).toBe(0)
      // the URL printed names no password; the test's own URL has it
      const target = withDatabaseOf(db.url, restored.json().target_url as string)
      defer(async () => {
        if (dialect.name === 'postgres') await execSql(db.url, `DROP DATABASE IF EXISTS "${new URL(target).pathname.slice(1)}"`)
      })
      expect(await fingerprintTables(target)).toEqual(await fingerprintTables(db.url))
      expect(Object.keys(await fingerprintTables(target))).toContain('users')
    })
  })
}

describe('sqlite', () => {
  const sqlite = testDialects()[0]!

  test('restore from an s3:// URL and a drill recorded in the remote manifest', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 50))
    const env = remoteEnv()
    const created = await dbops(db, ['create', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const file = created.json().file as string
    const offsite = async () => {
      const health = await runCli(['health', '--json'], { cwd: db.dir, env: { DATABASE_URL: db.url, ...env } })
      return health.json().components.find((c: { name: string }) => c.name === 'offsite_backups')
    }
    const before = await offsite()
    expect(before).toMatchObject({ status: 'warn', details: { newest_file: file, drill_age_hours: null } })
    expect(before.details.problem).toMatch(/no restore drill recorded/)
    const drill = await dbops(db, ['verify', '--remote', '--latest', '--level', 'restore', '--json'], env)
    expect(drill.code, drill.stderr).toBe(0)
    const after = await offsite()
    expect(after.status).toBe('ok')
    expect(after.details).toMatchObject({ newest_drill_file: file, count: 1 })
    expect(after.details.drill_age_hours).toBeLessThan(0.1)
    expect(drill.json().row_counts.users).toBe(50)
    const manifest = JSON.parse(
      fs.readFileSync(s3.objectPath(`${env.BACKUP_REMOTE_URL!.split('/').slice(3).join('/')}/${file}.json`), 'utf8'),
    )
    expect(manifest.verification.level).toBe('restore')
    expect(manifest.verification.row_counts.users).toBe(50)

    fs.rmSync(path.join(db.dir, 'backups'), { recursive: true })
    const { BACKUP_REMOTE_URL: url, ...withoutUrl } = env
    const restored = await dbops(db, ['restore', `${url}/${file}`, '--json'], withoutUrl)
    expect(restored.code, restored.stderr).toBe(0)
    expect((await fingerprintTables(restored.json().target_url)).users!.rows).toBe(50)
  })

  test('an altered remote object fails verify and restore (exit 6), nothing restored, the failure recorded', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 20))
    const env = remoteEnv()
    const created = await dbops(db, ['create', '--remote-only', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const file = created.json().file as string
    const prefix = env.BACKUP_REMOTE_URL!.split('/').slice(3).join('/')
    const stored = s3.objectPath(`${prefix}/${file}`)
    const bytes = fs.readFileSync(stored)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100)
    fs.writeFileSync(stored, bytes)

    const verify = await dbops(db, ['verify', '--remote', file], env)
    expect(verify.code).toBe(6)
    expectOneLineError(verify, /failed verification at the sha256 check/)
    expect(JSON.parse(fs.readFileSync(s3.objectPath(`${prefix}/${file}.json`), 'utf8')).verification).toMatchObject({
      level: 'none',
      failed_check: 'sha256',
    })

    const restore = await dbops(db, ['restore', '--remote', '--latest', '--json'], env)
    expect(restore.code).toBe(6)
    expect(restore.json().error.code).toBe('BACKUP_CORRUPT')
    const dir = path.join(db.dir, 'backups')
    expect(fs.readdirSync(dir).filter((f) => !f.endsWith('.backup-lock'))).toEqual([]) // neither the download nor its temporary
    expect(fs.readdirSync(db.dir).filter((f) => f.includes('restored'))).toEqual([])
  })

  test('an upload without its manifest is listed as incomplete and pruned', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 10))
    const env = remoteEnv()
    const first = await dbops(db, ['create', '--json'], env)
    expect(first.code, first.stderr).toBe(0)
    const second = await dbops(db, ['create', '--json'], env)
    expect(second.code, second.stderr).toBe(0)
    // the first upload loses its manifest: as if the run had died before the last step
    const prefix = env.BACKUP_REMOTE_URL!.split('/').slice(3).join('/')
    for (const f of fs.readdirSync(path.join(s3.dir, s3.bucket, prefix))) {
      if (f.startsWith(`${first.json().file}.json`)) fs.rmSync(path.join(s3.dir, s3.bucket, prefix, f))
    }
    const listed = await dbops(db, ['list', '--remote', '--json'], env)
    expect(listed.json().backups.map((b: { file: string; status: string }) => [b.file, b.status])).toEqual([
      [second.json().file, 'ok'],
      [first.json().file, 'incomplete upload'],
    ])
    const pruned = await dbops(db, ['prune', '--remote', '--keep-last', '1', '--json'], env)
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(pruned.json().incomplete_removed).toEqual([first.json().file])
    expect(remoteKeys(env).sort()).toEqual([second.json().file, `${second.json().file}.json`])
  })

  test('refused credentials: exit 7 naming the source, never the secret; the local backup kept', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const env = remoteEnv({ AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: 'super-secret-value-123' })
    const result = await dbops(db, ['create'], env)
    expect(result.code).toBe(7)
    expectOneLineError(result, /refused the credentials from the environment \(AWS_ACCESS_KEY_ID\)/)
    expect(result.stderr).not.toContain('super-secret-value-123')
    expect(result.stderr).toMatch(/local backup .* is kept/)
    expect(localBackups(path.join(db.dir, 'backups'))).toHaveLength(1)
    const json = await dbops(db, ['list', '--remote', '--json'], env)
    expect(json.code).toBe(7)
    expect(json.json().error.code).toBe('REMOTE_ACCESS_DENIED')
    expect(json.stdout + json.stderr).not.toContain('super-secret-value-123')
    expect(S3_SECRET).not.toBe('super-secret-value-123')
  })

  test('a missing bucket exits 7; an unreachable endpoint exits 4 after retries, the local backup kept', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const missing = await dbops(db, ['list', '--remote', 's3://no-such-bucket/app'], remoteEnv())
    expect(missing.code).toBe(7)
    expectOneLineError(missing, /Bucket no-such-bucket does not exist/)
    // health: a warning about the off-site copies, not a failed database
    const health = await runCli(['health', '--json'], {
      cwd: db.dir,
      env: { DATABASE_URL: db.url, ...remoteEnv(), BACKUP_REMOTE_URL: 's3://no-such-bucket/app' },
    })
    const offsite = health.json().components.find((c: { name: string }) => c.name === 'offsite_backups')
    expect(offsite).toMatchObject({ status: 'warn', details: { error_code: 'REMOTE_BUCKET_MISSING' } })

    const env = remoteEnv({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}` })
    const down = await dbops(db, ['create', '--json'], env)
    expect(down.code).toBe(4)
    expect(down.json().error.code).toBe('REMOTE_UNREACHABLE')
    expect(localBackups(path.join(db.dir, 'backups'))).toHaveLength(1)
  })

  test('--remote-only without a remote is bad usage (exit 2); a malformed remote URL names --remote', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    const none = await dbops(db, ['create', '--remote-only'], { AWS_EC2_METADATA_DISABLED: 'true' })
    expect(none.code).toBe(2)
    expectOneLineError(none, /No remote configured/)
    const bad = await dbops(db, ['list', '--remote', 's3://B/x'], remoteEnv())
    expect(bad.code).toBe(2)
    expectOneLineError(bad, /--remote: "s3:\/\/B\/x" is not an s3:\/\/bucket\/prefix URL/)
    const secret = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ'
    const identity = await dbops(db, ['list', '--remote'], remoteEnv({ BACKUP_AGE_RECIPIENTS: secret }))
    expect(identity.code).toBe(2)
    expectOneLineError(identity, /BACKUP_AGE_RECIPIENTS: an age identity \(secret key\) was given where a recipient/)
    expect(identity.stderr).not.toContain(secret)
  })

  test('encrypted copies: age -d reads them; hash-level verify needs no identity, deeper levels and restore do (exit 7)', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 30))
    const env = remoteEnv({ BACKUP_AGE_RECIPIENTS: key.recipient })
    const created = await dbops(db, ['create', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const file = created.json().file as string
    const prefix = env.BACKUP_REMOTE_URL!.split('/').slice(3).join('/')
    const stored = s3.objectPath(`${prefix}/${file}.age`)
    // Debian's age decrypts what dbops stored, to the local backup's bytes
    const plain = execFileSync('age', ['-d', '-i', key.file, stored])
    expect(plain.equals(fs.readFileSync(path.join(db.dir, 'backups', file)))).toBe(true)
    const manifest = JSON.parse(fs.readFileSync(s3.objectPath(`${prefix}/${file}.age.json`), 'utf8'))
    expect(manifest).toMatchObject({ encrypted: true, recipients: [key.recipient], plaintext: { file } })
    expect(JSON.stringify(manifest)).not.toContain('AGE-SECRET-KEY')

    const hash = await dbops(db, ['verify', '--remote', '--latest', '--level', 'hash'], env)
    expect(hash.code, hash.stderr).toBe(0)
    const read = await dbops(db, ['verify', '--remote', '--latest', '--level', 'read'], env)
    expect(read.code).toBe(7)
    expectOneLineError(read, /encrypted and no age identity was given/)
    const other = path.join(db.dir, 'other.txt')
    fs.writeFileSync(other, `${await generateIdentity()}\n`)
    const wrong = await dbops(db, ['restore', '--remote', '--latest', '--json'], { ...env, BACKUP_AGE_IDENTITY_FILE: other })
    expect(wrong.code).toBe(7)
    expect(wrong.json().error.code).toBe('AGE_IDENTITY_WRONG')
    expect(wrong.stdout + wrong.stderr).not.toContain('AGE-SECRET-KEY')
    const drill = await dbops(db, ['verify', '--remote', '--latest', '--level', 'restore', '--json'], {
      ...env,
      BACKUP_AGE_IDENTITY_FILE: key.file,
    })
    expect(drill.code, drill.stderr).toBe(0)
    expect(drill.json().row_counts.users).toBe(30)
  })

  test('a config that requires encryption refuses to upload an unencrypted backup (exit 2), the local backup kept', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5))
    fs.writeFileSync(path.join(db.dir, 'dbops.config.json'), JSON.stringify({ backup: { encrypt: { required: true } } }))
    const result = await dbops(db, ['create'], remoteEnv())
    expect(result.code).toBe(2)
    expectOneLineError(result, /unencrypted, and backup.encrypt.required refuses/)
    expect(localBackups(path.join(db.dir, 'backups'))).toHaveLength(1)
  })

  test('connections dropped mid-upload: exit 4 after retries, the multipart upload aborted, the local backup kept', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5) + paddingData('sqlite', 10)) // two 8 MiB parts
    const relay = await faultyRelay(Number(new URL(s3.endpoint).port), 256 * 1024, 'drop')
    defer(() => relay.close())
    const env = remoteEnv({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${relay.port}` })
    const result = await dbops(db, ['create', '--json'], env)
    expect(result.code, result.stderr).toBe(4)
    expect(result.json().error.code).toBe('REMOTE_UNREACHABLE')
    expect(result.json().error.hint).toMatch(/local backup .* is kept/)
    expect(relay.cut()).toBeGreaterThan(2) // retried before giving up
    expect(localBackups(path.join(db.dir, 'backups'))).toHaveLength(1)
    expect(remoteKeys(env)).toEqual([]) // no object, no manifest
    expect(sentAbort(relay)).toBe(true) // and the multipart upload aborted
  })

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-upload: exit %i, the multipart upload aborted, the local backup kept', async (signal, code) => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5) + paddingData('sqlite', 10))
    const relay = await faultyRelay(Number(new URL(s3.endpoint).port), 256 * 1024, 'stall')
    defer(() => relay.close())
    const env = remoteEnv({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${relay.port}` })
    const run = startCli(['backup', 'create'], { cwd: db.dir, env: { DATABASE_URL: db.url, ...env } })
    await waitFor('the upload to stall', () => relay.cut() > 0)
    run.child().kill(signal)
    const result = await run.done
    expect(result.code).toBe(code)
    expect(localBackups(path.join(db.dir, 'backups'))).toHaveLength(1)
    expect(remoteKeys(env)).toEqual([])
    expect(sentAbort(relay)).toBe(true)
  })

  test('disk full while downloading: exit 1, the partial download removed, nothing restored', async (ctx) => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 5) + paddingData('sqlite', 3))
    const env = remoteEnv()
    const created = await dbops(db, ['create', '--remote-only', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const small = fs.mkdtempSync(path.join(db.dir, 'tmpfs-'))
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', small], { stdio: 'pipe' })
    } catch {
      ctx.skip() // mounting needs root
    }
    defer(() => {
      execFileSync('umount', [small])
    })
    const result = await dbops(db, ['restore', '--remote', '--latest', '--dir', small, '--json'], env)
    expect(result.code).toBe(1)
    expect(result.json().error.code).toBe('BACKUP_NO_SPACE')
    expect(result.json().error.message).toMatch(/while downloading/)
    expect(fs.readdirSync(small).filter((f) => !f.endsWith('.backup-lock'))).toEqual([])
    expect(fs.readdirSync(db.dir).filter((f) => f.includes('restored'))).toEqual([])
  })

  test("another database's remote backup: never --latest, and not restored over data without --from-other-database", async () => {
    const a = await fresh(sqlite)
    const b = await fresh(sqlite)
    await execSql(a.url, sampleData('sqlite', 5))
    await execSql(b.url, sampleData('sqlite', 7))
    const env = remoteEnv()
    const created = await dbops(a, ['create', '--json'], env)
    expect(created.code, created.stderr).toBe(0)
    const latest = await dbops(b, ['verify', '--remote', '--latest'], env)
    expect(latest.code).toBe(1)
    expectOneLineError(latest, /No complete backup of app at s3:/)
    const over = await dbops(b, ['restore', '--remote', created.json().file, '--in-place', '--json'], env)
    expect(over.code).toBe(2)
    expect(over.json().error.code).toBe('RESTORE_OTHER_DATABASE')
    expect((await fingerprintTables(b.url)).users!.rows).toBe(7)
  })
})
