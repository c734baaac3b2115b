/**
 * pg_dump / pg_restore discovery with stand-in tools (shell scripts answering --version), and
 * the child environment given to the real ones.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { findPgTool, majorOf, parseToolVersion } from '../../src/dialects/postgres/find-pg-tool.js'
import { mapPgToolError, passfileLine, pgToolEnv } from '../../src/dialects/postgres/pg-child-process.js'
import { relationOfStatement } from '../../src/dialects/postgres/postgres-restore.js'
import type { PostgresTarget } from '../../src/config/database-url.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A root holding `<root>/<version>/bin/<tool>` scripts that print `<tool> (PostgreSQL) <version>`. */
function fakeInstallations(tool: string, versions: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-pgtools-'))
  dirs.push(root)
  for (const version of versions) {
    const bin = path.join(root, version, 'bin')
    fs.mkdirSync(bin, { recursive: true })
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`, {
      mode: 0o755,
    })
  }
  return root
}

const noPath = { PATH: '' }

describe('findPgTool', () => {
  test('prefers the server major, else the newest fitting one', async () => {
    const root = fakeInstallations('pg_dump', ['13.9', '15.4', '16.2'])
    const standardDirs = [`${root}/*/bin`]
    await expect(findPgTool('pg_dump', { minMajor: 15, env: noPath, standardDirs })).resolves.toMatchObject({
      version: '15.4',
      path: `${root}/15.4/bin/pg_dump`,
    })
    await expect(findPgTool('pg_dump', { minMajor: 14, env: noPath, standardDirs })).resolves.toMatchObject({ version: '16.2' })
  })

  test('none fitting: the message lists the versions found and the hint what to install', async () => {
    const root = fakeInstallations('pg_dump', ['12.3', '13.9'])
    const promise = findPgTool('pg_dump', {
      minMajor: 16,
      env: noPath,
      standardDirs: [`${root}/*/bin`],
    })
    await expect(promise).rejects.toMatchObject({
      code: 'PG_TOOL_TOO_OLD',
      exitCode: 1,
      message: expect.stringMatching(/No pg_dump fits the server \(PostgreSQL 16\): found 13\.9 \(.*\), 12\.3 \(.*\)/),
      hint: expect.stringContaining('postgresql-client-16'),
    })
  })

  test('none at all', async () => {
    await expect(findPgTool('pg_dump', { minMajor: 15, env: noPath, standardDirs: [] })).rejects.toMatchObject({
      code: 'PG_TOOL_NOT_FOUND',
      exitCode: 1,
    })
  })

  test('PG_DUMP is the only candidate: a wrong path or an old version is an error, not a silent fallback', async () => {
    const root = fakeInstallations('pg_dump', ['12.3', '16.2'])
    const standardDirs = [`${root}/*/bin`]
    await expect(
      findPgTool('pg_dump', {
        minMajor: 15,
        env: { PATH: '', PG_DUMP: `${root}/nope/pg_dump` },
        standardDirs,
      }),
    ).rejects.toMatchObject({
      code: 'PG_TOOL_NOT_FOUND',
      message: expect.stringContaining('PG_DUMP='),
    })
    await expect(
      findPgTool('pg_dump', {
        minMajor: 15,
        env: { PATH: '', PG_DUMP: `${root}/12.3/bin/pg_dump` },
        standardDirs,
      }),
    ).rejects.toMatchObject({ code: 'PG_TOOL_TOO_OLD' })
    await expect(
      findPgTool('pg_dump', {
        minMajor: 15,
        env: { PATH: '', PG_DUMP: `${root}/16.2/bin/pg_dump` },
        standardDirs,
      }),
    ).resolves.toMatchObject({ version: '16.2' })
  })

  test("Debian's pg_wrapper (a perl script) is not run when the real binaries are there; /bin and /usr/bin count once", async () => {
    const root = fakeInstallations('pg_dump', ['15.4'])
    const common = path.join(root, 'share', 'postgresql-common')
    fs.mkdirSync(common, { recursive: true })
    const ran = path.join(root, 'wrapper-ran')
    fs.writeFileSync(path.join(common, 'pg_wrapper'), `#!/bin/sh\ntouch '${ran}'\necho "pg_dump (PostgreSQL) 15.4"\n`, { mode: 0o755 })
    for (const bin of ['usr-bin', 'bin']) {
      fs.mkdirSync(path.join(root, bin))
      fs.symlinkSync(path.join(common, 'pg_wrapper'), path.join(root, bin, 'pg_dump'))
    }
    const env = { PATH: [path.join(root, 'usr-bin'), path.join(root, 'bin')].join(path.delimiter) }
    const tool = await findPgTool('pg_dump', { minMajor: 15, env, standardDirs: [`${root}/*/bin`] })
    expect(tool.path).toBe(`${root}/15.4/bin/pg_dump`)
    expect(tool.candidates.map((c) => c.path)).toEqual([`${root}/15.4/bin/pg_dump`])
    expect(fs.existsSync(ran)).toBe(false)

    // the wrapper alone: it is asked (once), and used
    const onlyWrapper = await findPgTool('pg_dump', { minMajor: 15, env, standardDirs: [] })
    expect(onlyWrapper).toMatchObject({ path: path.join(root, 'usr-bin', 'pg_dump'), version: '15.4' })
    expect(onlyWrapper.candidates).toHaveLength(1)
    expect(fs.existsSync(ran)).toBe(true)
  })

  test('finds the real pg_dump of this machine', async () => {
    const tool = await findPgTool('pg_dump', { minMajor: undefined })
    expect(tool.major).toBeGreaterThanOrEqual(10)
  })

  test.each([
    { output: 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', version: '15.18', major: 15 },
    { output: 'pg_dump (PostgreSQL) 9.6.24', version: '9.6.24', major: 9 },
    { output: 'pg_restore (PostgreSQL) 17beta1', version: '17beta1', major: 17 },
  ])('parses $output', ({ output, version, major }) => {
    expect(parseToolVersion(output)).toBe(version)
    expect(majorOf(version)).toBe(major)
  })
})

describe('the child environment', () => {
  const target: PostgresTarget = {
    dialect: 'postgres',
    host: 'db.internal',
    port: 6543,
    database: 'shop',
    user: 'backup',
    password: 'pa:ss\\word',
    tls: { mode: 'verify-full', rootCert: '/etc/ca.pem' },
  }

  test('only what the tool needs: stray PG* variables, DATABASE_URL and the rest of the environment are gone; the target is set exactly; no password', () => {
    const env = pgToolEnv(
      {
        PATH: '/usr/bin',
        PGHOST: 'elsewhere',
        PGPASSFILE: '/tmp/other',
        PGSERVICE: 'svc',
        HOME: '/root',
        LANG: 'de_DE.UTF-8',
        LC_ALL: 'de_DE.UTF-8',
        DATABASE_URL: 'postgres://backup:pa:ss@db.internal/shop',
        AWS_SECRET_ACCESS_KEY: 'x',
      },
      { target, applicationName: 'dbops/backup create', connectTimeoutSeconds: 10 },
    )
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'de_DE.UTF-8',
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'backup',
      PGDATABASE: 'shop',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/etc/ca.pem',
      PGAPPNAME: 'dbops/backup create',
      PGCONNECT_TIMEOUT: '10',
      LC_MESSAGES: 'C',
    })
  })

  test('a tool that connects nowhere gets no PG* variable at all', () => {
    expect(pgToolEnv({ PATH: '/usr/bin', PGPASSWORD: 'stray', DATABASE_URL: 'postgres://u:p@h/d' })).toEqual({
      PATH: '/usr/bin',
      LC_MESSAGES: 'C',
    })
  })

  test('the passfile line escapes : and \\ as libpq reads them', () => {
    expect(passfileLine('pa:ss\\word')).toBe('*:*:*:*:pa\\:ss\\\\word\n')
  })

  test.each([
    ['DROP TABLE IF EXISTS public.users;', 'public.users'],
    ['ALTER TABLE IF EXISTS ONLY public."odd name" DROP CONSTRAINT IF EXISTS x;', 'public."odd name"'],
    ['CREATE INDEX users_name ON public.users USING btree (name);', 'public.users'],
    ['COMMENT ON TABLE public.users IS NULL;', 'public.users'],
    ['SET lock_timeout = 0;', undefined],
  ])('the relation a waiting restore statement names: %s', (statement, relation) => {
    expect(relationOfStatement(statement)).toBe(relation)
  })

  test.each([
    {
      stderr: 'pg_dump: error: connection to server at "db" failed: FATAL:  password authentication failed for user "backup"',
      code: 'AUTH_FAILED',
      exit: 7,
    },
    {
      stderr: 'pg_dump: error: connection to server at "db" (10.0.0.1), port 6543 failed: Connection refused',
      code: 'DB_UNREACHABLE',
      exit: 4,
    },
    {
      stderr: 'pg_dump: error: connection to server failed: FATAL:  database "shop" does not exist',
      code: 'DB_NOT_FOUND',
      exit: 7,
    },
    {
      stderr: 'pg_dump: error: could not write to output file: No space left on device',
      code: 'BACKUP_NO_SPACE',
      exit: 1,
    },
    {
      stderr: 'pg_dump: error: query failed: ERROR:  permission denied for table secrets',
      code: 'PG_DUMP_FAILED',
      exit: 1,
    },
  ])('$code from pg_dump stderr', ({ stderr, code, exit }) => {
    expect(mapPgToolError('pg_dump', 1, null, stderr, target)).toMatchObject({
      code,
      exitCode: exit,
    })
  })
})
