/**
 * Hostile configuration through the built CLI: empty variables and broken `.env` lines that
 * must not fall back to the default database, passwords that break the URL, malformed
 * %-escapes, IPv6 hosts, a missing root certificate, a service on the port that is not
 * PostgreSQL, `init` where it cannot write, and a password that equals other words.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { type CliResult, expectOneLineError, makeTempDir, runCli } from '../support/cli.js'
import { createTestDatabase, withUrl } from '../support/postgres.js'
import { greetingListener, hasIpv6Loopback, httpListener, type Listener, tcpRelay } from '../support/tcp.js'

/** One error line and one hint line on stderr, nothing on stdout, no stack, no "report a bug". */
function expectOneLineErrorWithCode(result: CliResult, code: number, message: RegExp): void {
  expect(result.code).toBe(code)
  expectOneLineError(result, message)
}

/** The JSON error document, and the exit code with it. */
function expectJsonError(result: CliResult, code: number, errorCode: string, message: RegExp): void {
  expect(result.code).toBe(code)
  expect(result.json().error).toMatchObject({ code: errorCode, message: expect.stringMatching(message) })
}

/** The relay test needs ::1; the shared test server listens on 127.0.0.1 only. */
const ipv6 = await hasIpv6Loopback()

let tmp: ReturnType<typeof makeTempDir>
beforeAll(() => {
  tmp = makeTempDir()
  fs.mkdirSync(path.join(tmp.dir, 'migrations'))
  fs.writeFileSync(path.join(tmp.dir, 'migrations', '20250101000000_t.sql'), '-- migrate:up\nCREATE TABLE t (id integer);\n')
})
afterAll(() => tmp.cleanup())

/** Nothing fell back to the default database: no ./data, no app.db. */
function expectNothingCreated(): void {
  expect(fs.readdirSync(tmp.dir).sort()).toEqual(['migrations'])
}

describe('set but empty, and a broken .env: exit 2, never the default database', () => {
  test.each([['--json'], []])('DATABASE_URL set but empty: migrate up refuses %s', async (...extra) => {
    const result = await runCli(['migrate', 'up', ...extra], { cwd: tmp.dir, env: { DATABASE_URL: '' } })
    if (extra.length > 0) expectJsonError(result, 2, 'CONFIG_EMPTY', /^DATABASE_URL is set but empty$/)
    else expectOneLineErrorWithCode(result, 2, /DATABASE_URL is set but empty/)
    expectNothingCreated()
  })

  test('DATABASE_URL_<NAME> set but empty with --db NAME', async () => {
    const config = path.join(tmp.dir, '..', `${path.basename(tmp.dir)}-config.json`)
    fs.writeFileSync(config, JSON.stringify({ databases: { prod: { url: 'sqlite:///prod.db' } } }))
    try {
      const result = await runCli(['migrate', 'up', '--db', 'prod', '--config', config], { cwd: tmp.dir, env: { DATABASE_URL_PROD: '' } })
      expectOneLineErrorWithCode(result, 2, /DATABASE_URL_PROD is set but empty/)
    } finally {
      fs.rmSync(config)
    }
    expectNothingCreated()
  })

  test.each([['--json'], []])('a .env line without "=": the file and line, exit 2 %s', async (...extra) => {
    const dotenv = path.join(tmp.dir, '.env')
    fs.writeFileSync(dotenv, '# production\nDATABASE_URL\npostgres://app:Leaky-Pw9@db/app\n')
    try {
      const result = await runCli(['migrate', 'up', ...extra], { cwd: tmp.dir })
      const where = `${fs.realpathSync(dotenv).replaceAll('.', '\\.')}:2: expected NAME=value$`
      if (extra.length > 0) expectJsonError(result, 2, 'CONFIG_DOTENV', new RegExp(`^${where}`))
      else expectOneLineErrorWithCode(result, 2, new RegExp(`^error: ${where}`))
      expect(result.stdout + result.stderr).not.toContain('Leaky-Pw9')
    } finally {
      fs.rmSync(dotenv)
    }
    expectNothingCreated()
  })
})

describe('URLs that would leak the password or crash the parser: exit 2, named, nothing echoed', () => {
  test.each([
    { name: 'a password with no @host', url: 'postgres://app:hunter2secret/shop', secret: 'hunter2secret' },
    { name: 'an unencoded p@ss:w/rd#1', url: 'postgres://app:p@ss:w/rd#1@db.example/shop', secret: 'p@ss:w/rd#1' },
  ])('$name', async ({ url, secret }) => {
    for (const args of [
      ['config', 'show'],
      ['migrate', 'status'],
      ['config', 'show', '--json'],
    ]) {
      const result = await runCli(args, { cwd: tmp.dir, env: { DATABASE_URL: url } })
      const output = result.stdout + result.stderr
      if (args.includes('--json')) {
        expect(result.code).toBe(2)
        expect(result.json().error.hint).toContain('URL-encode the password')
      } else {
        expectOneLineErrorWithCode(result, 2, /^error: DATABASE_URL/)
        expect(result.stderr).toContain('URL-encode the password')
      }
      for (const fragment of [secret, 'hunter', 'secret', '"w"', 'rd#1', 'ss:w']) expect(output).not.toContain(fragment)
    }
  })

  test.each([
    { url: 'sqlite:///data/app%E0.db', part: 'the path' },
    { url: 'postgres://app:Pw9-secret@ho%zzst/db', part: 'the host' },
    { url: 'postgres://app:Pw9-secret@db/shop?sslrootcert=%zz', part: 'the query parameter sslrootcert' },
  ])('a malformed %-escape in $part: exit 2 naming it', async ({ url, part }) => {
    const result = await runCli(['migrate', 'up'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expectOneLineErrorWithCode(result, 2, new RegExp(`^error: DATABASE_URL: ${part} has a malformed %-escape$`))
    expect(result.stderr).not.toContain('Pw9-secret')
    const json = await runCli(['migrate', 'up', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expectJsonError(json, 2, 'CONFIG_URL', /malformed %-escape/)
    expectNothingCreated()
  })
})

describe('config show: a password equal to the user, the database and the scheme', () => {
  test('only the password field is redacted', async () => {
    const env = { DATABASE_URL: 'postgres://postgres:postgres@db.example:5432/postgres' }
    const json = await runCli(['config', 'show', '--json'], { cwd: tmp.dir, env })
    expect(json.code).toBe(0)
    expect(json.json().target).toMatchObject({
      url: 'postgres://postgres:***@db.example:5432/postgres',
      user: 'postgres',
      database: 'postgres',
      password: '***',
    })
    const text = await runCli(['config', 'show'], { cwd: tmp.dir, env })
    expect(text.stdout).toContain('postgres://postgres:***@db.example:5432/postgres')
    expect(text.stdout).toContain('postgres postgres@db.example:5432/postgres')
  })
})

describe('PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    db = await createTestDatabase(inject('pgAdminUrl'), 'dbops_cfg')
  })
  afterAll(() => db.drop())

  test('a missing sslrootcert is exit 2 in every command, health included', async () => {
    const url = `${db.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent('/nonexistent/ca.pem')}`
    for (const args of [['health'], ['wait'], ['migrate', 'status'], ['pool'], ['backup', 'create'], ['inspect', 'tables']]) {
      const json = await runCli([...args, '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
      const outcome = args.includes('health')
        ? { code: json.code, error: json.json().components[0].details.error_code }
        : { code: json.code, error: json.json().error.code }
      expect({ args, ...outcome }).toEqual({ args, code: 2, error: 'CONFIG_TLS_FILE' })
    }
    const text = await runCli(['health'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
    expect(text.code).toBe(2)
    expect(text.stderr).toMatch(/^error: Cannot read the TLS root certificate \(sslrootcert\) \/nonexistent\/ca\.pem/m)
  })

  describe.each([
    { name: 'an SSH server', start: () => greetingListener('SSH-2.0-OpenSSH_9.6\r\n'), said: /\(it sent "SSH-2\.0-OpenSSH_9\.6"\)/ },
    { name: 'an HTTP server', start: () => httpListener(), said: /\(it sent "HTTP\/1\.1 400 Bad Request"\)/ },
    { name: 'a service that hangs up at once', start: () => greetingListener(undefined), said: /closed the connection/ },
  ])('$name on the port: says what answered, exit 4', ({ start, said }) => {
    let listener: Listener
    beforeAll(async () => {
      listener = await start()
    })
    afterAll(() => listener.close())

    test.each(['prefer', 'require', 'disable'])('sslmode=%s', async (sslmode) => {
      const url = `postgres://app:Pw9-secret@127.0.0.1:${listener.port}/shop?sslmode=${sslmode}`
      const env = { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT: '1' }
      const health = await runCli(['health', '--json'], { cwd: tmp.dir, env })
      expect(health.code).toBe(4)
      expect(health.json().components[0].details.error).toMatch(said)
      if (sslmode !== 'prefer') return
      const text = await runCli(['migrate', 'status'], { cwd: tmp.dir, env })
      expectOneLineErrorWithCode(text, 4, new RegExp(`^error: The server at 127\\.0\\.0\\.1:${listener.port} `))
      expect(text.stderr).toMatch(said)
      expect(text.stderr).not.toContain('Pw9-secret')
    })
  })

  describe.runIf(ipv6)('IPv6: the test server through a relay on [::1]', () => {
    let relay: Listener
    let url: string
    beforeAll(async () => {
      const admin = new URL(inject('pgAdminUrl'))
      relay = await tcpRelay('::1', admin.hostname, Number(admin.port))
      url = withUrl(db.url, { port: relay.port }).replace(`@${admin.hostname}:`, '@[::1]:')
    })
    afterAll(() => relay.close())

    test('config show prints [::1] once; wait and pg_dump connect over ::1', async () => {
      expect(url).toContain('@[::1]:')
      const show = await runCli(['config', 'show', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url } })
      expect(show.json().target).toMatchObject({ host: '::1', url: expect.stringContaining(`@[::1]:${relay.port}/`) })
      const wait = await runCli(['wait', '--json'], { cwd: tmp.dir, env: { DATABASE_URL: url, CI: 'true' } })
      expect(wait.code).toBe(0)
      expect(wait.stderr).toContain(`→ postgres [::1]:${relay.port}/${db.name}`)
      const before = relay.connections()
      const backups = makeTempDir('dbops-backups-')
      try {
        const backup = await runCli(['backup', 'create', '--json', '--dir', backups.dir], { cwd: tmp.dir, env: { DATABASE_URL: url } })
        expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: '' })
        expect(backup.json()).toMatchObject({ database: db.name, verification_level: 'read' })
      } finally {
        backups.cleanup()
      }
      // dbops' own connection and pg_dump's (pg_dump reaches this port only through ::1)
      expect(relay.connections()).toBeGreaterThan(before + 1)
    })
  })
})

describe('init where it cannot write', () => {
  test.each([['--json'], []])('a read-only directory: one line naming it, exit 1, nothing written %s', async (...extra) => {
    const parent = makeTempDir()
    try {
      fs.chmodSync(parent.dir, 0o755)
      const readOnly = path.join(parent.dir, 'ro')
      fs.mkdirSync(readOnly, { mode: 0o555 })
      fs.chmodSync(readOnly, 0o555)
      // root ignores permission bits: run as an unprivileged user then
      const asRoot = process.getuid?.() === 0
      const result = await runCli(['init', ...extra], { cwd: readOnly, uid: asRoot ? 65534 : undefined, gid: asRoot ? 65534 : undefined })
      const message = new RegExp(`^Cannot write dbops\\.config\\.ts in ${readOnly}: permission denied`)
      if (extra.length > 0) expectJsonError(result, 1, 'INIT_WRITE_FAILED', message)
      else expectOneLineErrorWithCode(result, 1, new RegExp(`^error: ${message.source.slice(1)}`))
      expect(fs.readdirSync(readOnly)).toEqual([])
    } finally {
      parent.cleanup()
    }
  })
})
