/**
 * What a hostile environment did to the backup commands, through the built CLI: a restored
 * SQLite file's mode, a manifest with a garbage time, a read-only working directory, an
 * in-place PostgreSQL restore behind an open transaction or over tables the backup does not
 * hold, and what reaches `pg_dump`'s environment.
 */
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { execSql, fingerprintTables, querySql, sampleData, sqlitePathOf } from '../support/backup-fixtures.js'
import { type CliResult, expectOneLineError, runCli } from '../support/cli.js'
import { type TestDatabase, perTestCleanup, testDialects } from '../support/dialects.js'

const { defer, fresh } = perTestCleanup()
const sqlite = testDialects().find((d) => d.name === 'sqlite')!
const postgres = testDialects().find((d) => d.name === 'postgres')!

function dbops(db: TestDatabase, args: string[], extra: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  return runCli(['backup', ...args], {
    cwd: db.dir,
    timeoutMs: 60_000,
    ...extra,
    env: { DATABASE_URL: db.url, NO_COLOR: '1', ...extra.env },
  })
}

/** A session that holds a transaction open on the database, named so the error can name it. */
async function openTransaction(db: TestDatabase, application: string, statement: string): Promise<{ pid: number; end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url, application_name: application })
  await client.connect()
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  await client.query('BEGIN')
  await client.query(statement)
  let ended = false
  const end = async () => {
    if (ended) return
    ended = true
    await client.query('ROLLBACK').catch(() => undefined)
    await client.end()
  }
  defer(end)
  return { pid, end }
}

describe('sqlite: files', () => {
  test('a restored database keeps the source file mode (0600), in a new file and a --target-url one', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 10))
    const file = sqlitePathOf(db.url)!
    fs.chmodSync(file, 0o600)
    const created = (await dbops(db, ['create', '--json'])).json()

    const restored = await dbops(db, ['restore', created.file, '--json'])
    expect(restored.code, restored.stderr).toBe(0)
    const restoredFile = sqlitePathOf(restored.json().target_url)!
    expect(fs.statSync(restoredFile).mode & 0o777).toBe(0o600)

    const elsewhere = path.join(db.dir, 'copies', 'copy.db')
    expect(await dbops(db, ['restore', created.file, '--target-url', `sqlite:///${elsewhere}`])).toMatchObject({ code: 0 })
    expect(fs.statSync(elsewhere).mode & 0o777).toBe(0o600)
  })

  test('a manifest whose created_at is garbage: list and prune report that backup as invalid and go on; create --keep-last too', async () => {
    const db = await fresh(sqlite)
    await execSql(db.url, sampleData('sqlite', 10))
    const first = (await dbops(db, ['create', '--json'])).json()
    const second = (await dbops(db, ['create', '--json'])).json()
    const manifestFile = `${first.path}.json`
    fs.writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestFile, 'utf8')), created_at: 'garbage' }))

    const list = await dbops(db, ['list', '--json'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.json().backups.find((b: { file: string }) => b.file === first.file)).toMatchObject({
      status: expect.stringMatching(/^manifest invalid: "created_at" is not a time/),
      verification_level: 'none',
    })
    const table = await dbops(db, ['list'])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(new RegExp(`${first.file.replaceAll('.', '\\.')} .*manifest invalid`))

    const prune = await dbops(db, ['prune', '--keep-last', '1', '--json'])
    expect(prune.code, prune.stderr).toBe(0)
    expect(prune.json()).toMatchObject({
      deleted: [],
      kept: [{ file: second.file }],
      skipped: [{ file: first.file, reason: expect.stringMatching(/manifest invalid/) }],
    })
    const pruneText = await dbops(db, ['prune', '--keep-last', '1'])
    expect(pruneText.code).toBe(0)
    expect(pruneText.stderr).toMatch(new RegExp(`^warning: .*${first.file.replaceAll('.', '\\.')}.*manifest invalid`, 'm'))

    const create = await dbops(db, ['create', '--keep-last', '1', '--json'])
    expect(create.code, create.stderr).toBe(0)
    expect(create.json().retention).toMatchObject({ deleted: [{ file: second.file }], skipped: [{ file: first.file }] })
    expect(fs.existsSync(first.path)).toBe(true)
  })

  test.each([[[]], [['--json']]])(
    'backup create in a read-only working directory: exit 1, one line naming the directory %s',
    async (extra) => {
      const db = await fresh(sqlite)
      const data = path.join(db.dir, 'data')
      fs.mkdirSync(data)
      const file = path.join(data, 'app.db')
      await execSql(`sqlite:///${file}`, sampleData('sqlite', 5))
      for (const f of [data, ...fs.readdirSync(data).map((n) => path.join(data, n))]) fs.chownSync(f, 65534, 65534)
      fs.chmodSync(db.dir, 0o755)
      const readOnly = path.join(db.dir, 'project')
      fs.mkdirSync(readOnly, { mode: 0o755 }) // root's: the user may read it, not write it
      const result = await dbops(db, ['create', ...extra], {
        cwd: readOnly,
        uid: 65534,
        gid: 65534,
        env: { DATABASE_URL: `sqlite:///${file}`, HOME: data },
      })
      expect(result.code, result.stderr).toBe(1)
      if (extra.length > 0) {
        expect(result.json().error).toMatchObject({
          code: 'BACKUP_DIR_NOT_WRITABLE',
          message: expect.stringContaining(path.join(readOnly, 'backups')),
        })
      } else {
        expectOneLineError(result, new RegExp(`Cannot create the backup directory ${path.join(readOnly, 'backups')}: permission denied`))
      }
      expect(fs.readdirSync(readOnly)).toEqual([])
    },
  )
})

describe('postgres: in-place restore', () => {
  test('behind an open transaction on a table: exit 5 after --lock-timeout, naming the session that holds the lock; nothing changed', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 30))
    const created = (await dbops(db, ['create', '--json'])).json()
    await execSql(db.url, "INSERT INTO users (id, name) VALUES (9999, 'after the backup')")
    const before = await fingerprintTables(db.url)
    const blocker = await openTransaction(db, 'blocker-app', 'SELECT count(*) FROM users')

    const started = Date.now()
    const json = await dbops(db, ['restore', created.file, '--in-place', '--lock-timeout', '1', '--json'], { timeoutMs: 30_000 })
    expect(json.code, json.stderr).toBe(5)
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(json.json().error).toMatchObject({
      code: 'LOCK_TIMEOUT',
      message: expect.stringMatching(new RegExp(`lock on public\\.\\w+ .*server pid ${blocker.pid} \\(blocker-app, .*idle in transaction`)),
      hint: expect.stringMatching(/rolled back.*pg_terminate_backend/),
    })
    const text = await dbops(db, ['restore', created.file, '--in-place', '--lock-timeout', '1'], { timeoutMs: 30_000 })
    expect(text.code).toBe(5)
    expectOneLineError(text, new RegExp(`server pid ${blocker.pid}`))

    await blocker.end()
    expect(await fingerprintTables(db.url)).toEqual(before)
  }, 120_000)

  test('tables that are not in the backup are named, not silently left behind', async () => {
    const db = await fresh(postgres)
    await execSql(db.url, sampleData('postgres', 10))
    const created = (await dbops(db, ['create', '--json'])).json()
    await execSql(db.url, 'CREATE TABLE extra (id integer); CREATE TABLE "odd name" (id integer)')

    const json = await dbops(db, ['restore', created.file, '--in-place', '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect(json.json()).toMatchObject({ replaced: true, tables_not_in_backup: ['public.extra', 'public."odd name"'] })
    const text = await dbops(db, ['restore', created.file, '--in-place'])
    expect(text.code).toBe(0)
    expect(text.stdout).not.toMatch(/replacing its contents/)
    expect(text.stdout).toMatch(/2 tables not in the backup were left as they were: public\.extra, public\."odd name"/)
    expect(await querySql(db.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 10 }])
  })
})

describe('postgres: what the child processes get', () => {
  /** `name=value` pairs of a live process's environment, as the kernel holds them. */
  function environOf(pid: number): Record<string, string> {
    const raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8')
    return Object.fromEntries(
      raw
        .split('\0')
        .filter((e) => e !== '')
        .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    )
  }

  /** The pid of `parent`'s child process whose command line mentions `tool` and `arg`, once it runs. */
  async function childRunning(parent: number, tool: string, arg: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
        try {
          const ppid = Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
          const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          if (ppid === parent && cmdline.includes(tool) && cmdline.includes(arg)) return Number(entry)
        } catch {
          // gone meanwhile
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`no ${tool} child of ${parent} within ${timeoutMs} ms`)
  }

  test.skipIf(process.platform !== 'linux')(
    "pg_dump's real environment: no DATABASE_URL, no password, none of dbops' other variables; only what it needs",
    async () => {
      const db = await fresh(postgres)
      await execSql(db.url, sampleData('postgres', 10))
      const password = decodeURIComponent(new URL(db.url).password)
      // an exclusive lock makes pg_dump wait, so its environment can be read while it runs
      const blocker = await openTransaction(db, 'hold-users', 'LOCK TABLE users IN ACCESS EXCLUSIVE MODE')
      let environ: Record<string, string> | undefined
      let failure: unknown
      const result = await dbops(db, ['create', '--json'], {
        env: { DBOPS_TEST_CANARY: 'canary-value', DATABASE_PASSWORD: 'another-secret', LC_ALL: 'de_DE.UTF-8' },
        onSpawn: (child) => {
          // the dump itself, not the `pg_dump --version` probe before it
          childRunning(child.pid!, 'pg_dump', '--snapshot', 20_000)
            .then((pid) => (environ = environOf(pid)))
            .catch((err: unknown) => (failure = err))
            .finally(() => void blocker.end())
        },
      })
      expect(failure).toBeUndefined()
      expect(result.code, result.stderr).toBe(0)
      expect(environ).toBeDefined()
      const names = Object.keys(environ!).sort()
      const allowed =
        /^(PATH|HOME|LANG|LC_MESSAGES|TMPDIR|TZ|PG(HOST|PORT|USER|DATABASE|SSLMODE|SSLROOTCERT|SSLCERT|SSLKEY|APPNAME|CONNECT_TIMEOUT|PASSFILE|OPTIONS))$/
      expect(names.filter((n) => !allowed.test(n))).toEqual([])
      expect(names).toEqual(expect.arrayContaining(['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE']))
      expect(Object.values(environ!).join('\n')).not.toContain(password)
      expect(environ!.LC_ALL).toBeUndefined() // it would override LC_MESSAGES=C, and the errors could not be read
    },
  )
})
