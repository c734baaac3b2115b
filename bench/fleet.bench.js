// Fleet: 100 tenant databases × 20 migrations, from empty to migrated, in one run, interleaved:
//   dbops migrate up --fleet bench --concurrency 4
//   dbmate once per database in a shell loop (sequential)
//   xargs -P 4 of dbmate (four at once)
// dbmate comes from the npm `dbmate` package in a scratch directory (DBMATE_BIN, default its
// native binary under /tmp/peers/node_modules/@dbmate/; `cd /tmp/peers && npm i dbmate`), never from package.json.
// Between runs every database is emptied (public dropped and recreated), so each run does the same work.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'

const DATABASES = Number(process.env.FLEET_BENCH_DATABASES ?? 100)
const MIGRATIONS = 20
const ROUNDS = Number(process.env.FLEET_BENCH_ROUNDS ?? 3)

export default async function fleetBench(ctx) {
  // the Go binary itself, not the package's Node wrapper around it (which adds a Node start per database)
  const native = `/tmp/peers/node_modules/@dbmate/${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}/bin/dbmate`
  const dbmate = process.env.DBMATE_BIN ?? (fs.existsSync(native) ? native : '/tmp/peers/node_modules/.bin/dbmate')
  if (!fs.existsSync(dbmate)) {
    ctx.print(`skipped: no dbmate at ${dbmate} (cd /tmp/peers && npm i dbmate, or set DBMATE_BIN)`)
    return
  }
  const admin = await ctx.pgAdminUrl()
  const dir = ctx.tmpDir('dbops-bench-fleet-')
  const migrations = path.join(dir, 'migrations')
  fs.mkdirSync(migrations)
  for (let i = 1; i <= MIGRATIONS; i++) {
    const version = `202501010000${String(i).padStart(2, '0')}`
    fs.writeFileSync(
      path.join(migrations, `${version}_t${i}.sql`),
      `-- migrate:up\nCREATE TABLE t${i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX t${i}_name ON t${i} (name);\n\n-- migrate:down\nDROP TABLE t${i};\n`,
    )
  }
  const names = Array.from({ length: DATABASES }, (_, i) => `dbops_bench_fleet_${process.pid}_${i}`)
  const urlOf = (name) => {
    const u = new URL(admin)
    u.pathname = `/${name}`
    u.searchParams.set('sslmode', 'disable')
    return u.toString()
  }
  fs.writeFileSync(path.join(dir, 'tenants.txt'), `${names.map(urlOf).join('\n')}\n`)
  fs.writeFileSync(path.join(dir, 'dbops.config.json'), JSON.stringify({ fleets: { bench: { urlsFile: 'tenants.txt' } } }))

  const adminClient = new pg.Client({ connectionString: admin })
  await adminClient.connect()
  const started = Date.now()
  for (const name of names) await adminClient.query(`CREATE DATABASE ${name}`)
  ctx.print(
    `${DATABASES} databases created in ${((Date.now() - started) / 1000).toFixed(1)} s; ${MIGRATIONS} migrations each, ${ROUNDS} rounds`,
  )

  const reset = async () => {
    for (const name of names) {
      const client = new pg.Client({ connectionString: urlOf(name) })
      await client.connect()
      await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
      await client.end()
    }
  }
  const dbmateArgs = `--no-dump-schema --migrations-dir ${JSON.stringify(migrations)} migrate`
  const candidates = {
    'dbops --concurrency 4': [process.execPath, [ctx.binPath, 'migrate', 'up', '--fleet', 'bench', '--concurrency', '4', '--quiet']],
    'dbmate loop (sequential)': [
      'sh',
      ['-c', `while read -r url; do ${dbmate} --url "$url" ${dbmateArgs} >/dev/null || exit 1; done < tenants.txt`],
    ],
    'xargs -P 4 dbmate': ['sh', ['-c', `xargs -P 4 -I{} ${dbmate} --url {} ${dbmateArgs} < tenants.txt >/dev/null`]],
  }
  const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, [command, args]] of Object.entries(candidates)) {
        await reset()
        times[name].push(ctx.timeProcess(command, args, { cwd: dir }))
        // every database really migrated
        const check = spawnSync(process.execPath, [ctx.binPath, 'migrate', 'status', '--url', urlOf(names.at(-1)), '--json'], {
          cwd: dir,
          encoding: 'utf8',
        })
        if (name.startsWith('dbops') && JSON.parse(check.stdout).summary.applied !== MIGRATIONS)
          throw new Error(`${name} did not apply every migration`)
      }
    }
  } finally {
    for (const name of names) await adminClient.query(`DROP DATABASE IF EXISTS ${name}`)
    await adminClient.end()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const xargs = ctx.median(times['xargs -P 4 dbmate'])
  for (const [name, ms] of Object.entries(times)) {
    const m = ctx.median(ms)
    ctx.print(
      `${name.padEnd(26)} median ${(m / 1000).toFixed(2)} s  (${ms.map((t) => (t / 1000).toFixed(2)).join(', ')})  ${(m / xargs).toFixed(2)}× xargs -P 4`,
    )
  }
}
