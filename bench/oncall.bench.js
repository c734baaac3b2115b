// On-call: `dbops health` end to end (process start, config, connect, every check, exit) on
// SQLite and PostgreSQL, beside the minimal oclif CLI's `--version`, alternating in the same
// run. Target: each within 120 ms of the minimal oclif CLI. `dbops wait` (connect + SELECT 1)
// is printed beside it, so the cost of the checks can be told from the cost of connecting;
// `dbops pool` and `dbops inspect tables` on PostgreSQL for reference.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export default async function (ctx) {
  const runs = Number(process.env.BENCH_RUNS ?? 15)
  const [minCmd, minArgs] = ctx.minimalOclif()

  // SQLite: a WAL file with a table, like an application's
  const dir = ctx.tmpDir()
  const file = path.join(dir, 'app.db')
  const Database = require('better-sqlite3')
  const handle = new Database(file)
  handle.pragma('journal_mode = WAL')
  handle.exec("CREATE TABLE users (id integer PRIMARY KEY, email text); INSERT INTO users (email) VALUES ('a@example.com')")
  handle.close()

  // PostgreSQL: a database of its own on the bench cluster
  const pg = require('pg')
  const adminUrl = await ctx.pgAdminUrl()
  const dbName = `dbops_bench_oncall_${process.pid}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`)
  await admin.query(`CREATE DATABASE ${dbName}`)
  const pgUrl = new URL(adminUrl)
  pgUrl.pathname = `/${dbName}`
  try {
    // no backup job in a bench: the backup check is off, so a healthy run exits 0
    const common = { NO_COLOR: '1', DBOPS_HEALTH_BACKUP_AGE_HOURS: 'off', DBOPS_HEALTH_CONNECTIONS_PCT: 'off' }
    const sqliteEnv = { ...common, DATABASE_URL: `sqlite:///${file}` }
    const pgEnv = { ...common, DATABASE_URL: pgUrl.toString() }
    const dbops = (args, env) => [process.execPath, [ctx.binPath, ...args], { env, cwd: dir }]
    const times = ctx.alternate(
      {
        'minimal oclif --version': [minCmd, minArgs, {}],
        // the foundation's floor for a command that connects: config, dialect, kysely, one login
        'dbops wait (sqlite)': dbops(['wait', '--timeout', '5'], sqliteEnv),
        'dbops wait (postgres)': dbops(['wait', '--timeout', '5'], pgEnv),
        'dbops health (sqlite)': dbops(['health'], sqliteEnv),
        'dbops health --json (sqlite)': dbops(['health', '--json'], sqliteEnv),
        'dbops health (postgres)': dbops(['health'], pgEnv),
        'dbops pool (postgres)': dbops(['pool', '--connections', '5'], pgEnv),
        'dbops inspect tables (postgres)': dbops(['inspect', 'tables'], pgEnv),
      },
      runs,
    )
    const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, ctx.median(v)]))
    for (const [name, ms] of Object.entries(med)) ctx.print(`${name.padEnd(34)} median ${ms.toFixed(1).padStart(7)} ms  (${runs} runs)`)
    const floor = med['minimal oclif --version']
    for (const dialect of ['sqlite', 'postgres']) {
      const health = med[`dbops health (${dialect})`]
      ctx.print(
        `dbops health (${dialect}) − minimal oclif: ${(health - floor).toFixed(1)} ms (target ≤ 120 ms); ` +
          `− dbops wait (${dialect}): ${(health - med[`dbops wait (${dialect})`]).toFixed(1)} ms (the checks themselves)`,
      )
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
