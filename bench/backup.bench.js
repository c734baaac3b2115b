// Backups: `dbops backup create` against the tools alone, alternating in the same run.
//
// SQLite: a database of BENCH_BACKUP_MB (default 500) MB, `sqlite3 DB ".backup FILE"` vs
// `dbops backup create --verify hash` (the copy, fsync and sha256) and the default
// `--verify read` (plus integrity_check, which runs beside the hash on the second core).
// Target: the copy within 1.1x of sqlite3's .backup.
// PostgreSQL: a database of BENCH_BACKUP_PG_MB (default 500, the size the issue sets for SQLite)
// MB, `pg_dump -Fc -f FILE` (the real binary, not Debian's perl pg_wrapper in front of it) vs
// `dbops backup create --verify hash` (pg_dump's stdout is the file; then fsync and sha256).
// Target: within 1.05x. The hashing and fsync times are reported separately.
// dbops' peak memory (RSS of the dbops process, from /usr/bin/time -v, else VmHWM polled from
// /proc): target flat and under 150 MB whatever the size.
// BENCH_BACKUP_RUNS (default 5) rounds of each for SQLite, BENCH_BACKUP_PG_RUNS (default 5) for
// PostgreSQL, after one warm-up round that is not counted. Ratios are given two ways: of the
// medians, and the median of each round's ratio (a round's runs share the machine's state; the
// disk makes single runs vary by ±15 %). Beside each part, "the rest": the whole run less the
// copy, fsync and hash (process start-up, connecting, preflight, the manifest), a fixed cost
// whatever the size.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { clearInterval, setInterval } from 'node:timers'
import { findPgTool } from '../dist/dialects/postgres/find-pg-tool.js'

const require = createRequire(import.meta.url)

const ms = (value) => `${value.toFixed(0).padStart(6)} ms`
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** Runs a command; resolves { ms, peakRssKb, stdout }. Peak RSS of the process itself. */
function run(command, args, { env = {}, cwd } = {}) {
  const useTime = fs.existsSync('/usr/bin/time')
  const [file, argv] = useTime ? ['/usr/bin/time', ['-v', command, ...args]] : [command, args]
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(file, argv, {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let polledKb = 0
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
            if (m) polledKb = Math.max(polledKb, Number(m[1]))
          } catch {
            // exited
          }
        }, 10)
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => {
      if (poll) clearInterval(poll)
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))
      const rss = useTime ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0) : polledKb
      resolve({ ms: elapsed, peakRssKb: rss, stdout })
    })
  })
}

/** A SQLite database of about `megabytes`: three tables of random blobs, filled in large transactions. */
function makeSqliteDatabase(file, megabytes) {
  const Database = require('better-sqlite3')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  // 4000-byte rows: one row a 4 KiB page, no overflow pages
  const rowBytes = 4000
  const rowsPerTable = Math.ceil((megabytes * 1024 * 1024) / 3 / 4096)
  for (const table of ['events', 'documents', 'attachments']) {
    db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL)`)
    const insert = db.prepare(`INSERT INTO ${table} (created_at, kind, payload) VALUES (?, ?, ?)`)
    const batch = 20_000
    for (let start = 0; start < rowsPerTable; start += batch) {
      const pool = randomBytes(rowBytes * 256)
      db.transaction(() => {
        for (let i = start; i < Math.min(rowsPerTable, start + batch); i++) {
          const at = (i * 7919) % 255
          insert.run(
            new Date(1_700_000_000_000 + i * 1000).toISOString(),
            `kind-${i % 13}`,
            pool.subarray(at * rowBytes, at * rowBytes + rowBytes),
          )
        }
      })()
    }
  }
  db.exec(`CREATE INDEX events_kind ON events (kind)`)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return fs.statSync(file).size
}

/** A PostgreSQL database of about `megabytes`: mixed rows (ints, text, timestamps, some bytea). */
async function makePostgresDatabase(adminUrl, name, megabytes) {
  const { default: pg } = await import('pg')
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const client = new pg.Client({ connectionString: url.toString() })
  client.on('error', () => undefined) // a failing query rejects; a dropped connection must not crash the run
  await client.connect()
  // ~330 bytes a row on disk
  const rows = Math.ceil((megabytes * 1024 * 1024) / 330)
  await client.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, placed_at timestamptz NOT NULL, status text NOT NULL, note text, receipt bytea)`,
  )
  const step = 200_000
  for (let start = 1; start <= rows; start += step) {
    await client.query(
      `INSERT INTO orders SELECT g, (g * 7919) % 100000, now() - (g || ' seconds')::interval,
         (ARRAY['new','paid','shipped','returned'])[1 + g % 4], repeat(md5(g::text), (4 + g % 4)::int),
         decode(md5((g * 31)::text) || md5((g * 37)::text), 'hex')
       FROM generate_series($1::bigint, $2::bigint) g`,
      [start, Math.min(rows, start + step - 1)],
    )
  }
  await client.query('CREATE INDEX orders_customer ON orders (customer)')
  await client.query('VACUUM ANALYZE orders')
  const size = Number((await client.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s)
  await client.end()
  return { url: url.toString(), size }
}

/**
 * Runs each candidate once per round, in a rotating order, each after the same reset and a
 * `sync`: the writes of one run (hundreds of MB of dirty pages) must not slow the next.
 * With `warmUp`, one round runs first and `warmUp()` then drops its figures: the first runs
 * after generating the database were up to 1.7x slower than the rest.
 */
async function alternate(candidates, rounds, reset, { warmUp } = {}) {
  const names = Object.keys(candidates)
  if (warmUp) {
    for (const name of names) {
      reset()
      spawnSync('sync')
      await candidates[name]()
    }
    warmUp()
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      reset()
      spawnSync('sync')
      await candidates[names[(i + round) % names.length]]()
    }
  }
}

function removeBackups(dir) {
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true })
}

/** The median of per-round ratios `values[i] / floor[i]`: a round's runs share the machine's state. */
function pairedRatio(ctx, values, floor) {
  return ctx.median(values.map((v, i) => v / floor[i]))
}

function summary(ctx, label, values) {
  return `${label.padEnd(44)} median ${ms(ctx.median(values))}`
}

export default async function backupBench(ctx) {
  const megabytes = Number(process.env.BENCH_BACKUP_MB ?? 500)
  const pgMegabytes = Number(process.env.BENCH_BACKUP_PG_MB ?? 500)
  const runs = Number(process.env.BENCH_BACKUP_RUNS ?? 5)
  const pgRuns = Number(process.env.BENCH_BACKUP_PG_RUNS ?? 5)
  const work = ctx.tmpDir('dbops-bench-backup-')
  try {
    // ---------------------------------------------------------------- SQLite
    const dbFile = path.join(work, 'app.db')
    let started = performance.now()
    const size = makeSqliteDatabase(dbFile, megabytes)
    ctx.print(`SQLite: ${mib(size)} database generated in ${ms(performance.now() - started)}; ${runs} rounds, alternating`)
    const out = path.join(work, 'out')
    fs.mkdirSync(out)
    const env = { DATABASE_URL: `sqlite:///${dbFile}`, NO_COLOR: '1' }
    const t = {
      sqlite3: [],
      dbopsHash: [],
      dbopsRead: [],
      copy: [],
      fsync: [],
      hash: [],
      checks: [],
      rss: [],
      rest: [],
    }
    const sqliteCandidates = {
      sqlite3: async () => {
        t.sqlite3.push((await run('sqlite3', [dbFile, `.backup ${path.join(out, 'plain.db')}`])).ms)
      },
      dbopsHash: () => timeHashedBackup(ctx, { env, cwd: work, out, total: t.dbopsHash, parts: t }),
      dbopsRead: async () => {
        const r = await run(process.execPath, [ctx.binPath, 'backup', 'create', '--json', '--dir', out], { env, cwd: work })
        t.dbopsRead.push(r.ms)
        t.checks.push(JSON.parse(r.stdout).timings.verify_ms)
        t.rss.push(r.peakRssKb)
      },
    }
    await alternate(sqliteCandidates, runs, () => removeBackups(out), {
      warmUp: () => Object.values(t).forEach((values) => values.splice(0)),
    })
    const startup = ctx.median(Array.from({ length: 5 }, () => ctx.timeProcess(process.execPath, [ctx.binPath, '--version'])))
    const floor = ctx.median(t.sqlite3)
    ctx.print(summary(ctx, 'sqlite3 .backup (floor)', t.sqlite3))
    ctx.print(`${summary(ctx, 'dbops backup create --verify hash', t.dbopsHash)}  (${(ctx.median(t.dbopsHash) / floor).toFixed(2)}x)`)
    ctx.print(
      `${'  of which: the copy (online backup API)'.padEnd(44)} median ${ms(ctx.median(t.copy))}  (${(ctx.median(t.copy) / floor).toFixed(2)}x, target ≤ 1.10x)`,
    )
    ctx.print(`${'  the copy / sqlite3, median of the rounds'.padEnd(44)} ${pairedRatio(ctx, t.copy, t.sqlite3).toFixed(2)}x`)
    ctx.print(`${'  fsync of the file'.padEnd(44)} median ${ms(ctx.median(t.fsync))}`)
    ctx.print(`${'  sha256 of the file'.padEnd(44)} median ${ms(ctx.median(t.hash))}`)
    ctx.print(`${'  the rest: start-up, preflight, manifest'.padEnd(44)} median ${ms(ctx.median(t.rest))}`)
    ctx.print(`${'  (CLI start-up alone, dbops --version)'.padEnd(44)} median ${ms(startup)}`)
    ctx.print(
      `${summary(ctx, 'dbops backup create (default --verify read)', t.dbopsRead)}  (${(ctx.median(t.dbopsRead) / floor).toFixed(2)}x)`,
    )
    ctx.print(`${'  hash + integrity_check, side by side'.padEnd(44)} median ${ms(ctx.median(t.checks))}`)
    ctx.print(`dbops peak RSS: ${(Math.max(...t.rss) / 1024).toFixed(0)} MB for a ${mib(size)} database (target < 150 MB)`)
    removeBackups(out)
    fs.rmSync(dbFile, { force: true })

    // ---------------------------------------------------------------- PostgreSQL
    const adminUrl = await ctx.pgAdminUrl()
    started = performance.now()
    const pgDb = await makePostgresDatabase(adminUrl, 'dbops_bench_backup', pgMegabytes)
    ctx.print('')
    ctx.print(`PostgreSQL: ${mib(pgDb.size)} database generated in ${ms(performance.now() - started)}; ${pgRuns} rounds, alternating`)
    // the pg_dump dbops itself picks (the real binary, not Debian's perl pg_wrapper in front of it)
    const { path: pgDump, version } = await findPgTool('pg_dump', { minMajor: undefined })
    const pgDumpVersion = `pg_dump ${version}, ${pgDump}`
    const u = new URL(pgDb.url)
    const pgEnv = {
      PGHOST: u.hostname,
      PGPORT: u.port || '5432',
      PGUSER: decodeURIComponent(u.username),
      PGPASSWORD: decodeURIComponent(u.password),
      PGDATABASE: 'dbops_bench_backup',
    }
    const p = { pgDump: [], dbops: [], copy: [], fsync: [], hash: [], rss: [], rest: [], sizes: [] }
    await alternate(
      {
        pgDump: async () => {
          const plain = path.join(out, 'plain.dump')
          p.pgDump.push((await run(pgDump, ['-Fc', '-w', '-f', plain], { env: pgEnv })).ms)
          p.sizes.push(fs.statSync(plain).size)
        },
        dbops: () => timeHashedBackup(ctx, { env: { DATABASE_URL: pgDb.url, NO_COLOR: '1' }, cwd: work, out, total: p.dbops, parts: p }),
      },
      pgRuns,
      () => removeBackups(out),
      { warmUp: () => Object.values(p).forEach((values) => values.splice(0)) },
    )
    const pgFloor = ctx.median(p.pgDump)
    ctx.print(`${summary(ctx, `pg_dump -Fc -f (floor; ${pgDumpVersion})`, p.pgDump)}  (${mib(ctx.median(p.sizes))} archive)`)
    ctx.print(`${summary(ctx, 'dbops backup create --verify hash', p.dbops)}  (${(ctx.median(p.dbops) / pgFloor).toFixed(2)}x)`)
    ctx.print(
      `${'  of which: pg_dump into the file'.padEnd(44)} median ${ms(ctx.median(p.copy))}  (${(ctx.median(p.copy) / pgFloor).toFixed(2)}x)`,
    )
    ctx.print(`${'  fsync of the file'.padEnd(44)} median ${ms(ctx.median(p.fsync))}`)
    ctx.print(`${'  sha256 of the archive'.padEnd(44)} median ${ms(ctx.median(p.hash))}`)
    ctx.print(`${'  the rest: start-up, connect, preflight, manifest'.padEnd(44)} median ${ms(ctx.median(p.rest))}`)
    // pg_dump neither hashes nor fsyncs: the whole run without those two, against it
    const unhashed = p.dbops.map((total, i) => total - p.fsync[i] - p.hash[i])
    ctx.print(
      `${'dbops less its fsync and sha256'.padEnd(44)} median ${ms(ctx.median(unhashed))}  (${(ctx.median(unhashed) / pgFloor).toFixed(2)}x, target ≤ 1.05x)`,
    )
    ctx.print(`${'  the same / pg_dump, median of the rounds'.padEnd(44)} ${pairedRatio(ctx, unhashed, p.pgDump).toFixed(2)}x`)
    const archive = path.join(
      out,
      fs.readdirSync(out).find((f) => f.endsWith('.dump')),
    )
    const hashStarted = performance.now()
    await new Promise((resolve, reject) => {
      const hash = createHash('sha256')
      fs.createReadStream(archive)
        .on('data', (d) => hash.update(d))
        .on('end', resolve)
        .on('error', reject)
    })
    ctx.print(`${'  sha256 of the archive in this process'.padEnd(44)} ${ms(performance.now() - hashStarted)}`)
    ctx.print(`dbops peak RSS: ${(Math.max(...p.rss) / 1024).toFixed(0)} MB for a ${mib(pgDb.size)} database (target < 150 MB)`)
    const { default: pg } = await import('pg')
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    await admin.query('DROP DATABASE IF EXISTS dbops_bench_backup WITH (FORCE)')
    await admin.end()
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/**
 * One `dbops backup create --verify hash --json` into `out`: its wall time into `total`, and
 * the copy, fsync and hash times it reports and its peak RSS into `parts`.
 */
async function timeHashedBackup(ctx, { env, cwd, out, total, parts }) {
  const r = await run(process.execPath, [ctx.binPath, 'backup', 'create', '--json', '--verify', 'hash', '--dir', out], { env, cwd })
  const { timings } = JSON.parse(r.stdout)
  total.push(r.ms)
  parts.copy.push(timings.copy_ms)
  parts.fsync.push(timings.fsync_ms)
  parts.hash.push(timings.hash_ms)
  parts.rss.push(r.peakRssKb)
  parts.rest.push(r.ms - timings.copy_ms - timings.fsync_ms - timings.hash_ms)
}
