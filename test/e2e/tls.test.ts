// PostgreSQL over TLS, against a server of its own that serves a certificate signed by a CA the
// test makes with openssl: the driver's sslmode handling and pg_dump's, seen from the server's
// connection log ("SSL enabled").
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeTempDir, runCli } from '../support/cli.js'
import { type PgCluster, startPgCluster } from '../support/pg-cluster.js'
import { createTestDatabase } from '../support/postgres.js'

const hasOpenssl = spawnSync('openssl', ['version']).status === 0

/** A connection's TLS settings: an `sslmode` (none: the default), and whether to give the test CA. */
interface TlsCase {
  sslmode?: string
  withCa?: boolean
}

/** A CA, and a server certificate it signs for 127.0.0.1 and localhost; PEM files in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => path.join(dir, name)
  const openssl = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=dbops test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'))
  openssl('req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'))
  fs.writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.crt'),
  )
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') }
}

describe.skipIf(!hasOpenssl)('PostgreSQL over TLS (a server with a certificate from its own CA)', () => {
  const tmp = makeTempDir('dbops-tls-')
  let certs: { ca: string; cert: string; key: string }
  let cluster: PgCluster
  let url: string

  beforeAll(async () => {
    certs = makeCertificates(tmp.dir)
    cluster = await startPgCluster({ tls: { cert: certs.cert, key: certs.key } })
    url = (await createTestDatabase(cluster.url, 'dbops_tls')).url
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    tmp.cleanup()
  })

  /** The server's "connection authorized" lines for `application`, logged after `mark` (a log size). */
  function connections(application: string, mark: number): string[] {
    const log = fs.readFileSync(cluster.logFile, 'utf8').slice(mark)
    return log.split('\n').filter((line) => line.includes('connection authorized') && line.includes(`application_name=${application}`))
  }
  const logSize = () => fs.statSync(cluster.logFile).size
  const withParams = (params: Record<string, string>) => `${url}?${new URLSearchParams(params)}`
  /** The URL for an `sslmode` (none: libpq's default, prefer), with this CA as `sslrootcert` when asked. */
  const urlFor = ({ sslmode, withCa }: TlsCase) =>
    sslmode === undefined ? url : withParams(withCa ? { sslmode, sslrootcert: certs.ca } : { sslmode })

  /** At least `atLeast` connections were logged, each one encrypted with TLS, or none of them. */
  function expectEncrypted(lines: string[], encrypted: boolean, atLeast = 1): void {
    expect(lines.length).toBeGreaterThanOrEqual(atLeast)
    for (const line of lines) expect(/SSL enabled \(protocol=TLS/.test(line)).toBe(encrypted)
  }

  test.each<[string, TlsCase, boolean]>([
    ['verify-full with the CA: connected over TLS', { sslmode: 'verify-full', withCa: true }, true],
    ['prefer, the default: TLS when the server offers it', {}, true],
    ['disable: no TLS even though the server offers it', { sslmode: 'disable' }, false],
    ['require without the CA: encrypted without verifying the server, as libpq does', { sslmode: 'require' }, true],
  ])('%s', async (_label, tls, encrypted) => {
    const mark = logSize()
    const result = await runCli(['wait'], { env: { DATABASE_URL: urlFor(tls) } })
    expect(result.code).toBe(0)
    expectEncrypted(connections('dbops/wait', mark), encrypted)
  })

  test('verify-full without the CA: exit 7 at the TLS step, one line naming the certificate, nothing logged in', async () => {
    const mark = logSize()
    const result = await runCli(['health', '--json'], { env: { DATABASE_URL: urlFor({ sslmode: 'verify-full' }) } })
    expect(result.code).toBe(7)
    const connection = result.json().components.find((c: { name: string }) => c.name === 'connection')
    expect(connection.details).toMatchObject({ step: 'TLS' })
    expect(connection.details.error).toMatch(/certificate/i)
    const text = await runCli(['health'], { env: { DATABASE_URL: urlFor({ sslmode: 'verify-full' }) } })
    expect(text.code).toBe(7)
    expect(text.stderr).toMatch(/^error: .*certificate/i)
    expect(text.stderr).not.toMatch(/\n\s+at /)
    expect(text.stderr).toMatch(/\nhint: \S/)
    const password = decodeURIComponent(new URL(url).password)
    expect(password.length).toBeGreaterThan(0)
    expect(result.stdout + result.stderr + text.stdout + text.stderr).not.toContain(password)
    expect(connections('dbops/health', mark)).toEqual([])
  })

  // pg_dump connects with the same application_name as dbops' own connection: the lines of
  // both are checked. With disable, a pg_dump that missed PGSSLMODE would use libpq's default
  // (prefer) and be logged as encrypted; with verify-full, one that missed PGSSLROOTCERT fails.
  test.each<[string, TlsCase, boolean]>([
    ['verify-full with the CA: encrypted', { sslmode: 'verify-full', withCa: true }, true],
    ['disable: not encrypted', { sslmode: 'disable' }, false],
  ])('backup create, %s, pg_dump included', async (_label, params, encrypted) => {
    const mark = logSize()
    const dir = path.join(tmp.dir, `backups-${params.sslmode}`)
    fs.mkdirSync(dir)
    const result = await runCli(['backup', 'create', '--dir', dir, '--verify', 'hash', '--json'], {
      env: { DATABASE_URL: urlFor(params) },
      timeoutMs: 60_000,
    })
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    expect(fs.existsSync(result.json().path)).toBe(true)
    // dbops' session (lock, preflight) and pg_dump's
    expectEncrypted(connections('dbops/backup create', mark), encrypted, 2)
  })
})
