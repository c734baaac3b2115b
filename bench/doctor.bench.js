// Doctor: `dbops doctor` end to end (process start, config, connect, every PostgreSQL check,
// exit) on a generated database of 300 tables and 600 indexes (a primary key and one
// secondary index each, a foreign key on every other table, a few hundred rows, analyzed),
// interleaved with Debian's check_postgres running the peer actions on the same database.
// Target: dbops doctor under 1 s. Exit codes are findings here (the database has unused
// indexes and FKs without index on purpose), so runs are timed whatever they exit with.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const TABLES = 300
const CHECK_POSTGRES_ACTIONS = [
  'txn_wraparound',
  'sequence',
  'bloat',
  'last_vacuum',
  'last_analyze',
  'txn_idle',
  'txn_time',
  'locks',
  'replication_slots',
  'backends',
]

function timeRun(command, args, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.error || result.status === null) throw new Error(`${command} failed: ${result.error ?? result.signal}`)
  return { ms, status: result.status, stdout: String(result.stdout) }
}

export default async function (ctx) {
  const runs = Number(process.env.BENCH_RUNS ?? 10)
  const pg = require('pg')
  const bench = await ctx.pgBenchDatabase(`dbops_bench_doctor_${process.pid}`)
  const dbName = bench.name
  const url = new URL(bench.url)
  try {
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    const ddl = []
    for (let i = 0; i < TABLES; i++) {
      const fk = i % 2 === 1 ? `, parent_id bigint REFERENCES t${i - 1} (id)` : ''
      ddl.push(`CREATE TABLE t${i} (id bigserial PRIMARY KEY, name text, created timestamptz DEFAULT now()${fk});`)
      ddl.push(`CREATE INDEX t${i}_name ON t${i} (name);`)
      ddl.push(`INSERT INTO t${i} (name) SELECT 'n' || g FROM generate_series(1, 200) g;`)
    }
    await client.query(ddl.join('\n'))
    await client.query('ANALYZE')
    const { rows } = await client.query(
      "SELECT (SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace) AS tables, (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') AS indexes",
    )
    await client.end()
    ctx.print(`database: ${rows[0].tables} tables, ${rows[0].indexes} indexes`)

    // Debian's check-postgres package: the peer, left out (and said so) where it is not installed
    const hasCheckPostgres = !spawnSync('check_postgres', ['--version']).error
    if (!hasCheckPostgres) ctx.print('check_postgres not installed (apt-get install check-postgres): timing dbops alone')
    const env = { NO_COLOR: '1', DATABASE_URL: url.toString() }
    const cpEnv = {
      PGHOST: url.hostname,
      PGPORT: url.port,
      PGUSER: decodeURIComponent(url.username),
      PGPASSWORD: decodeURIComponent(url.password),
      PGDATABASE: dbName,
    }
    const cpArgs = (action) => [`--action=${action}`, `--dbname=${dbName}`, '--no-check_postgresrc']
    const times = { 'dbops wait (floor)': [], 'dbops doctor': [], 'dbops doctor --json': [], 'check_postgres (10 actions)': [] }
    let concurrency
    for (let round = 0; round < runs + 1; round++) {
      // the floor: process start, config, one login, SELECT 1
      const floor = timeRun(process.execPath, [ctx.binPath, 'wait', '--timeout', '5'], env)
      const plain = timeRun(process.execPath, [ctx.binPath, 'doctor'], env)
      const json = timeRun(process.execPath, [ctx.binPath, 'doctor', '--json'], env)
      concurrency = JSON.parse(json.stdout).concurrency
      let cp = 0
      if (hasCheckPostgres) for (const action of CHECK_POSTGRES_ACTIONS) cp += timeRun('check_postgres', cpArgs(action), cpEnv).ms
      if (round === 0) continue // warm-up
      times['dbops wait (floor)'].push(floor.ms)
      times['dbops doctor'].push(plain.ms)
      times['dbops doctor --json'].push(json.ms)
      if (hasCheckPostgres) times['check_postgres (10 actions)'].push(cp)
    }
    for (const [name, values] of Object.entries(times).filter(([, v]) => v.length > 0)) {
      ctx.print(
        `${name.padEnd(30)} median ${ctx.median(values).toFixed(1).padStart(7)} ms  max ${Math.max(...values)
          .toFixed(1)
          .padStart(7)} ms  (${runs} runs)`,
      )
    }
    const med = ctx.median(times['dbops doctor'])
    const over = med - ctx.median(times['dbops wait (floor)'])
    ctx.print(
      `dbops doctor: ${med.toFixed(0)} ms end to end on ${concurrency} connections, ${over.toFixed(0)} ms over dbops wait (target < 1000 ms): ${med < 1000 ? 'met' : 'NOT met'}`,
    )
  } finally {
    await bench.drop()
  }
}
