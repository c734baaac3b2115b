// The cost of `migrate up`'s gate (lint of the pending migrations, and the target's facts when
// an error-level finding needs them), both dialects: `migrate up` of 200 pending migrations
// with the gate and with `--no-lint`, alternating round by round, each run into a fresh
// database that already holds one small applied table. Each migration creates a table and a
// plain index on it (new: no finding); every tenth also indexes the existing table without
// CONCURRENTLY (an error-level finding the target's facts downgrade: the table is small), so
// both the lint and the catalog read are in the figure. PostgreSQL also into an empty
// database, which the gate does not lint (nothing there to lock). Medians; totals include
// process start.
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'

const MIGRATIONS = 200
const RUNS = Number(process.env.BENCH_GATE_RUNS ?? 7)
const SEED = '20240101000000_existing.sql'

function writeMigrations(dir) {
  const migrations = path.join(dir, 'migrations')
  fs.mkdirSync(migrations, { recursive: true })
  fs.writeFileSync(
    path.join(migrations, SEED),
    "-- migrate:up\nCREATE TABLE existing (id integer PRIMARY KEY, note text);\nINSERT INTO existing VALUES (1, 'a'), (2, 'b');\n",
  )
  for (let i = 0; i < MIGRATIONS; i++) {
    const version = String(20250101000000 + i)
    const lines = [
      `CREATE TABLE bench_${i} (id integer PRIMARY KEY, name text NOT NULL);`,
      `CREATE INDEX bench_${i}_name ON bench_${i} (name);`,
    ]
    if (i % 10 === 0) lines.push(`CREATE INDEX existing_note_${i} ON existing (note);`)
    fs.writeFileSync(path.join(migrations, `${version}_bench_${i}.sql`), `-- migrate:up\n${lines.join('\n')}\n`)
  }
}

const fmt = (ms) => `${Math.round(ms)} ms`

export default async function gateBench(ctx) {
  ctx.print(`gate: migrate up of ${MIGRATIONS} pending migrations, with the gate and with --no-lint, ${RUNS} alternating rounds, medians`)
  const dir = ctx.tmpDir()
  writeMigrations(dir)
  const report = (label, times) => {
    const gate = ctx.median(times.gate)
    const off = ctx.median(times.off)
    const diffs = times.gate.map((ms, i) => ms - times.off[i])
    ctx.print(
      `  ${label}: with gate ${fmt(gate)}, --no-lint ${fmt(off)}; gate adds ${fmt(gate - off)} (${(((gate - off) / off) * 100).toFixed(1)}%), median of round differences ${fmt(ctx.median(diffs))}`,
    )
  }

  // SQLite: a seeded file copied fresh for every run
  const seeded = path.join(dir, 'seed.db')
  ctx.timeCli(['migrate', 'up', '--to', SEED.split('_')[0]], { cwd: dir, env: { DATABASE_URL: `sqlite:///${seeded}` }, runs: 1 })
  const sqliteTimes = { gate: [], off: [] }
  for (let round = 0; round < RUNS + 1; round++) {
    for (const [name, extra] of [
      ['gate', []],
      ['off', ['--no-lint']],
    ]) {
      const file = path.join(dir, `run-${round}-${name}.db`)
      fs.copyFileSync(seeded, file)
      const [ms] = ctx.timeCli(['migrate', 'up', ...extra], { cwd: dir, env: { DATABASE_URL: `sqlite:///${file}` }, runs: 1 })
      if (round > 0) sqliteTimes[name].push(ms)
      fs.rmSync(file, { force: true })
    }
  }
  report('sqlite', sqliteTimes)

  // PostgreSQL: a fresh database per run, seeded (untimed) before the timed run
  const adminUrl = await ctx.pgAdminUrl()
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  // seeded: the worst case (every file linted); empty: a CI database, where the gate lints nothing
  const pgTimes = { seeded: { gate: [], off: [] }, empty: { gate: [], off: [] } }
  try {
    for (let round = 0; round < RUNS + 1; round++) {
      for (const target of ['seeded', 'empty']) {
        for (const [name, extra] of [
          ['gate', []],
          ['off', ['--no-lint']],
        ]) {
          const db = `dbops_bench_gate_${name}`
          await admin.query(`DROP DATABASE IF EXISTS ${db}`)
          await admin.query(`CREATE DATABASE ${db}`)
          const url = new URL(adminUrl)
          url.pathname = `/${db}`
          const env = { DATABASE_URL: url.toString() }
          if (target === 'seeded') ctx.timeCli(['migrate', 'up', '--to', SEED.split('_')[0]], { cwd: dir, env, runs: 1 })
          const [ms] = ctx.timeCli(['migrate', 'up', ...extra], { cwd: dir, env, runs: 1 })
          if (round > 0) pgTimes[target][name].push(ms)
          await admin.query(`DROP DATABASE IF EXISTS ${db}`)
        }
      }
    }
  } finally {
    await admin.end()
  }
  report('postgres, a small table applied before (every file linted)', pgTimes.seeded)
  report('postgres, empty database (not linted: nothing to lock)', pgTimes.empty)
  fs.rmSync(dir, { recursive: true, force: true })
}
