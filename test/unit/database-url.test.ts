import { describe, expect, test } from 'vitest'
import { describeTarget, normaliseDatabaseUrl, parseDatabaseUrl, formatTargetUrl } from '../../src/config/database-url.js'
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
    { name: 'unencoded ? in a digit password', input: 'postgres://app:12?3=ss@h/db', message: /must be URL-encoded/ },
    { name: 'non-numeric port', input: 'postgres://app:pw@h:fivefour/db', message: /the port is not a number/ },
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

/** Every substring of `secret` of `min` characters or more that `text` contains. */
function leakedFragments(text: string, secret: string, min = 3): string[] {
  const found: string[] = []
  for (let start = 0; start + min <= secret.length; start++) {
    const fragment = secret.slice(start, start + min)
    if (text.includes(fragment)) found.push(fragment)
  }
  return found
}

/**
 * Passwords of many shapes: each character a URL gives a meaning to, alone and in pairs, at
 * the start, middle and end, between fragments no message would contain by chance.
 */
function passwordShapes(): string[] {
  const specials = [
    '@',
    '/',
    '#',
    ':',
    '?',
    '%',
    ' ',
    '[',
    ']',
    '&',
    '=',
    '\\',
    '"',
    "'",
    '+',
    ';',
    ',',
    '$',
    '^',
    '`',
    '{',
    '|',
    '<',
    '~',
    '*',
    '!',
  ]
  const shapes = new Set<string>(['hunter2secret', 'p@ss:w/rd#1', 'Qx7@', 'Qx7/', 'Qx7#', 'Qx7?', 'Qx7@/Zk9', 'Qx7/@Zk9', 'Qx7?a=Zk9@'])
  for (const a of specials) {
    shapes.add(`Qx7${a}Zk9w`)
    shapes.add(`Qx7Zk9w${a}`)
    for (const b of ['@', '/', '#', ':', '?']) shapes.add(`Qx7${a}Zk9${b}Vb4`)
  }
  return [...shapes]
}

describe('a password is never echoed, however it is written', () => {
  const forms = [
    { name: 'host and port', url: (pw: string) => `postgres://app:${pw}@db.example:5432/shop`, host: 'db.example', only: () => true },
    { name: 'query', url: (pw: string) => `postgres://app:${pw}@db.example/shop?sslmode=require`, host: 'db.example', only: () => true },
    { name: 'IPv6 host', url: (pw: string) => `postgresql+asyncpg://app:${pw}@[::1]:5432/shop`, host: '::1', only: () => true },
    // with an '@' in the password this form has an @host again: a valid URL, whatever it was meant to say
    { name: 'no @host', url: (pw: string) => `postgres://app:${pw}/shop`, host: undefined, only: (pw: string) => !pw.includes('@') },
  ]
  /** What is wrong with parsing `url` (a password of shape `password`), or undefined when all is right. */
  function problemWith(url: string, password: string, host: string | undefined): string | undefined {
    let target: ReturnType<typeof parseDatabaseUrl> | undefined
    try {
      target = parseDatabaseUrl(url, ctx)
    } catch (err) {
      if (!(err instanceof ConfigError) || err.exitCode !== 2) return `not a ConfigError: ${String(err)}`
      const text = `${err.message}\n${err.hint ?? ''}`
      const leaked = [...leakedFragments(text, password), ...leakedFragments(text, `:${password}@`)]
      if (leaked.length > 0) return `leaks ${JSON.stringify(leaked)}: ${text}`
      if ((/[@/#?%]/.test(password) || host === undefined) && !text.includes('URL-encode the password')) return `no advice: ${text}`
      return undefined
    }
    // parsed: then exactly as meant, never a silent misreading
    const expected = { host, port: 5432, user: 'app', password, database: 'shop' }
    const got =
      target.dialect === 'postgres'
        ? { host: target.host, port: target.port, user: target.user, password: target.password, database: target.database }
        : target
    return JSON.stringify(got) === JSON.stringify(expected) ? undefined : `misread as ${JSON.stringify(got)}`
  }

  test.each(forms)('$name: parsed exactly, or refused with advice and no fragment of the password', ({ url, host, only }) => {
    const shapes = passwordShapes().filter(only)
    expect(shapes.length).toBeGreaterThan(100)
    const problems = shapes.map((password) => ({ password, problem: problemWith(url(password), password, host) })).filter((p) => p.problem)
    expect(problems).toEqual([])
  })

  test.each([
    { input: 'postgres://app:hunter2secret/shop', leak: 'hunter2secret' },
    { input: 'postgres://app:p@ss:w/rd#1@h/db', leak: 'w' },
  ])('the reported cases: $input', ({ input, leak }) => {
    const error = (() => {
      try {
        parseDatabaseUrl(input, ctx)
      } catch (err) {
        return err as ConfigError
      }
      throw new Error('parsed')
    })()
    expect(error.message).not.toContain(`"${leak}"`)
    expect(error.hint).toContain('URL-encode the password')
  })
})

describe('IPv6 hosts', () => {
  test.each([
    {
      input: 'postgres://u:pw@[::1]:5432/db',
      host: '::1',
      port: 5432,
      url: 'postgres://u:***@[::1]:5432/db',
      line: 'postgres [::1]:5432/db as u',
    },
    {
      input: 'postgres://u@[2001:DB8::1]/db?sslmode=require',
      host: '2001:db8::1',
      port: 5432,
      url: 'postgres://u@[2001:db8::1]:5432/db',
      line: 'postgres [2001:db8::1]:5432/db as u',
    },
  ])('$input', ({ input, host, port, url, line }) => {
    const target = parseDatabaseUrl(input, ctx)
    expect(target).toMatchObject({ host, port })
    expect(formatTargetUrl(target)).toBe(url)
    expect(describeTarget(target)).toBe(line)
  })
})

describe('a malformed %-escape outside the password names its part (exit 2)', () => {
  test.each([
    { input: 'sqlite:///data/app%E0.db', part: 'the path' },
    { input: 'postgres://u@ho%zzst/db', part: 'the host' },
    { input: 'postgres://u%zz:Pw9secret@h/db', part: 'the user' },
    { input: 'postgres://u:Pw9secret@h/d%E0b', part: 'the database name' },
    { input: 'postgres://u:Pw9secret@h/db?sslrootcert=/ca%zz.pem', part: 'the query parameter sslrootcert' },
    { input: 'postgres://u@h/db?password=Pw9secret%zz', part: 'the query parameter password' },
    { input: 'postgres://u:Pw9secret%E0@h/db', part: 'the password' },
    { input: 'postgres://app@h/db?Pw9secret=%zz', part: 'the value of a query parameter' },
  ])('$input: $part', ({ input, part }) => {
    let error: unknown
    try {
      parseDatabaseUrl(input, ctx)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe(`DATABASE_URL: ${part} has a malformed %-escape`)
    expect((error as ConfigError).exitCode).toBe(2)
    expect(`${(error as ConfigError).message} ${(error as ConfigError).hint}`).not.toContain('Pw9')
  })

  test('query parameters decode as in libpq: + stays a plus', () => {
    expect(parseDatabaseUrl('postgres://u@h/db?password=a+b%2Bc&sslrootcert=/etc/ca%20x.pem', ctx)).toMatchObject({
      password: 'a+b+c',
      tls: { rootCert: '/etc/ca x.pem' },
    })
  })
})
