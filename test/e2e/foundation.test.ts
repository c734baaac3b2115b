/**
 * The foundation end to end: the built CLI, run as a user would, against real SQLite files
 * and the test PostgreSQL. Checks stdout, stderr, JSON and exit codes, and that no password
 * ever shows.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { makeTempDir, runCli } from '../support/cli.js'
import { createTestDatabase, withUrl } from '../support/postgres.js'
import { freePort, silentListener } from '../support/tcp.js'

const SECRET = 'Hunter2-not-echoed'

function expectNoSecret(result: { stdout: string; stderr: string }, secret: string) {
  expect(result.stdout).not.toContain(secret)
  expect(result.stderr).not.toContain(secret)
  expect(result.stdout).not.toContain(encodeURIComponent(secret))
  expect(result.stderr).not.toContain(encodeURIComponent(secret))
}

/** One error line and one hint line, no stack trace. */
function expectOneLineError(stderr: string, message: RegExp) {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.includes('Warning:'))
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(message)
  expect(lines[1]).toMatch(/^hint: /)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe('basics', () => {
  test('--version prints the version', async () => {
    const result = await runCli(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^dbops\/\d+\.\d+\.\d+ /)
  })

  test('--help lists the commands', async () => {
    const result = await runCli(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('config')
    expect(result.stdout).toContain('wait')
    expect(result.stdout).toContain('init')
  })

  test.each([['--json'], []])('an unknown command exits 2 with a suggestion %s', async (...extra) => {
    const result = await runCli(['cofnig', 'show', ...extra])
    expect(result.code).toBe(2)
    if (extra.length > 0) {
      expect(result.json().error).toMatchObject({ code: 'UNKNOWN_COMMAND', hint: expect.stringContaining('dbops config show') })
    } else {
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain('Did you mean `dbops config show`?')
    }
  })

  test.each([['--json'], []])('an unknown command never echoes a password, from a flag or typed in place %s', async (...extra) => {
    for (const args of [
      ['cofnig', 'show', '--url', `postgres://app:${SECRET}@db/app`],
      ['cofnig', `postgres://app:${SECRET}@db/app`],
    ]) {
      const result = await runCli([...args, ...extra])
      expect(result.code).toBe(2)
      expectNoSecret(result, SECRET)
      if (extra.length > 0) expect(result.json().error.code).toBe('UNKNOWN_COMMAND')
      else expectOneLineError(result.stderr, /is not a dbops command/)
    }
  })

  test.each([['--json'], []])('a URL with a password in a mistyped flag or in --db is never echoed %s', async (...extra) => {
    const url = `postgres://app:${SECRET}@db/app`
    for (const args of [
      ['config', 'show', `--bogus=${url}`],
      ['config', 'show', '--db', url],
    ]) {
      const result = await runCli([...args, ...extra])
      expect(result.code).toBe(2)
      expectNoSecret(result, SECRET)
      if (extra.length === 0) expectOneLineError(result.stderr, /postgres:\/\/app:\*\*\*@db\/app/)
    }
  })

  test.each([['--json'], []])('an unknown flag exits 2 %s', async (...extra) => {
    const result = await runCli(['config', 'show', '--bogus', ...extra])
    expect(result.code).toBe(2)
    if (extra.length > 0)
      expect(result.json()).toEqual({
        error: { code: 'USAGE', message: 'Nonexistent flag: --bogus', hint: 'See `dbops config show --help`.' },
      })
    else expectOneLineError(result.stderr, /Nonexistent flag: --bogus/)
  })
})

describe('config show', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeAll(() => {
    tmp = makeTempDir()
  })
  afterAll(() => tmp.cleanup())

  test('the default target, and no file or directory created', async () => {
    const result = await runCli(['config', 'show', '--json'], { cwd: tmp.dir })
    expect(result.code).toBe(0)
    const report = result.json()
    expect(report.rule).toBe('default: SQLite at ./data/app.db')
    expect(report.target).toMatchObject({ dialect: 'sqlite', path: path.join(fs.realpathSync(tmp.dir), 'data/app.db') })
    expect(fs.existsSync(path.join(tmp.dir, 'data'))).toBe(false)
  })

  test('shows sources and redacts the password everywhere', async () => {
    fs.writeFileSync(path.join(tmp.dir, '.env'), 'POOL_SIZE=8\n')
    const url = `postgresql+asyncpg://app:${encodeURIComponent(SECRET)}@db.example:5433/shop`
    const json = await runCli(['config', 'show', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(json.code).toBe(0)
    const report = json.json()
    expect(report.target).toMatchObject({
      dialect: 'postgres',
      host: 'db.example',
      port: 5433,
      password: '***',
      url: 'postgres://app:***@db.example:5433/shop',
    })
    expect(report.rule).toBe('DATABASE_URL from the environment')
    expect(report.settings).toContainEqual({ key: 'pool.size', value: '8', source: 'dotenv', origin: 'POOL_SIZE (.env)' })
    expectNoSecret(json, SECRET)
    const text = await runCli(['config', 'show'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(text.stdout).toContain('postgres://app:***@db.example:5433/shop')
    expect(text.stdout).toMatch(/pool\.size\s+8\s+POOL_SIZE \(\.env\)/)
    expectNoSecret(text, SECRET)
    fs.rmSync(path.join(tmp.dir, '.env'))
  })

  test.each([
    { name: 'unknown scheme', url: 'mysql://u:p@h/db', message: /DATABASE_URL has an unsupported scheme "mysql:\/\/"/ },
    { name: 'malformed URL', url: 'postgres://[::1/db', message: /DATABASE_URL is not a valid URL/ },
    { name: 'non-numeric port', url: `postgres://app:${SECRET}@h:port/db`, message: /DATABASE_URL: the port is not a number$/ },
    { name: 'unencoded / in the password', url: `postgres://app:${SECRET}/x@h/db`, message: /URL-encoded/ },
    { name: 'unencoded # in the password', url: `postgres://app:${SECRET}#x@h/db`, message: /URL-encoded/ },
  ])('$name: exit 2, one line and a hint, no secret, in text and JSON', async ({ url, message }) => {
    const text = await runCli(['config', 'show'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(text.code).toBe(2)
    expect(text.stdout).toBe('')
    expectOneLineError(text.stderr, message)
    expectNoSecret(text, SECRET)
    const json = await runCli(['config', 'show', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(json.code).toBe(2)
    expect(json.json().error.message).toMatch(message)
    expectNoSecret(json, SECRET)
  })

  test('DATABASE_PASSWORD with no host: exit 2, no secret', async () => {
    const result = await runCli(['config', 'show'], { cwd: tmp.dir, env: { DATABASE_PASSWORD: SECRET } })
    expect(result.code).toBe(2)
    expectOneLineError(result.stderr, /DATABASE_PASSWORD is set but DATABASE_HOST is not/)
    expectNoSecret(result, SECRET)
  })

  test('a syntax error in dbops.config.ts names the file; --verbose adds the stack', async () => {
    const dir = makeTempDir()
    fs.writeFileSync(path.join(dir.dir, 'dbops.config.ts'), "export default {\n  url: 'sqlite:///a.db',,\n}\n")
    const result = await runCli(['config', 'show'], { cwd: dir.dir })
    expect(result.code).toBe(2)
    expectOneLineError(result.stderr, /Could not load dbops\.config\.ts/)
    const verbose = await runCli(['config', 'show', '--verbose'], { cwd: dir.dir })
    expect(verbose.code).toBe(2)
    expect(verbose.stderr).toMatch(/\n\s+at /)
    dir.cleanup()
  })

  test('a wrong type in dbops.config.ts names the file and key', async () => {
    const dir = makeTempDir()
    fs.writeFileSync(path.join(dir.dir, 'dbops.config.ts'), 'export default { connectTimeout: "10s" }\n')
    const result = await runCli(['config', 'show', '--json'], { cwd: dir.dir })
    expect(result.code).toBe(2)
    expect(result.json().error).toMatchObject({
      code: 'CONFIG_FILE_INVALID',
      message: 'dbops.config.ts: connectTimeout must be a number, got string',
    })
    dir.cleanup()
  })

  test('--db naming an entry that does not exist', async () => {
    const dir = makeTempDir()
    fs.writeFileSync(path.join(dir.dir, 'dbops.config.json'), JSON.stringify({ databases: { main: { url: 'sqlite:///m.db' } } }))
    const result = await runCli(['config', 'show', '--db', 'nope'], { cwd: dir.dir })
    expect(result.code).toBe(2)
    expectOneLineError(result.stderr, /--db nope: no database of that name in dbops\.config\.json/)
    dir.cleanup()
  })

  test('CI prints the "which database" banner on stderr, cron (no TTY, no CI) does not', async () => {
    const ci = await runCli(['wait', '--timeout', '5'], { cwd: tmp.dir, env: { CI: 'true', DATABASE_URL: 'sqlite:///banner.db' } })
    expect(ci.stderr).toContain(`→ sqlite ${path.join(fs.realpathSync(tmp.dir), 'banner.db')}`)
    const cron = await runCli(['wait', '--timeout', '5'], { cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///banner.db' } })
    expect(cron.stderr).not.toContain('→')
  })
})

describe('init', () => {
  test('scaffolds, then refuses to overwrite without --force', async () => {
    const dir = makeTempDir()
    const first = await runCli(['init', '--json'], { cwd: dir.dir })
    expect(first.code).toBe(0)
    expect(first.json().files.map((f: { path: string }) => f.path)).toEqual(['dbops.config.ts', 'models.ts', '.env.example', 'migrations/'])
    expect(fs.existsSync(path.join(dir.dir, 'migrations'))).toBe(true)
    fs.writeFileSync(path.join(dir.dir, 'dbops.config.ts'), '// mine\nexport default {}\n')
    const second = await runCli(['init'], { cwd: dir.dir })
    expect(second.code).toBe(2)
    expectOneLineError(second.stderr, /already exist/)
    expect(fs.readFileSync(path.join(dir.dir, 'dbops.config.ts'), 'utf8')).toBe('// mine\nexport default {}\n')
    const forced = await runCli(['init', '--force'], { cwd: dir.dir })
    expect(forced.code).toBe(0)
    expect(fs.readFileSync(path.join(dir.dir, 'dbops.config.ts'), 'utf8')).toContain('defineConfig')
    // the scaffolded config loads
    const show = await runCli(['config', 'show', '--json'], { cwd: dir.dir })
    expect(show.code).toBe(0)
    expect(show.json().rule).toBe('url in dbops.config.ts')
    dir.cleanup()
  })
})

describe('wait', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeAll(() => {
    tmp = makeTempDir()
  })
  afterAll(() => tmp.cleanup())

  test('PostgreSQL: ready, with the server version, in JSON', async () => {
    const db = await createTestDatabase(inject('pgAdminUrl'))
    try {
      const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: db.url } })
      expect(result.code).toBe(0)
      expect(result.json()).toMatchObject({ ready: true, attempts: 1, server_version: expect.stringMatching(/^\d+/) })
    } finally {
      await db.drop()
    }
  })

  test.skipIf(inject('pgSocket') === undefined)(
    "PostgreSQL over a Unix socket, libpq's URL with an empty host: sslmode does not apply there, as in libpq",
    async () => {
      const { dir, port } = inject('pgSocket')!
      for (const sslmode of ['require', 'prefer', 'disable']) {
        const url = `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}&sslmode=${sslmode}`
        const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
        expect({ sslmode, code: result.code, stderr: result.stderr }).toEqual({
          sslmode,
          code: 0,
          stderr: expect.stringMatching(/^ready after/),
        })
        expect(result.json()).toMatchObject({ ready: true, attempts: 1 })
      }
    },
  )

  test('PostgreSQL: a wrong password stops at once with exit 7 and says authentication', async () => {
    const db = await createTestDatabase(inject('pgAdminUrl'))
    try {
      const url = withUrl(db.url, { password: SECRET })
      const started = Date.now()
      const result = await runCli(['wait', '--timeout', '30'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
      expect(result.code).toBe(7)
      expect(Date.now() - started).toBeLessThan(15_000)
      expectOneLineError(result.stderr, /Authentication failed for user "\w+" at 127\.0\.0\.1:\d+/)
      expectNoSecret(result, SECRET)
      const json = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
      expect(json.code).toBe(7)
      expect(json.json().error.code).toBe('AUTH_FAILED')
      expectNoSecret(json, SECRET)
    } finally {
      await db.drop()
    }
  })

  test('PostgreSQL: a missing database is exit 7 and names it', async () => {
    const url = withUrl(inject('pgAdminUrl'), { database: 'no_such_db_here' })
    const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(result.code).toBe(7)
    expect(result.json().error).toMatchObject({
      code: 'DB_NOT_FOUND',
      message: expect.stringContaining('"no_such_db_here" does not exist'),
    })
  })

  test('nothing listening: retried, then exit 4 when --timeout runs out', async () => {
    const port = await freePort()
    const started = Date.now()
    const result = await runCli(['wait', '--timeout', '2', '--json'], {
      cwd: tmp.dir,
      env: { DATABASE_URL: `postgres://app:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/app` },
    })
    expect(result.code).toBe(4)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(result.json().error).toMatchObject({
      code: 'DB_UNREACHABLE',
      message: expect.stringMatching(/Gave up after 2s and \d+ attempts: Connection refused at 127\.0\.0\.1:\d+/),
    })
    expectNoSecret(result, SECRET)
  })

  test('a listener that never answers: exit 4 within the connect deadline', async () => {
    const listener = await silentListener()
    try {
      const started = Date.now()
      const result = await runCli(['wait', '--timeout', '1'], {
        cwd: tmp.dir,
        env: { DATABASE_URL: `postgres://app:pw@127.0.0.1:${listener.port}/app`, DATABASE_CONNECT_TIMEOUT: '2' },
      })
      expect(result.code).toBe(4)
      expect(Date.now() - started).toBeLessThan(15_000)
      expectOneLineError(result.stderr, /Timed out after \d+\.\ds connecting to 127\.0\.0\.1:\d+/)
    } finally {
      await listener.close()
    }
  })

  test.each([
    { signal: 'SIGINT' as const, code: 130 },
    { signal: 'SIGTERM' as const, code: 143 },
  ])('$signal while waiting: exit $code, one line, JSON error under --json', async ({ signal, code }) => {
    // a server that never answers: the signal is sent once dbops is connecting, however slow its start
    const listener = await silentListener()
    let signalledAt = Date.now()
    try {
      const result = await runCli(['wait', '--timeout', '60', '--json'], {
        cwd: tmp.dir,
        // the connect attempt alone would hang for 30 s: the signal must end it at once
        env: { DATABASE_URL: `postgres://app:pw@127.0.0.1:${listener.port}/app`, DATABASE_CONNECT_TIMEOUT: '30' },
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (listener.connections() === 0) return
            clearInterval(poll)
            signalledAt = Date.now()
            child.kill(signal)
          }, 20)
          child.once('exit', () => clearInterval(poll))
        },
      })
      expect(listener.connections()).toBeGreaterThan(0)
      expect(Date.now() - signalledAt).toBeLessThan(10_000)
      expect(result.code).toBe(code)
      expect(result.json()).toEqual({ error: { code: 'INTERRUPTED', message: `Interrupted by ${signal}`, hint: null } })
    } finally {
      await listener.close()
    }
  })

  test('SQLite: a missing file is exit 7 and is not created, nor its directory', async () => {
    const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///missing-dir/app.db' } })
    expect(result.code).toBe(7)
    expect(result.json().error).toMatchObject({ code: 'DB_FILE_MISSING' })
    expect(fs.existsSync(path.join(tmp.dir, 'missing-dir'))).toBe(false)
  })

  test('SQLite: an existing file is ready', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'empty.db'), '')
    const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///empty.db' } })
    expect(result.code).toBe(0)
    expect(result.json()).toMatchObject({ ready: true })
  })

  test('SQLite: a file that is not a database is exit 6 (integrity), named', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'garbage.db'), 'this is not a sqlite file, just text '.repeat(200))
    const result = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///garbage.db' } })
    expect(result.code).toBe(6)
    expect(result.json().error).toMatchObject({ code: 'DB_CORRUPT', message: expect.stringContaining('garbage.db') })
  })
})
