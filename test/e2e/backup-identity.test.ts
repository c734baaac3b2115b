/**
 * Backups belong to the database they were taken of, not to a file name: two SQLite files both
 * called `app.db`, and two PostgreSQL databases of the same name on different clusters, share
 * one backup directory. `restore --latest`, `prune`, `list --mine` and `health` each only ever
 * touch the backups of their own database; restoring another database's backup over data
 * needs `--from-other-database`, and the output says whose backup it is.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { parseBackupFileName } from '../../src/backup/backup-name.js'
import { execSql, querySql, sampleData } from '../support/backup-fixtures.js'
import { type CliResult, runCli } from '../support/cli.js'
import { type PgCluster, startPgCluster } from '../support/pg-cluster.js'
import { withUrl } from '../support/postgres.js'

/** One of the two same-named databases: its URL and the marker row that tells it apart. */
interface Twin {
  label: 'A' | 'B'
  url: string
}

const roots: string[] = []
afterAll(() => {
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function tempRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-twins-'))
  roots.push(dir)
  return dir
}

function dbops(root: string, twin: Twin, args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: root, env: { DATABASE_URL: twin.url, NO_COLOR: '1' }, timeoutMs: 60_000 })
}

async function markerOf(twin: Twin): Promise<string> {
  const rows = await querySql<{ name: string }>(twin.url, 'SELECT name FROM who')
  return rows.map((r) => r.name).join(',')
}

/** Backup files (not manifests) in `dir`, each with the source its manifest names. */
function backupsIn(dir: string): Array<{ file: string; source: string }> {
  return fs
    .readdirSync(dir)
    .filter((f) => parseBackupFileName(f) && !f.endsWith('.json'))
    .map((file) => ({ file, source: JSON.parse(fs.readFileSync(path.join(dir, `${file}.json`), 'utf8')).source as string }))
}

function expectOk(result: CliResult): void {
  expect(result.code, result.stderr).toBe(0)
}

/**
 * Rounds of: both databases backed up at the same time with `--keep-last 2`, each changed,
 * then both restored in place from `--latest` at the same time. Each must get its own data
 * back, and neither's retention may ever delete the other's backups.
 */
async function backupPruneRestoreRounds(root: string, dir: string, twins: Twin[], sourceOf: (twin: Twin) => RegExp, rounds: number) {
  for (let round = 1; round <= rounds; round++) {
    const created = await Promise.all(twins.map((t) => dbops(root, t, ['backup', 'create', '--dir', dir, '--keep-last', '2', '--json'])))
    created.forEach(expectOk)
    const all = backupsIn(dir)
    for (const twin of twins) {
      const own = all.filter((b) => sourceOf(twin).test(b.source))
      expect(own.length, `round ${round}: backups of ${twin.label}`).toBe(Math.min(round, 2))
    }
    expect(all).toHaveLength(twins.length * Math.min(round, 2))

    for (const twin of twins) await execSql(twin.url, `UPDATE who SET name = 'changed ${twin.label}'`)
    const restored = await Promise.all(twins.map((t) => dbops(root, t, ['backup', 'restore', '--latest', '--in-place', '--dir', dir])))
    restored.forEach(expectOk)
    for (const twin of twins) expect(await markerOf(twin), `round ${round}`).toBe(twin.label)
  }
}

describe('sqlite: a/app.db and b/app.db backed up into one directory', () => {
  let root: string
  let dir: string
  let a: Twin
  let b: Twin

  beforeAll(async () => {
    root = tempRoot()
    dir = path.join(root, 'shared')
    fs.mkdirSync(dir)
    for (const label of ['a', 'b'] as const) fs.mkdirSync(path.join(root, label))
    a = { label: 'A', url: `sqlite:///${path.join(root, 'a', 'app.db')}` }
    b = { label: 'B', url: `sqlite:///${path.join(root, 'b', 'app.db')}` }
    for (const twin of [a, b])
      await execSql(twin.url, `${sampleData('sqlite', 20)} CREATE TABLE who (name text); INSERT INTO who VALUES ('${twin.label}');`)
  })

  test('restore --latest, prune, list --mine and health each select by database; another database needs --from-other-database', async () => {
    const a1 = (await dbops(root, a, ['backup', 'create', '--dir', dir, '--json'])).json()
    const b1 = (await dbops(root, b, ['backup', 'create', '--dir', dir, '--json'])).json()
    // the names tell the two apart, not only the manifests
    expect(parseBackupFileName(a1.file)!.database).not.toBe(parseBackupFileName(b1.file)!.database)
    expect(parseBackupFileName(a1.file)!.database).toMatch(/^app-[0-9a-f]{8}$/)

    await execSql(a.url, "UPDATE who SET name = 'changed'")
    const restored = await dbops(root, a, ['backup', 'restore', '--latest', '--in-place', '--dir', dir])
    expectOk(restored)
    expect(await markerOf(a)).toBe('A') // not B's data, though B's backup is the newest app.db one
    expect(restored.stdout).toContain(`restored ${a1.file} (a backup of sqlite ${path.join(root, 'a', 'app.db')})`)

    const a2 = (await dbops(root, a, ['backup', 'create', '--dir', dir, '--json'])).json()
    const pruned = await dbops(root, a, ['backup', 'prune', '--keep-last', '1', '--dir', dir, '--json'])
    expectOk(pruned)
    expect(pruned.json().deleted.map((d: { file: string }) => d.file)).not.toContain(b1.file)
    expect(fs.existsSync(b1.path)).toBe(true) // B's only backup
    expect(fs.existsSync(a2.path)).toBe(true)

    const b2 = (await dbops(root, b, ['backup', 'create', '--dir', dir, '--json'])).json()
    const mine = (await dbops(root, a, ['backup', 'list', '--mine', '--dir', dir, '--json'])).json()
    expect(mine.backups.map((e: { file: string }) => e.file)).toEqual([a2.file])
    const everyone = (await dbops(root, a, ['backup', 'list', '--dir', dir, '--json'])).json()
    expect(everyone.backups.find((e: { file: string }) => e.file === b2.file)).toMatchObject({
      source: `sqlite ${path.join(root, 'b', 'app.db')}`,
      source_identity: `sqlite:${fs.realpathSync(path.join(root, 'b', 'app.db'))}`,
    })

    const health = await runCli(['health', '--json'], { cwd: root, env: { DATABASE_URL: a.url, BACKUP_DIR: dir } })
    const backups = health.json().components.find((c: { name: string }) => c.name === 'backups')
    expect(backups.details.newest_file).toBe(a2.path) // B's newer backup is not A's
    expect(backups.details.count).toBe(1)

    // B's backup over A's data: refused without the flag, and the refusal says whose backup it is
    const refused = await dbops(root, a, ['backup', 'restore', b2.file, '--in-place', '--dir', dir])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(
      new RegExp(`^error: ${b2.file.replaceAll('.', '\\.')} is a backup of sqlite .*/b/app\\.db, not of sqlite .*/a/app\\.db`),
    )
    expect(refused.stderr).toMatch(/^hint: .*--from-other-database/m)
    expect(await markerOf(a)).toBe('A')
    const refusedJson = await dbops(root, a, ['backup', 'restore', b2.file, '--in-place', '--dir', dir, '--json'])
    expect(refusedJson.code).toBe(2)
    expect(refusedJson.json()).toMatchObject({ error: { code: 'RESTORE_OTHER_DATABASE' } })

    const allowed = await dbops(root, a, ['backup', 'restore', b2.file, '--in-place', '--from-other-database', '--dir', dir])
    expectOk(allowed)
    expect(allowed.stdout).toContain(`(a backup of sqlite ${path.join(root, 'b', 'app.db')})`)
    expect(await markerOf(a)).toBe('B')
    await execSql(a.url, "UPDATE who SET name = 'A'")
  }, 120_000)

  test('under load: rounds of both backed up, pruned and restored at once; each only ever touches its own backups', async () => {
    const loadDir = path.join(root, 'load')
    fs.mkdirSync(loadDir)
    const sourceOf = (twin: Twin) => new RegExp(`^sqlite .*/${twin.label.toLowerCase()}/app\\.db$`)
    await backupPruneRestoreRounds(root, loadDir, [a, b], sourceOf, 3)
  }, 120_000)
})

describe('postgres: two databases of the same name on two clusters, one backup directory', () => {
  let root: string
  let cluster: PgCluster
  const name = `dbops_twin_${Date.now().toString(36)}${process.pid}`
  const twins: Twin[] = []

  beforeAll(async () => {
    root = tempRoot()
    cluster = await startPgCluster()
    for (const [label, adminUrl] of [
      ['A', inject('pgAdminUrl')],
      ['B', cluster.url],
    ] as const) {
      const admin = new pg.Client({ connectionString: adminUrl })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE "${name}"`)
      } finally {
        await admin.end()
      }
      const twin: Twin = { label, url: withUrl(adminUrl, { database: name }) }
      await execSql(twin.url, `${sampleData('postgres', 20)} CREATE TABLE who (name text); INSERT INTO who VALUES ('${label}');`)
      twins.push(twin)
    }
  }, 120_000)
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end())
    await cluster?.stop()
  })

  test('under load: each database restores and prunes only its own backups; 127.0.0.1 and localhost are the same cluster', async () => {
    const [a, b] = twins as [Twin, Twin]
    const dir = path.join(root, 'shared')
    fs.mkdirSync(dir)
    const portOf = (twin: Twin) => new URL(twin.url).port
    const sourceOf = (twin: Twin) => new RegExp(`^postgres 127\\.0\\.0\\.1:${portOf(twin)}/${name} as postgres$`)
    await backupPruneRestoreRounds(root, dir, [a, b], sourceOf, 2)

    // the same cluster reached by another name: the same database, so its backups are found
    const made = (await dbops(root, a, ['backup', 'create', '--dir', dir, '--json'])).json()
    const viaLocalhost: Twin = { label: 'A', url: a.url.replace('@127.0.0.1:', '@localhost:') }
    await execSql(a.url, "UPDATE who SET name = 'changed'")
    const restored = await dbops(root, viaLocalhost, ['backup', 'restore', '--latest', '--in-place', '--dir', dir])
    expectOk(restored)
    expect(restored.stdout).toContain(`restored ${made.file} (a backup of postgres 127.0.0.1:${portOf(a)}/${name} as postgres)`)
    expect(await markerOf(a)).toBe('A')

    const manifests = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    const identities = new Set(manifests.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).source_identity as string))
    expect(identities.size).toBe(2)
    for (const identity of identities) expect(identity).toMatch(new RegExp(`^postgres:\\d+/${name}$`))
  }, 180_000)
})
