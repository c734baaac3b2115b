// `dbops serve` under load: autocannon, 50 connections for BENCH_SECONDS (default 10) each on
// /health, /ready and a paginated, sorted table page on PostgreSQL (10,000 rows), against the
// built CLI. Prints requests/s, p99 latency, errors and non-2xx answers, the most sessions the
// server held on the database during each run (against its pool's max), and the server's
// peak RSS (VmHWM). Targets: /ready ≥ 5,000 req/s (its 1 s cache), the table ≥ 1,000 req/s,
// p99 < 50 ms, RSS < 200 MB, no connection beyond the pool.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { clearInterval, setInterval, setTimeout } from 'node:timers'

const require = createRequire(import.meta.url)

export default async function (ctx) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10)
  const autocannon = require('autocannon')
  const pg = require('pg')
  const bench = await ctx.pgBenchDatabase(`dbops_bench_serve_${process.pid}`)
  const url = new URL(bench.url)
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  await db.query('CREATE TABLE tracks (id integer PRIMARY KEY, title text NOT NULL, plays integer NOT NULL)')
  await db.query("INSERT INTO tracks SELECT i, 'track ' || i, (i * 7) % 1000 FROM generate_series(1, 10000) AS i")
  await db.query('CREATE INDEX tracks_plays ON tracks (plays)')
  await db.query('ANALYZE tracks')
  const dir = ctx.tmpDir()
  fs.mkdirSync(`${dir}/migrations`)
  const port = 20000 + (process.pid % 20000)
  const env = {
    ...process.env,
    DATABASE_URL: url.toString(),
    NO_COLOR: '1',
    DBOPS_HEALTH_BACKUP_AGE_HOURS: 'off',
    POOL_SIZE: '5',
    MAX_OVERFLOW: '5',
  }
  const server = spawn(process.execPath, [ctx.binPath, 'serve', '--port', String(port)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  server.stderr.on('data', (chunk) => {
    // keep only the first lines: a request log of a million lines is not worth holding
    if (stderr.length < 4000) stderr += chunk.toString()
  })
  try {
    for (let i = 0; !stderr.includes('listening on'); i++) {
      if (i > 200 || server.exitCode !== null) throw new Error(`dbops serve did not start: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const base = `http://127.0.0.1:${port}`
    // the machine's ceiling: a bare fastify process answering {"ok":1}, measured the same way
    const barePort = port + 1
    const bare = spawn(
      process.execPath,
      [
        '-e',
        `const app = require('fastify')(); app.get('/', async () => ({ ok: 1 })); app.listen({ port: ${barePort}, host: '127.0.0.1' })`,
      ],
      { cwd: ctx.repoRoot, stdio: 'ignore' },
    )
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const ceiling = await autocannon({ url: `http://127.0.0.1:${barePort}/`, connections: 50, duration: seconds })
    bare.kill()
    const routes = {
      '/health': '/health',
      '/ready': '/ready',
      'table page': '/api/v1/db/tables/tracks?page=50&page_size=20&sort_by=plays&sort_desc=true',
    }
    ctx.print(`50 connections, ${seconds} s each; pool max 10 (POOL_SIZE 5 + MAX_OVERFLOW 5)`)
    ctx.print('| route | req/s | p50 ms | p99 ms | errors | non-2xx | max server sessions |')
    ctx.print('|---|---|---|---|---|---|---|')
    ctx.print(
      `| bare fastify (ceiling) | ${Math.round(ceiling.requests.average)} | ${ceiling.latency.p50} | ${ceiling.latency.p99} | ${ceiling.errors} | ${ceiling.non2xx} | - |`,
    )
    for (const [name, path] of Object.entries(routes)) {
      let maxSessions = 0
      const watch = setInterval(async () => {
        const res = await db
          .query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'dbops/serve'")
          .catch(() => undefined)
        if (res) maxSessions = Math.max(maxSessions, res.rows[0].n)
      }, 100)
      const result = await autocannon({ url: `${base}${path}`, connections: 50, duration: seconds })
      clearInterval(watch)
      ctx.print(
        `| ${name} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.errors + result.timeouts} | ${result.non2xx} | ${maxSessions} |`,
      )
    }
    const status = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8')
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
    ctx.print(`server RSS: peak ${(hwm / 1024).toFixed(0)} MB, now ${(rss / 1024).toFixed(0)} MB`)
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    ctx.print(`server exit on SIGTERM: ${server.exitCode}`)
    await db.end()
    await bench.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
