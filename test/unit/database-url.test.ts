import { describe, expect, test } from 'vitest'
import { normaliseDatabaseUrl, parseDatabaseUrl, formatTargetUrl } from '../../src/config/database-url.js'
import { redactUrl } from '../../src/config/redact.js'
import { ConfigError } from '../../src/errors.js'

const ctx = { key: 'DATABASE_URL', cwd: '/srv/app', defaultUser: 'osuser' }

describe('normaliseDatabaseUrl', () => {
  test.each([
    { name: 'asyncpg suffix', input: 'postgresql+asyncpg://u:p@h/app', expected: 'postgres://u:p@h/app' },
    { name: 'psycopg2 suffix', input: 'postgresql+psycopg2://u:p@h/app', expected: 'postgres://u:p@h/app' },
    { name: 'postgresql scheme', input: 'postgresql://u@h/app', expected: 'postgres://u@h/app' },
    { name: 'postgres scheme', input: 'postgres://u@h/app', expected: 'postgres://u@h/app' },
    { name: 'aiosqlite suffix', input: 'sqlite+aiosqlite:///data/app.db', expected: 'sqlite:///data/app.db' },
    { name: 'memory', input: ':memory:', expected: ':memory:' },
    { name: 'surrounding spaces', input: '  postgres://h/app  ', expected: 'postgres://h/app' },
  ])('$name', ({ input, expected }) => expect(normaliseDatabaseUrl(input)).toBe(expected))

  test.each([
    { name: 'unknown scheme', input: 'mysql://u:p@h/app', message: /unsupported scheme "mysql:\/\/"/ },
    { name: 'unknown driver', input: 'postgresql+odbc://u@h/app', message: /unsupported scheme "postgresql\+odbc:\/\/"/ },
    { name: 'not a url', input: 'localhost:5432', message: /is not a URL/ },
  ])('rejects $name', ({ input, message }) => {
    expect(() => normaliseDatabaseUrl(input)).toThrow(message)
    expect(() => normaliseDatabaseUrl(input)).toThrow(ConfigError)
  })
})

describe('parseDatabaseUrl', () => {
  test.each([
    { name: 'relative sqlite', input: 'sqlite:///data/app.db', expected: { dialect: 'sqlite', path: '/srv/app/data/app.db' } },
    { name: 'absolute sqlite', input: 'sqlite:////var/lib/app.db', expected: { dialect: 'sqlite', path: '/var/lib/app.db' } },
    { name: 'sqlite memory url', input: 'sqlite://', expected: { dialect: 'sqlite', path: ':memory:' } },
    { name: "dbmate's relative sqlite", input: 'sqlite:db/app.sqlite3', expected: { dialect: 'sqlite', path: '/srv/app/db/app.sqlite3' } },
    { name: "dbmate's absolute sqlite", input: 'sqlite:/var/lib/app.db', expected: { dialect: 'sqlite', path: '/var/lib/app.db' } },
    { name: 'sqlite :memory: path', input: 'sqlite:///:memory:', expected: { dialect: 'sqlite', path: ':memory:' } },
    { name: 'bare :memory:', input: ':memory:', expected: { dialect: 'sqlite', path: ':memory:' } },
    { name: 'aiosqlite relative', input: 'sqlite+aiosqlite:///app.db', expected: { dialect: 'sqlite', path: '/srv/app/app.db' } },
  ])('$name', ({ input, expected }) => expect(parseDatabaseUrl(input, ctx)).toEqual(expected))

  test('postgres with every part', () => {
    expect(parseDatabaseUrl('postgresql+asyncpg://app:secret@db.internal:6432/shop?sslmode=verify-full&sslrootcert=/ca.pem', ctx)).toEqual({
      dialect: 'postgres',
      host: 'db.internal',
      port: 6432,
      database: 'shop',
      user: 'app',
      password: 'secret',
      tls: { mode: 'verify-full', rootCert: '/ca.pem' },
    })
  })

  test('postgres defaults follow libpq: port 5432, OS user, database = user, sslmode prefer', () => {
    expect(parseDatabaseUrl('postgres://db', ctx)).toEqual({
      dialect: 'postgres',
      host: 'db',
      port: 5432,
      database: 'osuser',
      user: 'osuser',
      password: undefined,
      tls: { mode: 'prefer' },
    })
  })

  test('a unix-socket host from ?host=', () => {
    const target = parseDatabaseUrl('postgres:///app?host=/var/run/postgresql', ctx)
    expect(target).toMatchObject({ host: '/var/run/postgresql', database: 'app' })
  })

  test.each([
    {
      input: 'postgresql://app@/shop?host=/var/run/postgresql',
      expected: { host: '/var/run/postgresql', port: 5432, user: 'app', database: 'shop' },
    },
    { input: 'postgres://app:s3cret@:6432/shop?host=/tmp', expected: { host: '/tmp', port: 6432, user: 'app', password: 's3cret' } },
    { input: 'postgres://app@/shop', expected: { host: 'localhost', user: 'app', database: 'shop' } },
  ])("libpq's empty host after the user: $input", ({ input, expected }) => {
    expect(parseDatabaseUrl(input, ctx)).toMatchObject(expected)
  })

  test.each([
    { name: '@', password: 'p@ss', encoded: 'p%40ss' },
    { name: ':', password: 'p:ss', encoded: 'p%3Ass' },
    { name: '/', password: 'p/ss', encoded: 'p%2Fss' },
    { name: '#', password: 'p#ss', encoded: 'p%23ss' },
    { name: 'space and %', password: 'a b%c', encoded: 'a%20b%25c' },
  ])('URL-encoded $name in the password works', ({ password, encoded }) => {
    expect(parseDatabaseUrl(`postgres://app:${encoded}@h/db`, ctx)).toMatchObject({ password, host: 'h', database: 'db' })
  })

  test('an unencoded @ in the password still parses (the last @ separates)', () => {
    expect(parseDatabaseUrl('postgres://app:p@ss@h/db', ctx)).toMatchObject({ password: 'p@ss', host: 'h' })
  })

  test('an @ inside a query parameter is not mistaken for a password', () => {
    expect(parseDatabaseUrl('postgres://h/db?user=a@b', ctx)).toMatchObject({ user: 'a@b', host: 'h' })
  })

  test.each([
    { name: 'unencoded / in the password', input: 'postgres://app:pa/ss@h/db', message: /must be URL-encoded/ },
    { name: 'unencoded # in the password', input: 'postgres://app:pa#ss@h/db', message: /must be URL-encoded/ },
    { name: 'non-numeric port', input: 'postgres://app:pw@h:fivefour/db', message: /port "fivefour" is not a number/ },
    { name: 'port out of range', input: 'postgres://app@h:70000/db', message: /port|not a valid URL/ },
    { name: 'bad sslmode', input: 'postgres://h/db?sslmode=always', message: /sslmode\) must be one of/ },
    { name: 'relative sqlite with two slashes', input: 'sqlite://data/app.db', message: /three slashes/ },
    { name: 'malformed escape', input: 'postgres://app:%zz@h/db', message: /not a valid URL|malformed/ },
  ])('rejects $name without echoing the URL', ({ input, message }) => {
    let error: unknown
    try {
      parseDatabaseUrl(input, ctx)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(message)
    expect((error as ConfigError).message).toMatch(/^DATABASE_URL/)
    expect((error as ConfigError).exitCode).toBe(2)
    expect((error as ConfigError).message).not.toContain('ss@h')
  })
})

describe('formatting and redaction', () => {
  test.each([
    { input: 'postgres://app:s3cret@db:5432/app', expected: 'postgres://app:***@db:5432/app' },
    { input: 'postgres://app@db/app', expected: 'postgres://app@db/app' },
    { input: 'postgres://app:pa/ss@db/app', expected: 'postgres://app:***@db/app' },
    { input: 'sqlite:///data/app.db', expected: 'sqlite:///data/app.db' },
  ])('redactUrl($input)', ({ input, expected }) => expect(redactUrl(input)).toBe(expected))

  test('formatTargetUrl hides the password unless asked', () => {
    const target = parseDatabaseUrl('postgres://app:p%2Fw@db:5433/shop', ctx)
    expect(formatTargetUrl(target)).toBe('postgres://app:***@db:5433/shop')
    expect(formatTargetUrl(target, true)).toBe('postgres://app:p%2Fw@db:5433/shop')
  })
})
