// Migrations benchmark (issue 3), both dialects, medians over several runs alternating with
// the floor measured in the same run:
//  - 200 small migrations (each one CREATE TABLE) applied by `dbops migrate up`, beside the
//    same statements applied by psql / sqlite3, one transaction per migration with a tracking
//    row (SQLite floor with dbops' pragmas: WAL, synchronous NORMAL, foreign keys on);
//  - `migrate status` on 200 applied and `migrate down --step 1`, beside a minimal oclif CLI,
//    COMMAND_RUNS rounds of the three; the difference is given both as the difference of the
//    medians and as the median of each round's difference.
// Totals include process start-up on both sides; "marginal" subtracts each side's run with
// nothing to do (dbops: `migrate up` on the migrated database; floor: an empty script).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'

const MIGRATIONS = 200
const RUNS = Number(process.env.BENCH_MIGRATE_RUNS ?? 5)
// status and down sit within ±15 ms of their target, and single runs vary by more: more rounds
const COMMAND_RUNS = Number(process.env.BENCH_MIGRATE_COMMAND_RUNS ?? 15)

function writeMigrations(dir) {
  const migrations = path.join(dir, 'migrations')
  fs.mkdirSync(migrations, { recursive: true })
  const statements = []
  for (let i = 0; i < MIGRATIONS; i++) {
    const version = String(20250101000000 + i)
    const statement = `CREATE TABLE bench_${i} (id integer PRIMARY KEY, name text NOT NULL)`
    statements.push({ version, name: `${version}_bench_${i}.sql`, statement })
    fs.writeFileSync(
      path.join(migrations, `${version}_bench_${i}.sql`),
      `-- migrate:up\n${statement};\n\n-- migrate:down\nDROP TABLE bench_${i};\n`,
    )
  }
  return statements
}

/** The floor's script: one transaction per migration, each with its tracking row. */
function floorScript(statements, dialect) {
  const now = dialect === 'postgres' ? 'clock_timestamp()' : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
  const lines = dialect === 'sqlite' ? ['PRAGMA journal_mode = WAL;', 'PRAGMA synchronous = NORMAL;', 'PRAGMA foreign_keys = ON;'] : []
  lines.push('CREATE TABLE tracking (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at text NOT NULL);')
  for (const s of statements) {
    lines.push(
      'BEGIN;',
      `${s.statement};`,
      `INSERT INTO tracking VALUES ('${s.version}', '${s.name}', '${'0'.repeat(64)}', ${now});`,
      'COMMIT;',
    )
  }
  return `${lines.join('\n')}\n`
}

function timeSpawn(command, args, options) {
  const started = performance.now()
  const result = spawnSync(command, args, { encoding: 'utf8', ...options })
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr}`)
  return ms
}

/** psql's arguments and environment for `url`, the password in PGPASSWORD rather than on the command line. */
function psql(args, url) {
  const parsed = new URL(url)
  const password = decodeURIComponent(parsed.password)
  parsed.password = ''
  return timeSpawn('psql', [...args, parsed.toString()], {
    env: { ...process.env, PGPASSWORD: password },
  })
}

const fmt = (ms) => `${Math.round(ms)} ms`
const ratio = (a, b) => `${(a / b).toFixed(2)}x`

export default async function migrateBench(ctx) {
  ctx.print(`migrate: ${MIGRATIONS} migrations, ${RUNS} runs each, medians`)
  const dir = ctx.tmpDir()
  const statements = writeMigrations(dir)
  const emptyScript = path.join(dir, 'empty.sql')
  fs.writeFileSync(emptyScript, 'SELECT 1;\n')

  // the floor for status and down: a minimal oclif CLI's cold start, measured beside each
  const [minCmd, minArgs] = ctx.minimalOclif()
  const oclifFloor = async () => ctx.timeProcess(minCmd, minArgs)
  ctx.print('  oclif floor: minimal oclif CLI (one command, no plugins) --version')
  // what any Node program pays before its first line, which psql and sqlite3 do not
  const nodeStart = ctx.median(Array.from({ length: RUNS }, () => ctx.timeProcess(process.execPath, ['-e', '0'])))
  ctx.print(
    `  node -e 0 alone: ${fmt(nodeStart)}${process.env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS is set: see the cli bench)' : ''}`,
  )

  // SQLite
  {
    const script = path.join(dir, 'floor-sqlite.sql')
    fs.writeFileSync(script, floorScript(statements, 'sqlite'))
    const dbops = []
    const floor = []
    for (let run = 0; run < RUNS; run++) {
      const file = path.join(dir, `sqlite-${run}.db`)
      dbops.push(
        ...ctx.timeCli(['migrate', 'up'], {
          cwd: dir,
          env: { DATABASE_URL: `sqlite:///${file}` },
          runs: 1,
        }),
      )
      const floorFile = path.join(dir, `floor-${run}.db`)
      floor.push(timeSpawn('sqlite3', [floorFile], { input: fs.readFileSync(script, 'utf8') }))
    }
    const last = `sqlite:///${path.join(dir, `sqlite-${RUNS - 1}.db`)}`
    const dbopsIdle = ctx.median(ctx.timeCli(['migrate', 'up'], { cwd: dir, env: { DATABASE_URL: last }, runs: RUNS }))
    const floorIdle = ctx.median(
      Array.from({ length: RUNS }, () => timeSpawn('sqlite3', [path.join(dir, 'idle.db')], { input: 'SELECT 1;\n' })),
    )
    const d = ctx.median(dbops)
    const f = ctx.median(floor)
    ctx.print(
      `  sqlite up ${MIGRATIONS}: dbops ${fmt(d)}, sqlite3 floor ${fmt(f)} (${ratio(d, f)}); marginal ${fmt(d - dbopsIdle)} vs ${fmt(f - floorIdle)} (${ratio(d - dbopsIdle, f - floorIdle)})`,
    )
    await reportCommands(ctx, 'sqlite', dir, { DATABASE_URL: last }, oclifFloor)
  }

  // PostgreSQL
  {
    const adminUrl = await ctx.pgAdminUrl()
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    const created = []
    const database = async (name) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.query(`CREATE DATABASE ${name}`)
      created.push(name)
      // each run starts with the server's dirty pages written out and the OS's flushed: the
      // writes of the previous run (hundreds of catalog pages) must not slow the next
      await admin.query('CHECKPOINT')
      spawnSync('sync')
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      return url.toString()
    }
    try {
      const script = path.join(dir, 'floor-pg.sql')
      fs.writeFileSync(script, floorScript(statements, 'postgres'))
      const dbops = []
      const floor = []
      let last
      for (let run = 0; run < RUNS; run++) {
        last = await database(`bench_migrate_dbops_${run}`)
        dbops.push(...ctx.timeCli(['migrate', 'up'], { cwd: dir, env: { DATABASE_URL: last }, runs: 1 }))
        const floorUrl = await database(`bench_migrate_floor_${run}`)
        floor.push(psql(['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script], floorUrl))
      }
      const dbopsIdle = ctx.median(ctx.timeCli(['migrate', 'up'], { cwd: dir, env: { DATABASE_URL: last }, runs: RUNS }))
      const floorIdle = ctx.median(Array.from({ length: RUNS }, () => psql(['-X', '-q', '-f', emptyScript], last)))
      const d = ctx.median(dbops)
      const f = ctx.median(floor)
      ctx.print(
        `  postgres up ${MIGRATIONS}: dbops ${fmt(d)}, psql floor ${fmt(f)} (${ratio(d, f)}); marginal ${fmt(d - dbopsIdle)} vs ${fmt(f - floorIdle)} (${ratio(d - dbopsIdle, f - floorIdle)})`,
      )
      await reportCommands(ctx, 'postgres', dir, { DATABASE_URL: last }, oclifFloor)
    } finally {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined)
      await admin.end()
    }
  }
}

/** `migrate status` on 200 applied and `migrate down --step 1` (each run rolls back one more), beside the oclif floor. */
async function reportCommands(ctx, dialect, cwd, env, oclifFloor) {
  const status = []
  const down = []
  const floor = []
  for (let run = 0; run < COMMAND_RUNS; run++) {
    floor.push(await oclifFloor())
    status.push(...ctx.timeCli(['migrate', 'status'], { cwd, env, runs: 1 }))
    down.push(...ctx.timeCli(['migrate', 'down', '--step', '1'], { cwd, env, runs: 1 }))
  }
  const f = ctx.median(floor)
  const s = ctx.median(status)
  const d = ctx.median(down)
  const byRound = (values) => ctx.median(values.map((v, i) => v - floor[i]))
  ctx.print(
    `  ${dialect} status (${MIGRATIONS} applied): ${fmt(s)}, down --step 1: ${fmt(d)}; oclif floor ${fmt(f)} (+${fmt(s - f)}, +${fmt(d - f)}; by round +${fmt(byRound(status))}, +${fmt(byRound(down))}; target +120 ms; ${COMMAND_RUNS} rounds)`,
  )
}
