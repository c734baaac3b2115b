/**
 * What a new user trips over with backups, through the built CLI on SQLite: a backup given as
 * the path they type (tab completion gives `backups/app-….db`, or an absolute path to a copy
 * elsewhere) works like the name `backup list` shows; and `health` on a fresh development
 * project does not fail its exit code because no backup exists yet.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { execSql, sampleData } from '../support/backup-fixtures.js'
import { type CliResult, expectOneLineError, makeTempDir, repoRoot, runCli } from '../support/cli.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'

const { defer, fresh } = perTestCleanup()
const sqlite = testDialects().find((d) => d.name === 'sqlite')!

function dbops(db: TestDatabase, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cwd: db.dir, env: { DATABASE_URL: db.url, NO_COLOR: '1', ...env }, timeoutMs: 60_000 })
}

/** A database with rows and one backup of it in ./backups; the backup's file name. */
async function withBackup(db: TestDatabase): Promise<string> {
  await execSql(db.url, sampleData('sqlite', 20))
  const made = await dbops(db, ['backup', 'create', '--json'])
  expect(made.code, made.stderr).toBe(0)
  return made.json().file as string
}

describe('sqlite: a backup given as a path', () => {
  test('verify accepts backups/NAME, an absolute path and the bare name; the manifest beside the file is read', async () => {
    const db = await fresh(sqlite)
    const file = await withBackup(db)
    for (const given of [`backups/${file}`, path.join(db.dir, 'backups', file), `./backups/${file}`, file]) {
      const verified = await dbops(db, ['backup', 'verify', given, '--json'])
      expect(verified.code, `${given}: ${verified.stderr}`).toBe(0)
      expect(verified.json()).toMatchObject({ file, path: path.join(db.dir, 'backups', file), verification_level: 'read' })
    }
  })

  test('restore from a path outside the backup directory: into a new database, the copy read where it is', async () => {
    const db = await fresh(sqlite)
    const file = await withBackup(db)
    const elsewhere = makeTempDir('dbops-mnt-')
    defer(() => elsewhere.cleanup())
    for (const name of [file, `${file}.json`]) fs.copyFileSync(path.join(db.dir, 'backups', name), path.join(elsewhere.dir, name))
    fs.rmSync(path.join(db.dir, 'backups'), { recursive: true })
    const restored = await dbops(db, ['backup', 'restore', path.join(elsewhere.dir, file), '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    const doc = restored.json()
    expect(doc).toMatchObject({ file, created: true, replaced: false })
    const target = doc.target_url.replace(/^sqlite:\/\//, '')
    expect(fs.existsSync(target)).toBe(true)
    // in place: the safety backup goes to the backup directory, not beside the copy
    const inPlace = await dbops(db, ['backup', 'restore', path.join(elsewhere.dir, file), '--in-place', '--json'])
    expect(inPlace.code, inPlace.stderr).toBe(0)
    const safety = inPlace.json().safety_backup
    expect(fs.existsSync(path.join(db.dir, 'backups', safety))).toBe(true)
    // nothing left beside the copy but the copy and its manifest
    expect(fs.readdirSync(elsewhere.dir).sort()).toEqual([file, `${file}.json`].sort())
  })

  test('a path to no file: exit 2 naming the path, with and without --json', async () => {
    const db = await fresh(sqlite)
    await withBackup(db)
    const missing = 'backups/app-20250101T000000.000Z.db'
    const plain = await dbops(db, ['backup', 'verify', missing])
    expect(plain.code).toBe(2)
    expectOneLineError(plain, /No backup file at backups\/app-20250101T000000\.000Z\.db/)
    const json = await dbops(db, ['backup', 'restore', missing, '--json'])
    expect(json.code).toBe(2)
    expect(json.json()).toMatchObject({ error: { code: 'BACKUP_NOT_FOUND' } })
    // a directory is not a backup file either
    expect((await dbops(db, ['backup', 'verify', '..', '--json'])).json()).toMatchObject({ error: { code: 'BACKUP_NOT_FOUND' } })
  })

  test('a path to a file without its manifest: exit 6 naming the manifest it looked for', async () => {
    const db = await fresh(sqlite)
    const file = await withBackup(db)
    const elsewhere = makeTempDir('dbops-mnt-')
    defer(() => elsewhere.cleanup())
    fs.copyFileSync(path.join(db.dir, 'backups', file), path.join(elsewhere.dir, file))
    const given = path.join(elsewhere.dir, file)
    const plain = await dbops(db, ['backup', 'verify', given])
    expect(plain.code).toBe(6)
    expectOneLineError(plain, new RegExp(`${file.replace(/\./g, '\\.')}\\.json is missing`))
    const json = await dbops(db, ['backup', 'restore', given, '--json'])
    expect(json.code).toBe(6)
    expect(json.json()).toMatchObject({ error: { code: 'BACKUP_MANIFEST_MISSING' } })
  })
})

/** A read-only tmpfs holding copies of `files` from `from`, or the reason it cannot be made here. */
function readOnlyCopy(from: string, files: string[]): { dir: string } | { skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-ro-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    fs.rmdirSync(dir)
    return { skip: `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}): needs root` }
  }
  defer(() => {
    execFileSync('umount', [dir])
    fs.rmdirSync(dir)
  })
  for (const name of files) fs.copyFileSync(path.join(from, name), path.join(dir, name))
  execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' })
  return { dir }
}

describe('sqlite: a backup on a read-only mount', () => {
  test('verifies to the restore level and restores; only recording the result is refused, as a warning', async (context) => {
    const db = await fresh(sqlite)
    const file = await withBackup(db)
    const mounted = readOnlyCopy(path.join(db.dir, 'backups'), [file, `${file}.json`])
    if ('skip' in mounted) return context.skip(mounted.skip)
    const given = path.join(mounted.dir, file)
    const verified = await dbops(db, ['backup', 'verify', given, '--level', 'restore', '--json'])
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.json()).toMatchObject({ verification_level: 'restore', row_counts: { users: 20 } })
    expect(verified.stderr).toMatch(/^warning: could not record the verification/m)
    const restored = await dbops(db, ['backup', 'restore', given, '--json'])
    expect(restored.code, restored.stderr).toBe(0)
  })
})

describe('sqlite: health right after the quick start', () => {
  /** The quick start: the example migrations applied to ./data/app.db with no configuration. */
  async function quickStart(): Promise<{ dir: string; health: (env?: Record<string, string>, json?: boolean) => Promise<CliResult> }> {
    const tmp = makeTempDir()
    defer(() => tmp.cleanup())
    fs.cpSync(path.join(repoRoot, 'migrations'), path.join(tmp.dir, 'migrations'), { recursive: true })
    const up = await runCli(['migrate', 'up', '--quiet'], { cwd: tmp.dir })
    expect(up.code, up.stderr).toBe(0)
    return {
      dir: tmp.dir,
      health: (env = {}, json = false) => runCli(['health', ...(json ? ['--json'] : [])], { cwd: tmp.dir, env: { NO_COLOR: '1', ...env } }),
    }
  }

  test('no backup directory, no retention, not production: "no backups configured" as info, exit 0', async () => {
    const project = await quickStart()
    const text = await project.health()
    expect(text.code, text.stdout + text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^backups +ok .*no backups configured/m)
    const json = await project.health({}, true)
    expect(json.code).toBe(0)
    const doc = json.json()
    expect(doc.status).toBe('ok')
    const backups = doc.components.find((c: { name: string }) => c.name === 'backups')
    expect(Object.keys(backups).sort()).toEqual(['details', 'latency_ms', 'name', 'status'])
    expect(backups).toMatchObject({ status: 'ok', details: { count: 0, note: expect.stringMatching(/^no backups configured/) } })
  })

  test.each<{ name: string; env: Record<string, string>; mkdir: boolean }>([
    { name: 'the backup directory exists', env: {}, mkdir: true },
    { name: 'retention is configured', env: { BACKUP_KEEP_DAILY: '7' }, mkdir: false },
    { name: 'ENV=production', env: { ENV: 'production' }, mkdir: false },
    { name: 'NODE_ENV=production', env: { NODE_ENV: 'production' }, mkdir: false },
  ])('backups expected ($name): no backup still warns, exit 3', async ({ env, mkdir }) => {
    const project = await quickStart()
    if (mkdir) fs.mkdirSync(path.join(project.dir, 'backups'))
    const json = await project.health(env, true)
    expect(json.code).toBe(3)
    const backups = json.json().components.find((c: { name: string }) => c.name === 'backups')
    expect(backups).toMatchObject({ status: 'warn', details: { count: 0, problem: expect.stringMatching(/^no backups in /) } })
  })
})
