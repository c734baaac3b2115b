import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { resolveConfig } from '../../src/config/resolve-config.js'
import { redact } from '../../src/config/redact.js'
import { describeConfig } from '../../src/config/show-config.js'
import { assertDestructiveAllowed } from '../../src/config/production-guard.js'
import { ConfigError } from '../../src/errors.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-config-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text)
const resolve = (env: Record<string, string | undefined> = {}, flags: { url?: string; db?: string; config?: string } = {}) =>
  resolveConfig({ cwd: dir, env, flags })
const setting = (settings: Array<{ key: string }>, key: string) => settings.find((s) => s.key === key)

describe('target precedence', () => {
  test('default is SQLite at ./data/app.db, and nothing is created', async () => {
    const config = await resolve()
    expect(config.target).toEqual({ dialect: 'sqlite', path: path.join(dir, 'data/app.db') })
    expect(config.rule).toBe('default: SQLite at ./data/app.db')
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false)
  })

  test('flag > environment > .env > config file', async () => {
    write('dbops.config.json', JSON.stringify({ url: 'sqlite:///from-file.db' }))
    expect((await resolve()).target).toMatchObject({ path: path.join(dir, 'from-file.db') })
    write('.env', 'DATABASE_URL=sqlite:///from-dotenv.db\n')
    expect((await resolve()).rule).toBe('DATABASE_URL from the environment (.env)')
    const fromEnv = await resolve({ DATABASE_URL: 'sqlite:///from-env.db' })
    expect(fromEnv.target).toMatchObject({ path: path.join(dir, 'from-env.db') })
    expect(fromEnv.rule).toBe('DATABASE_URL from the environment')
    const fromFlag = await resolve({ DATABASE_URL: 'sqlite:///from-env.db' }, { url: 'sqlite:///from-flag.db' })
    expect(fromFlag.target).toMatchObject({ path: path.join(dir, 'from-flag.db') })
    expect(fromFlag.rule).toBe('--url flag')
  })

  test('the environment wins over .env key by key', async () => {
    write('.env', 'DATABASE_URL=postgres://a:dotenvpw@h/db\nPOOL_SIZE=7\n')
    const config = await resolve({ POOL_SIZE: '9' })
    expect(config.pool.size).toBe(9)
    expect(setting(config.settings, 'pool.size')).toMatchObject({ source: 'env', origin: 'POOL_SIZE' })
    expect(config.target).toMatchObject({ dialect: 'postgres', password: 'dotenvpw' })
  })

  test('DATABASE_HOST and friends build a PostgreSQL target', async () => {
    const config = await resolve({
      DATABASE_HOST: 'db.internal',
      DATABASE_PORT: '6543',
      DATABASE_NAME: 'shop',
      DATABASE_USER: 'shopper',
      DATABASE_PASSWORD: 'pw-with/slash',
    })
    expect(config.target).toEqual({
      dialect: 'postgres',
      host: 'db.internal',
      port: 6543,
      database: 'shop',
      user: 'shopper',
      password: 'pw-with/slash',
      tls: { mode: 'prefer' },
    })
  })

  test('DATABASE_PATH names a SQLite file', async () => {
    expect((await resolve({ DATABASE_PATH: 'var/app.sqlite' })).target).toEqual({
      dialect: 'sqlite',
      path: path.join(dir, 'var/app.sqlite'),
    })
  })

  test('DATABASE_PASSWORD fills a URL without a password', async () => {
    const config = await resolve({ DATABASE_URL: 'postgres://app@h/db', DATABASE_PASSWORD: 'kept-apart' })
    expect(config.target).toMatchObject({ user: 'app', password: 'kept-apart' })
  })

  test('--db selects a named entry; DATABASE_URL_<NAME> overrides its url; DATABASE_URL does not', async () => {
    write('dbops.config.json', JSON.stringify({ databases: { 'analytics-ro': { url: 'postgres://ro@warehouse/stats', protected: true } } }))
    const entry = await resolve({ DATABASE_URL: 'sqlite:///ignored.db' }, { db: 'analytics-ro' })
    expect(entry.target).toMatchObject({ host: 'warehouse', database: 'stats' })
    expect(entry.protected).toBe(true)
    expect(entry.rule).toBe('--db analytics-ro: databases.analytics-ro.url in dbops.config.json')
    const overridden = await resolve({ DATABASE_URL_ANALYTICS_RO: 'postgres://ro@replica/stats' }, { db: 'analytics-ro' })
    expect(overridden.target).toMatchObject({ host: 'replica' })
    expect(overridden.rule).toBe('--db analytics-ro: DATABASE_URL_ANALYTICS_RO from the environment')
  })
})

describe('set but empty, and a malformed .env', () => {
  test.each([
    { env: { DATABASE_URL: '' }, name: 'DATABASE_URL' },
    { env: { DATABASE_URL: '  ' }, name: 'DATABASE_URL' },
    { env: { DATABASE_HOST: '' }, name: 'DATABASE_HOST' },
    { env: { DATABASE_PATH: '' }, name: 'DATABASE_PATH' },
    { env: { DATABASE_HOST: 'db', DATABASE_NAME: '' }, name: 'DATABASE_NAME' },
    { env: { DATABASE_HOST: 'db', DATABASE_USER: '' }, name: 'DATABASE_USER' },
    { env: { DATABASE_HOST: 'db', DATABASE_PORT: '' }, name: 'DATABASE_PORT' },
    { env: { DATABASE_URL: 'postgres://h/db', DATABASE_SCHEMA: '' }, name: 'DATABASE_SCHEMA' },
    { env: { DATABASE_URL: 'postgres://h/db', DATABASE_SSLMODE: '' }, name: 'DATABASE_SSLMODE' },
    { env: { DATABASE_URL: 'postgres://h/db', DATABASE_SSLROOTCERT: '' }, name: 'DATABASE_SSLROOTCERT' },
    { env: { SHADOW_DATABASE_URL: '' }, name: 'SHADOW_DATABASE_URL' },
    { env: { DBOPS_CONFIG: '' }, name: 'DBOPS_CONFIG' },
  ])('$name set but empty: exit 2 naming it, never a fallback', async ({ env, name }) => {
    const error = await resolve(env).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe(`${name} is set but empty`)
    expect((error as ConfigError).hint).toMatch(/unset it/i)
    expect((error as ConfigError).exitCode).toBe(2)
  })

  test('DATABASE_URL_<NAME> set but empty with --db NAME', async () => {
    write('dbops.config.json', JSON.stringify({ databases: { prod: { url: 'postgres://h/prod' } } }))
    const error = (await resolve({ DATABASE_URL_PROD: '' }, { db: 'prod' }).catch((err: unknown) => err)) as ConfigError
    expect(error.message).toBe('DATABASE_URL_PROD is set but empty')
  })

  test('DATABASE_URL= in .env names the file and line', async () => {
    write('.env', '# settings\nPOOL_SIZE=3\nDATABASE_URL=\n')
    const error = (await resolve().catch((err: unknown) => err)) as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toBe(`DATABASE_URL is set but empty (${path.join(dir, '.env')}:3)`)
  })

  test('an empty variable that nothing reads is no error', async () => {
    const config = await resolve({ DATABASE_URL: 'sqlite:///a.db', DATABASE_HOST: '', DATABASE_NAME: '', DATABASE_PASSWORD: '' })
    expect(config.target).toMatchObject({ dialect: 'sqlite' })
  })

  test.each([
    { text: 'POOL_SIZE=3\nDATABASE_URL\n', line: 2 },
    { text: 'DATABASE_URL: postgres://h/db\n', line: 1 },
    { text: 'A="two\nlines"\n=value\n', line: 3 },
    { text: 'export A=1\n\n  # comment\nNOT A NAME=1\n', line: 4 },
    { text: 'A=1\r\nB\r\n', line: 2 },
  ])('a malformed .env line is reported with its file and line: $line', async ({ text, line }) => {
    write('.env', text)
    const error = (await resolve().catch((err: unknown) => err)) as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toBe(`${path.join(dir, '.env')}:${line}: expected NAME=value`)
    expect(error.exitCode).toBe(2)
    expect(error.message).not.toContain('postgres')
  })

  test('a well-formed .env with quotes, export and comments still parses', async () => {
    write(
      '.env',
      'export POOL_SIZE=4\nSQLITE_JOURNAL_MODE="DELETE" # trailing\nX="a\nb=c"\n\n# DATABASE_URL\nDATABASE_URL=sqlite:///e.db\n',
    )
    const config = await resolve()
    expect(config.pool.size).toBe(4)
    expect(config.sqlite.journalMode).toBe('DELETE')
    expect(config.target).toMatchObject({ path: path.join(dir, 'e.db') })
  })
})

describe('settings', () => {
  test('pool, sqlite pragmas, deadline, retries, echo, schema from the environment with DB_ aliases', async () => {
    const config = await resolve({
      DB_POOL_SIZE: '3',
      MAX_OVERFLOW: '2',
      POOL_TIMEOUT: '4.5',
      POOL_RECYCLE: '-1',
      SQLITE_JOURNAL_MODE: 'delete',
      SQLITE_SYNCHRONOUS: 'full',
      SQLITE_CACHE_SIZE: '-8000',
      SQLITE_BUSY_TIMEOUT: '250',
      DATABASE_CONNECT_TIMEOUT: '2',
      DATABASE_MAX_RETRIES: '0',
      SQL_ECHO: 'yes',
      DATABASE_SCHEMA: 'app',
    })
    expect(config.pool).toEqual({ size: 3, maxOverflow: 2, timeoutSeconds: 4.5, recycleSeconds: 0 })
    expect(config.sqlite).toEqual({ journalMode: 'DELETE', synchronous: 'FULL', cacheSize: -8000, busyTimeoutMs: 250 })
    expect(config.connectTimeoutSeconds).toBe(2)
    expect(config.maxRetries).toBe(0)
    expect(config.echo).toBe(true)
    expect(config.schema).toBe('app')
  })

  test('config file values apply to the entry, then the top level', async () => {
    write(
      'dbops.config.json',
      JSON.stringify({ pool: { size: 11 }, schema: 'top', databases: { b: { url: 'sqlite:///b.db', schema: 'entry' } } }),
    )
    const config = await resolve({}, { db: 'b' })
    expect(config.pool.size).toBe(11)
    expect(config.schema).toBe('entry')
    expect(setting(config.settings, 'schema')).toMatchObject({ source: 'config', origin: 'dbops.config.json: databases.b.schema' })
  })

  test('TLS: the URL sslmode wins over DATABASE_SSLMODE (as in libpq); files come from DATABASE_SSL*', async () => {
    const fromEnv = await resolve({ DATABASE_URL: 'postgres://h/db', DATABASE_SSLMODE: 'require', DATABASE_SSLROOTCERT: '/ca.pem' })
    expect(fromEnv.target).toMatchObject({ tls: { mode: 'require', rootCert: '/ca.pem' } })
    const fromUrl = await resolve({ DATABASE_URL: 'postgres://h/db?sslmode=disable', DATABASE_SSLMODE: 'require' })
    expect(fromUrl.target).toMatchObject({ tls: { mode: 'disable' } })
  })

  test.each([
    { env: { POOL_SIZE: 'ten' }, message: /^POOL_SIZE must be a whole number from 1 to 10000, got "ten"/ },
    { env: { POOL_SIZE: '0' }, message: /^POOL_SIZE must be/ },
    { env: { DB_MAX_OVERFLOW: '-1' }, message: /^DB_MAX_OVERFLOW must be/ },
    { env: { DATABASE_CONNECT_TIMEOUT: 'soon' }, message: /^DATABASE_CONNECT_TIMEOUT must be a number of seconds/ },
    { env: { SQLITE_JOURNAL_MODE: 'fast' }, message: /^SQLITE_JOURNAL_MODE must be one of WAL, DELETE/ },
    { env: { DATABASE_ECHO: 'maybe' }, message: /^DATABASE_ECHO must be true or false/ },
    { env: { DATABASE_SCHEMA: 'a;drop' }, message: /^DATABASE_SCHEMA must be a plain identifier/ },
    { env: { DATABASE_SSLMODE: 'on', DATABASE_URL: 'postgres://h/d' }, message: /^DATABASE_SSLMODE must be one of disable/ },
    { env: { DATABASE_PORT: 'x', DATABASE_HOST: 'h' }, message: /^DATABASE_PORT must be a whole number/ },
    { env: { DATABASE_PASSWORD: 'secret-pw' }, message: /^DATABASE_PASSWORD is set but DATABASE_HOST is not/ },
    {
      env: { DBOPS_MIGRATIONS_TABLE: 'a.b.c', DATABASE_URL: 'postgres://h/d' },
      message: /^DBOPS_MIGRATIONS_TABLE must be a table name or schema.table/,
    },
    { env: { DBOPS_MIGRATIONS_TABLE: 'app.history' }, message: /^DBOPS_MIGRATIONS_TABLE: SQLite has no schemas/ },
    { env: { DBOPS_MIGRATIONS_TABLE: ' ' }, message: /^DBOPS_MIGRATIONS_TABLE is set but empty/ },
  ])('rejects $env naming the variable', async ({ env, message }) => {
    const error = await resolve(env).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(message)
    expect((error as ConfigError).message).not.toContain('secret-pw')
  })
})

describe('the history table (DBOPS_MIGRATIONS_TABLE, migrations.table)', () => {
  const pg = { DATABASE_URL: 'postgres://h/d' }
  test.each([
    { name: 'default: dbops_migrations in public', env: pg, table: { schema: 'public', name: 'dbops_migrations' } },
    { name: 'default follows DATABASE_SCHEMA', env: { ...pg, DATABASE_SCHEMA: 'app' }, table: { schema: 'app', name: 'dbops_migrations' } },
    {
      name: 'a bare name is in DATABASE_SCHEMA',
      env: { ...pg, DATABASE_SCHEMA: 'app', DBOPS_MIGRATIONS_TABLE: 'history' },
      table: { schema: 'app', name: 'history' },
    },
    {
      name: 'schema-qualified',
      env: { ...pg, DATABASE_SCHEMA: 'app', DBOPS_MIGRATIONS_TABLE: 'public.dbops_migrations' },
      table: { schema: 'public', name: 'dbops_migrations' },
    },
    { name: 'SQLite: in the file', env: {}, table: { schema: 'main', name: 'dbops_migrations' } },
    { name: 'SQLite: main.name', env: { DBOPS_MIGRATIONS_TABLE: 'main.history' }, table: { schema: 'main', name: 'history' } },
  ])('$name', async ({ env, table }) => expect((await resolve(env)).migrationsTable).toEqual(table))
})

describe('config file', () => {
  test('dbops.config.ts loads with defineConfig and no build step', async () => {
    write(
      'dbops.config.ts',
      `const pool: { size: number } = { size: 4 }\nexport default { url: 'sqlite:///ts.db', pool, databases: { x: { url: 'sqlite:///x.db' } } }\n`,
    )
    const config = await resolve()
    expect(config.target).toMatchObject({ path: path.join(dir, 'ts.db') })
    expect(config.pool.size).toBe(4)
    expect(config.databases).toEqual(['x'])
  })

  test.each([
    { name: 'syntax error', file: 'dbops.config.ts', text: 'export default { url: ', message: /^Could not load dbops\.config\.ts: / },
    {
      name: 'wrong type',
      file: 'dbops.config.ts',
      text: "export default { pool: { size: 'ten' } }",
      message: /^dbops\.config\.ts: pool\.size must be a number, got string/,
    },
    {
      name: 'unknown key',
      file: 'dbops.config.json',
      text: '{"pool": {"sise": 3}}',
      message: /^dbops\.config\.json: unknown key pool\.sise/,
    },
    { name: 'not an object', file: 'dbops.config.js', text: 'export default 42', message: /must export an object/ },
    { name: 'bad JSON', file: 'dbops.config.json', text: '{', message: /^Could not load dbops\.config\.json/ },
    {
      name: 'range checked too',
      file: 'dbops.config.json',
      text: '{"pool": {"size": 0}}',
      message: /^dbops\.config\.json: pool\.size must be/,
    },
  ])('$name: the message names the file', async ({ file, text, message }) => {
    write(file, text)
    const error = await resolve().catch((err: unknown) => err)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(message)
    expect((error as ConfigError).exitCode).toBe(2)
  })

  test('--db naming an entry that does not exist lists the known ones', async () => {
    write('dbops.config.json', JSON.stringify({ databases: { main: { url: 'sqlite:///m.db' } } }))
    const error = (await resolve({}, { db: 'mian' }).catch((err: unknown) => err)) as ConfigError
    expect(error.message).toBe('--db mian: no database of that name in dbops.config.json')
    expect(error.hint).toBe('Known databases: main.')
  })

  test('--config pointing at a missing file', async () => {
    const error = (await resolve({}, { config: 'nope.ts' }).catch((err: unknown) => err)) as ConfigError
    expect(error.message).toBe('Config file nope.ts does not exist')
  })
})

describe('secrets and the production guard', () => {
  test('the resolved password is registered for redaction', async () => {
    await resolve({ DATABASE_URL: 'postgres://app:Sup3r-Secret@h/db' })
    expect(redact('FATAL: password Sup3r-Secret rejected')).toBe('FATAL: password *** rejected')
  })

  test('a password equal to the user, the database or the scheme is redacted as the password only', async () => {
    const config = await resolve({ DATABASE_URL: 'postgres://postgres:postgres@db.example/postgres' })
    const report = describeConfig(config)
    expect(redact(report.target.url)).toBe('postgres://postgres:***@db.example:5432/postgres')
    expect(JSON.parse(redact(JSON.stringify(report.target)))).toMatchObject({ user: 'postgres', database: 'postgres', password: '***' })
    expect(redact('Authentication failed for user "postgres"')).toBe('Authentication failed for user "postgres"')
    for (const [text, expected] of [
      ['password=postgres', 'password=***'],
      ['PGPASSWORD=postgres sslmode=require', 'PGPASSWORD=*** sslmode=require'],
      ['password "postgres" rejected', 'password "***" rejected'],
      ['postgres://u:postgres@h/db', 'postgres://u:***@h/db'],
    ]) {
      expect(redact(text!)).toBe(expected)
    }
  })

  test.each([
    ['Nonexistent flag: --bogus=postgres://u:n0t-known@h/db', 'Nonexistent flag: --bogus=postgres://u:***@h/db'],
    ['--db postgresql+asyncpg://app:p%40ss@db:5432/app: no database', '--db postgresql+asyncpg://app:***@db:5432/app: no database'],
    [
      'postgres://app@db/app and sqlite:///data/app.db stay as they are',
      'postgres://app@db/app and sqlite:///data/app.db stay as they are',
    ],
  ])('the password of any URL in a printed line is hidden, resolved or not: %s', (text, expected) => {
    expect(redact(text)).toBe(expected)
  })

  test.each([
    { env: {}, protect: false, yes: false, refused: false },
    { env: { NODE_ENV: 'production' }, protect: false, yes: false, refused: true },
    { env: { ENV: 'Production' }, protect: false, yes: false, refused: true },
    { env: { NODE_ENV: 'production' }, protect: false, yes: true, refused: false },
    { env: {}, protect: true, yes: false, refused: true },
  ])('guard: $env protected=$protect yes=$yes → refused=$refused', async ({ env, protect, yes, refused }) => {
    write('dbops.config.json', JSON.stringify({ protected: protect }))
    const config = await resolve(env)
    const check = () => assertDestructiveAllowed(config, { yes, action: 'roll back' })
    if (refused) expect(check).toThrow(/^Refusing to roll back on sqlite /)
    else expect(check).not.toThrow()
  })
})
