/**
 * `dbops serve` in-process (fastify's inject) against real SQLite files and a real
 * PostgreSQL: the probes, the REST API's shapes, bad input (unknown table, injected sort and
 * filter values, a huge page size), the token, the write routes and their guards, the
 * headers, the request log, and the database going away and coming back.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { perTestCleanup, testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'
import { configOf, logCapture, seedTracks, serverOn } from '../support/serve.js'
import { ExitCode, UsageError } from '../../src/errors.js'
import { buildServer } from '../../src/serve/build-server.js'

const { fresh, defer } = perTestCleanup()
const TOKEN = 'serve-test-token-0123456789abcdef'

for (const dialect of testDialects()) {
  describe(`${dialect.name}: dbops serve`, () => {
    test('probes, the REST API, metrics and headers answer with their documented shapes', async () => {
      const db = await fresh(dialect)
      const config = await configOf(db.url, db.dir)
      await seedTracks(config, 25)
      fs.mkdirSync(path.join(db.dir, 'migrations'))
      const log = logCapture()
      const app = await serverOn(config, { logStream: log.stream }, defer)

      expect((await app.inject('/live')).json()).toMatchObject({ status: 'ok' })
      const ready = await app.inject('/ready')
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toMatchObject({ ready: true, server_version: expect.any(String) })
      // cached for a second: the same answer (its latency too), not a second login
      expect((await app.inject('/ready')).json()).toEqual(ready.json())

      const health = await app.inject('/health')
      expect(health.statusCode).toBe(200)
      expect(health.json().components[0]).toMatchObject({ name: 'connection', status: 'ok' })

      const tables = (await app.inject('/api/v1/db/tables')).json()
      expect(tables.tables).toEqual([expect.objectContaining({ name: 'tracks' })])

      const page = await app.inject('/api/v1/db/tables/tracks?page=2&page_size=10&sort_by=plays&sort_desc=true')
      expect(page.statusCode).toBe(200)
      const body = page.json()
      expect(body).toMatchObject({
        table: 'tracks',
        columns: ['id', 'title', 'plays'],
        page: 2,
        page_size: 10,
        has_more: true,
        next_page: 3,
      })
      // plays descending, then id: 9 (ids 7, 17), 8 (4, 14, 24), 7 (1, 11, 21), 6 (8, 18): page 2 starts at 5 (5, 15, 25)
      expect(body.rows).toHaveLength(10)
      expect(body.rows.slice(0, 4).map((r: { id: number }) => r.id)).toEqual([5, 15, 25, 2])

      const last = (await app.inject('/api/v1/db/tables/tracks?page=3&page_size=10')).json()
      expect(last).toMatchObject({ has_more: false, next_page: null })
      expect(last.rows.map((r: { id: number }) => r.id)).toEqual([21, 22, 23, 24, 25])

      const filtered = await app.inject(
        '/api/v1/db/tables/tracks?filter_column=plays&filter_value=4&filter_column=title&filter_value=track%2012',
      )
      expect(filtered.json().rows).toEqual([{ id: 12, title: 'track 12', plays: 4 }])

      const schema = (await app.inject('/api/v1/db/tables/tracks/schema')).json()
      expect(schema).toMatchObject({ name: 'tracks', primary_key: ['id'] })
      expect(schema.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'title', 'plays'])

      expect((await app.inject('/api/v1/db/migrations/status')).json()).toMatchObject({ head: null, summary: { applied: 0 } })
      expect((await app.inject('/api/v1/db/backups')).json()).toMatchObject({ backups: [] })
      expect((await app.inject('/api/v1/db/status')).json()).toMatchObject({ dialect: dialect.name, ready: true })
      expect((await app.inject('/api/v1/db/is-ready')).json()).toMatchObject({ ready: true })
      const pool = (await app.inject('/api/v1/db/pool')).json()
      expect(pool).toMatchObject({ dialect: dialect.name, server: { by_state: expect.any(Array) } })

      const metrics = await app.inject('/metrics')
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/)
      expect(metrics.body).toMatch(/^dbops_health_component_status\{component="connection"\} 0$/m)
      expect(metrics.body).toMatch(/^dbops_database_up 1$/m)
      expect(metrics.body).toMatch(/^dbops_migrations\{state="pending"\} 0$/m)

      const console = await app.inject('/')
      expect(console.statusCode).toBe(200)
      expect(console.body).toContain('<script type="module" src="/console.js"></script>')
      const csp = console.headers['content-security-policy'] as string
      expect(csp).toContain("script-src 'self'")
      expect(csp).not.toContain('unsafe-inline')
      expect(console.headers['access-control-allow-origin']).toBeUndefined()

      // one JSON line per request on the log stream, with method, path and status
      const lines = log.lines().filter((l) => l.msg === 'request')
      expect(lines.length).toBeGreaterThanOrEqual(15)
      expect(lines[0]).toMatchObject({ method: 'GET', url: '/live', status: 200 })
    })

    test('bad input: unknown table 404 with a suggestion, injected sort and filter, page_size 10^9, unpaired filters', async () => {
      const db = await fresh(dialect)
      const config = await configOf(db.url, db.dir)
      await seedTracks(config, 3)
      const app = await serverOn(config, {}, defer)

      const unknown = await app.inject('/api/v1/db/tables/trakcs')
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json().error).toMatchObject({ code: 'UNKNOWN_TABLE', hint: expect.stringContaining('Did you mean "tracks"?') })
      expect((await app.inject('/api/v1/db/tables/trakcs/schema')).statusCode).toBe(404)

      const sort = await app.inject(`/api/v1/db/tables/tracks?sort_by=${encodeURIComponent('id; DROP TABLE tracks --')}`)
      expect(sort.statusCode).toBe(400)
      expect(sort.json().error.code).toBe('UNKNOWN_COLUMN')
      const column = await app.inject(`/api/v1/db/tables/tracks?filter_column=${encodeURIComponent('1=1 OR title')}&filter_value=x`)
      expect(column.statusCode).toBe(400)

      // a value is a bound parameter: compared as text, matches nothing, drops nothing
      const value = await app.inject(`/api/v1/db/tables/tracks?filter_column=title&filter_value=${encodeURIComponent("x' OR '1'='1")}`)
      expect(value.statusCode).toBe(200)
      expect(value.json().rows).toEqual([])
      expect((await app.inject('/api/v1/db/tables/tracks')).json().rows).toHaveLength(3)

      const huge = await app.inject('/api/v1/db/tables/tracks?page_size=1000000000')
      expect(huge.statusCode).toBe(400)
      expect(huge.json().error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('page_size must be <= 1000') })
      expect((await app.inject('/api/v1/db/tables/tracks?page=99999999999999999999')).statusCode).toBe(400)
      const unpaired = await app.inject('/api/v1/db/tables/tracks?filter_column=title')
      expect(unpaired.statusCode).toBe(400)
      expect(unpaired.json().error.code).toBe('WHERE_INVALID')

      const noRoute = await app.inject('/api/v1/db/nothing')
      expect(noRoute.statusCode).toBe(404)
      expect(noRoute.json().error.code).toBe('NOT_FOUND')
      // no write route without --allow-writes, and no mutating GET
      expect((await app.inject({ method: 'POST', url: '/api/v1/db/migrations/run', payload: {} })).statusCode).toBe(404)
    })
  })
}

describe('dbops serve: token and writes (SQLite)', () => {
  const sqlite = testDialects()[0]!

  test('a non-loopback host without DBOPS_SERVE_TOKEN refuses to start (exit 2); with it, every route but /live and /ready needs it', async () => {
    const db = await fresh(sqlite)
    const config = await configOf(db.url, db.dir)
    await seedTracks(config, 2)
    const refused = await buildServer(config, { host: '0.0.0.0' }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(UsageError)
    expect((refused as UsageError).exitCode).toBe(ExitCode.usage)
    expect((refused as UsageError).code).toBe('SERVE_TOKEN_MISSING')

    const log = logCapture()
    const app = await serverOn(config, { host: '0.0.0.0', token: TOKEN, logStream: log.stream }, defer)
    expect((await app.inject('/live')).statusCode).toBe(200)
    expect((await app.inject('/ready')).statusCode).toBe(200)
    for (const url of ['/health', '/metrics', '/', '/api/v1/db/tables', '/api/v1/db/tables/tracks']) {
      const missing = await app.inject(url)
      expect(missing.statusCode, url).toBe(401)
      expect(missing.headers['www-authenticate']).toBe('Bearer')
      expect(missing.json().error.code).toBe('UNAUTHORIZED')
    }
    const wrong = await app.inject({ url: '/api/v1/db/tables', headers: { authorization: `Bearer ${TOKEN}x` } })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.body).not.toContain(TOKEN)
    const right = await app.inject({ url: '/api/v1/db/tables', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(right.statusCode).toBe(200)
    expect(log.text()).not.toContain(TOKEN)
  })

  test('writes: only with allowWrites and the token; generate writes a file, run applies it; production needs "yes"; body limit 413', async () => {
    const db = await fresh(sqlite)
    const config = await configOf(db.url, db.dir)
    await expect(buildServer(config, { host: '127.0.0.1', allowWrites: true })).rejects.toMatchObject({ code: 'SERVE_TOKEN_MISSING' })
    const log = logCapture()
    const app = await serverOn(config, { allowWrites: true, token: TOKEN, logStream: log.stream }, defer)
    const auth = { authorization: `Bearer ${TOKEN}` }

    expect((await app.inject({ method: 'POST', url: '/api/v1/db/migrations/generate', payload: { name: 'add things' } })).statusCode).toBe(
      401,
    )
    const generated = await app.inject({
      method: 'POST',
      url: '/api/v1/db/migrations/generate',
      payload: { name: 'add things' },
      headers: auth,
    })
    expect(generated.statusCode).toBe(200)
    const file = path.join(db.dir, generated.json().path as string)
    expect(path.basename(file)).toMatch(/^\d{14}_add_things\.sql$/)
    fs.writeFileSync(file, '-- migrate:up\nCREATE TABLE things (id integer PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE things;\n')

    const run = await app.inject({ method: 'POST', url: '/api/v1/db/migrations/run', payload: {}, headers: auth })
    expect(run.statusCode).toBe(200)
    expect(run.json()).toMatchObject({ direction: 'up', error: null, head: generated.json().version })
    expect((await app.inject('/api/v1/db/tables/things/schema')).statusCode).toBe(200)
    expect(log.lines().some((l) => l.write === 'migrations/run' && l.applied === 1)).toBe(true)

    const big = await app.inject({
      method: 'POST',
      url: '/api/v1/db/migrations/run',
      payload: { target: 'x'.repeat(20_000) },
      headers: auth,
    })
    expect(big.statusCode).toBe(413)
    expect(big.json().error.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE')

    const production = await configOf(db.url, db.dir, { ENV: 'production' })
    const guarded = await serverOn(production, { allowWrites: true, token: TOKEN }, defer)
    const refused = await guarded.inject({ method: 'POST', url: '/api/v1/db/migrations/run', payload: {}, headers: auth })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().error).toMatchObject({ code: 'PRODUCTION_GUARD', hint: expect.stringContaining('"yes": true') })
    const allowed = await guarded.inject({ method: 'POST', url: '/api/v1/db/migrations/run', payload: { yes: true }, headers: auth })
    expect(allowed.statusCode).toBe(200)
  })
})

/** A TCP relay on a fixed port that can be stopped (every connection cut) and started again. */
async function switchableRelay(targetHost: string, targetPort: number) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  const start = (port: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))
  await start(0)
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    start: () => start(port),
  }
}

describe('postgres: dbops serve while the database goes away', () => {
  const postgres = testDialects()[1]!

  test('/ready and /health answer 503 (no crash), the API 503, and all recover when it returns', async () => {
    const db = await fresh(postgres)
    const direct = new URL(db.url)
    const relay = await switchableRelay(direct.hostname, Number(direct.port || 5432))
    defer(() => relay.stop().catch(() => undefined))
    const url = withUrl(db.url, { port: relay.port }).replace(direct.hostname, '127.0.0.1')
    const config = await configOf(url, db.dir, { DATABASE_CONNECT_TIMEOUT: '2' })
    await seedTracks(config, 3)
    const app = await serverOn(config, { cacheMs: 0 }, defer)
    expect((await app.inject('/api/v1/db/tables/tracks')).statusCode).toBe(200)
    expect((await app.inject('/ready')).statusCode).toBe(200)

    await relay.stop()
    const ready = await app.inject('/ready')
    expect(ready.statusCode).toBe(503)
    expect(ready.json().error.code).toMatch(/^DB_/)
    expect(ready.body).not.toContain(direct.password)
    const health = await app.inject('/health')
    expect(health.statusCode).toBe(503)
    expect(health.json()).toMatchObject({ status: 'fail', components: [{ name: 'connection', status: 'fail' }] })
    const rows = await app.inject('/api/v1/db/tables/tracks')
    expect(rows.statusCode).toBe(503)
    expect(rows.json().error.code).toMatch(/^DB_/)
    expect((await app.inject('/live')).statusCode).toBe(200)

    await relay.start()
    expect((await app.inject('/ready')).statusCode).toBe(200)
    expect((await app.inject('/health')).statusCode).toBe(200)
    expect((await app.inject('/api/v1/db/tables/tracks')).json().rows).toHaveLength(3)
  })
})
