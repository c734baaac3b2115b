// Peers: dbops beside the tools a team would pick instead, on the same migrations, interleaved
// round by round (each round runs every tool once, in turn), medians and per-pair ratios.
//   `npm run bench -- peers`   (BENCH_PEERS_N=200,1000  BENCH_PEERS_RUNS=7  BENCH_PEERS_DIALECTS=sqlite,postgres)
// Peers, installed on first use into a scratch directory outside the project (never in our
// package.json): knex with pg and better-sqlite3, node-pg-migrate (PostgreSQL only), and the npm
// `dbmate` package, which ships dbmate's Go binary. dbops runs dbmate's files unchanged; knex and
// node-pg-migrate get the same statements in their own file formats, one migration per file.
// Operations: cold start (--version), apply N from empty, status with N applied, no-op up,
// down 1 (then up again, untimed). Peak RSS from /usr/bin/time. Each tool keeps its defaults
// (dbops' SQLite pragmas are WAL + synchronous NORMAL; knex's better-sqlite3 uses SQLite's).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

const SCRATCH = process.env.BENCH_PEERS_DIR ?? path.join(os.tmpdir(), 'dbops-peers')
const PEER_PACKAGES = ['knex@3', 'pg@8', 'better-sqlite3@12', 'node-pg-migrate', 'dbmate']
const COUNTS = (process.env.BENCH_PEERS_N ?? '200,1000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_PEERS_RUNS ?? 7)
const DIALECTS = (process.env.BENCH_PEERS_DIALECTS ?? 'sqlite,postgres').split(',')
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

/** Installs the peers into the scratch directory once; returns the path of each peer's binary. */
function installPeers(ctx) {
  const bin = (name) => path.join(SCRATCH, 'node_modules', '.bin', name)
  if (!['knex', 'node-pg-migrate', 'dbmate'].every((name) => fs.existsSync(bin(name)))) {
    ctx.print(`  installing peers into ${SCRATCH}: ${PEER_PACKAGES.join(' ')}`)
    fs.mkdirSync(SCRATCH, { recursive: true })
    const manifest = { private: true, allowScripts: { 'better-sqlite3': true, dbmate: true } }
    fs.writeFileSync(path.join(SCRATCH, 'package.json'), JSON.stringify(manifest))
    const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...PEER_PACKAGES], { cwd: SCRATCH, stdio: 'inherit' })
    if (result.status !== 0) throw new Error('could not install the peers')
  }
  const version = (name) => JSON.parse(fs.readFileSync(path.join(SCRATCH, 'node_modules', name, 'package.json'), 'utf8')).version
  ctx.print(`  peers: knex ${version('knex')}, node-pg-migrate ${version('node-pg-migrate')}, dbmate ${version('dbmate')}`)
  // the Go binary itself: node_modules/.bin/dbmate is a Node launcher that would add Node's start-up
  const goBinary = path.join(SCRATCH, 'node_modules', '@dbmate', `${process.platform}-${process.arch}`, 'bin', 'dbmate')
  return { knex: bin('knex'), nodePgMigrate: bin('node-pg-migrate'), dbmate: fs.existsSync(goBinary) ? goBinary : bin('dbmate') }
}

/** N migrations in each tool's own format, the same statements: one table and one index each. */
function writeMigrations(dir, count) {
  const dirs = { dbmate: path.join(dir, 'db', 'migrations'), knex: path.join(dir, 'knex'), npm: path.join(dir, 'npm') }
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true })
  for (let i = 0; i < count; i++) {
    const version = String(20250101000000 + i)
    const up = [`CREATE TABLE bench_${i} (id integer PRIMARY KEY, name text NOT NULL)`, `CREATE INDEX bench_${i}_name ON bench_${i} (name)`]
    const down = `DROP TABLE bench_${i}`
    fs.writeFileSync(
      path.join(dirs.dbmate, `${version}_bench_${i}.sql`),
      `-- migrate:up\n${up.join(';\n')};\n\n-- migrate:down\n${down};\n`,
    )
    const js = (call) =>
      `exports.up = async (db) => {\n${up.map((s) => `  await db.${call}(${JSON.stringify(s)})`).join('\n')}\n}\n` +
      `exports.down = async (db) => {\n  await db.${call}(${JSON.stringify(down)})\n}\n`
    fs.writeFileSync(path.join(dirs.knex, `${version}_bench_${i}.js`), js('raw'))
    fs.writeFileSync(path.join(dirs.npm, `${version}_bench_${i}.js`), js('sql'))
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}')
  fs.writeFileSync(
    path.join(dir, 'knexfile.js'),
    `module.exports = {
  client: process.env.KNEX_CLIENT,
  connection: process.env.KNEX_CLIENT === 'pg' ? process.env.DATABASE_URL : { filename: process.env.SQLITE_FILE },
  useNullAsDefault: true,
  migrations: { directory: './knex' },
}\n`,
  )
  return dirs
}

/** ms and peak RSS (kB) of one process run; throws if it fails. */
function measure(command, args, { env, cwd }) {
  const [file, argv] = TIME ? [TIME, ['-f', '%M', command, ...args]] : [command, args]
  const started = process.hrtime.bigint()
  const result = spawnSync(file, argv, { env: { ...process.env, ...env }, cwd, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0)
    throw new Error(`${path.basename(command)} ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(-1500)}`)
  const rssKb = TIME ? Number(result.stderr.trim().split('\n').at(-1)) : NaN
  return { ms, rssKb }
}

/**
 * The tools for one dialect: for each, the command of every operation. `target` is what
 * `reset()` made empty; each entry is [command, args, env].
 */
function toolsFor(dialect, peers, ctx, target) {
  const node = process.execPath
  // every tool gets the same URL; on PostgreSQL it says sslmode=disable (the server has no TLS):
  // dbmate refuses to connect without it, knex's pg never tries TLS unless told, and dbops, like
  // libpq, would otherwise try TLS first and log in a second time when the server says no
  const url = dialect === 'sqlite' ? target.url : withSslDisabled(target.url)
  const dbops = (...args) => [node, [ctx.binPath, ...args], { DATABASE_URL: url, DBOPS_MIGRATIONS_DIR: 'db/migrations' }]
  const knexEnv = { KNEX_CLIENT: dialect === 'sqlite' ? 'better-sqlite3' : 'pg', SQLITE_FILE: target.file, DATABASE_URL: url }
  const knex = (...args) => [peers.knex, ['--knexfile', 'knexfile.js', ...args], knexEnv]
  const dbmateUrl = dialect === 'sqlite' ? `sqlite:${target.file}` : url
  const dbmate = (...args) => [peers.dbmate, ['--url', dbmateUrl, '--no-dump-schema', ...args], {}]
  const npm = (...args) => [peers.nodePgMigrate, ['-m', 'npm', '--no-check-order', ...args], { DATABASE_URL: url }]
  const tools = {
    dbops: { version: dbops('--version'), up: dbops('migrate', 'up'), status: dbops('migrate', 'status'), down: dbops('migrate', 'down') },
    knex: { version: knex('--version'), up: knex('migrate:latest'), status: knex('migrate:status'), down: knex('migrate:down') },
    dbmate: { version: dbmate('--version'), up: dbmate('up'), status: dbmate('status'), down: dbmate('rollback') },
  }
  if (dialect === 'postgres') {
    // node-pg-migrate has no status command
    tools['node-pg-migrate'] = { version: npm('--version'), up: npm('up'), down: npm('down') }
  }
  return tools
}

/** dbmate asks for TLS unless told; the local server has none. */
function withSslDisabled(url) {
  const u = new URL(url)
  if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'disable')
  return u.toString()
}

/** One empty database per tool per dialect, and a reset that empties it again. */
async function targets(ctx, dialect, dir, names) {
  if (dialect === 'sqlite') {
    const made = Object.fromEntries(
      names.map((name) => {
        const file = path.join(dir, `${name}.db`)
        return [name, { file, url: `sqlite:///${file}` }]
      }),
    )
    const reset = async (name) => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${made[name].file}${suffix}`, { force: true })
    }
    return { made, reset, close: async () => undefined }
  }
  const adminUrl = await ctx.pgAdminUrl()
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const made = Object.fromEntries(
    names.map((name) => {
      const url = new URL(adminUrl)
      url.pathname = `/bench_peers_${name.replace(/-/g, '_')}`
      return [name, { url: url.toString(), database: url.pathname.slice(1) }]
    }),
  )
  const reset = async (name) => {
    await admin.query(`DROP DATABASE IF EXISTS ${made[name].database} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${made[name].database}`)
  }
  const close = async () => {
    for (const t of Object.values(made)) await admin.query(`DROP DATABASE IF EXISTS ${t.database} WITH (FORCE)`)
    await admin.end()
  }
  return { made, reset, close }
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`)

/** Prints one table: an operation per row, a tool per column, then dbops' ratio to each peer. */
function printTable(ctx, title, rows, toolNames) {
  ctx.print(`\n  ${title}`)
  const peers = toolNames.filter((t) => t !== 'dbops')
  const header = ['operation', ...toolNames, ...peers.map((p) => `dbops/${p}`)]
  const lines = rows.map((row) => [
    row.op,
    ...toolNames.map((t) => (row[t] ? `${fmtMs(row[t].ms)} ${Math.round(row[t].rssKb / 1024)} MB` : '—')),
    ...peers.map((p) => (row[p] && row.dbops ? `${(row.dbops.ms / row[p].ms).toFixed(2)}×` : '—')),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmtLine = (cells) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`
  ctx.print(fmtLine(header))
  for (const l of lines) ctx.print(fmtLine(l))
}

/** Medians of ms and of peak RSS over the samples. */
function summarise(ctx, samples) {
  return { ms: ctx.median(samples.map((s) => s.ms)), rssKb: ctx.median(samples.map((s) => s.rssKb)) }
}

async function benchDialect(ctx, dialect, peers, dir) {
  const toolNames = dialect === 'postgres' ? ['dbops', 'knex', 'node-pg-migrate', 'dbmate'] : ['dbops', 'knex', 'dbmate']
  const dbs = await targets(ctx, dialect, dir, toolNames)
  try {
    const rows = []
    for (const count of COUNTS) {
      const cwd = path.join(dir, `n${count}`)
      writeMigrations(cwd, count)
      const tools = Object.fromEntries(toolNames.map((t) => [t, toolsFor(dialect, peers, ctx, dbs.made[t])[t]]))
      const run = (tool, op) => {
        const [command, args, env] = tools[tool][op]
        return measure(command, args, { env, cwd })
      }
      const samples = (ops) => Object.fromEntries(ops.map((op) => [op, Object.fromEntries(toolNames.map((t) => [t, []]))]))
      const applied = samples(['up'])
      for (let round = 0; round < RUNS; round++) {
        for (const tool of toolNames) {
          await dbs.reset(tool)
          applied.up[tool].push(run(tool, 'up'))
        }
      }
      rows.push({ op: `apply ${count} from empty`, ...mapValues(applied.up, (s) => summarise(ctx, s)) })
      if (count !== COUNTS[0]) continue
      // every tool's database now holds N applied migrations
      const ops = ['version', 'status', 'noop', 'down']
      const other = samples(ops)
      for (let round = 0; round < RUNS; round++) {
        for (const op of ops) {
          for (const tool of toolNames) {
            const step = op === 'noop' ? 'up' : op
            if (!tools[tool][step]) continue
            other[op][tool].push(run(tool, step))
            if (op === 'down') run(tool, 'up') // back to N applied, untimed
          }
        }
      }
      const label = { version: 'cold start (--version)', status: `status, ${count} applied`, noop: 'no-op up', down: 'down 1' }
      for (const op of ops) {
        const measured = Object.fromEntries(Object.entries(other[op]).filter(([, s]) => s.length > 0))
        rows.push({ op: label[op], ...mapValues(measured, (s) => summarise(ctx, s)) })
      }
    }
    printTable(ctx, `${dialect} — medians of ${RUNS} interleaved rounds (time, peak RSS)`, rows, toolNames)
  } finally {
    await dbs.close()
  }
}

/**
 * `--version` of each tool beside the floors, interleaved round by round: `node -e 0` (what every
 * Node tool pays before its first line) and a one-command oclif CLI with a manifest (what
 * oclif adds to that). The column "above node" is the part that is each tool's own.
 */
function coldStart(ctx, peers) {
  const [oclifCommand, oclifArgs] = ctx.minimalOclif()
  const runs = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'minimal oclif CLI': [oclifCommand, oclifArgs],
    dbops: [process.execPath, [ctx.binPath, '--version']],
    knex: [peers.knex, ['--version']],
    dbmate: [peers.dbmate, ['--version']],
  }
  const samples = mapValues(runs, () => [])
  for (let round = 0; round < RUNS; round++) {
    for (const [name, [command, args]] of Object.entries(runs)) samples[name].push(measure(command, args, { cwd: SCRATCH }))
  }
  const medians = mapValues(samples, (s) => summarise(ctx, s))
  const node = medians['node -e 0'].ms
  ctx.print(`\n  cold start — medians of ${RUNS} interleaved rounds`)
  ctx.print(`  ${'run'.padEnd(20)} ${'time'.padStart(8)} ${'above node'.padStart(11)} ${'peak RSS'.padStart(9)}`)
  for (const [name, m] of Object.entries(medians)) {
    const above = name === 'dbmate' ? '(Go)' : name === 'node -e 0' ? '' : `+${Math.round(m.ms - node)} ms`
    ctx.print(`  ${name.padEnd(20)} ${fmtMs(m.ms).padStart(8)} ${above.padStart(11)} ${`${Math.round(m.rssKb / 1024)} MB`.padStart(9)}`)
  }
}

const mapValues = (object, fn) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, fn(v)]))

export default async function peersBench(ctx) {
  ctx.print(`peers: apply N = ${COUNTS.join(', ')}; ${RUNS} rounds; ${DIALECTS.join(', ')}`)
  const peers = installPeers(ctx)
  coldStart(ctx, peers)
  // inside the scratch directory, so the peers' CLIs find their own packages (knex needs its local copy)
  const dir = fs.mkdtempSync(path.join(SCRATCH, 'run-'))
  try {
    for (const dialect of DIALECTS) await benchDialect(ctx, dialect, peers, path.join(dir, dialect))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
