// `dbops migrate lint` of 200 migration files, cold, through the CLI, beside squawk on the same
// files when it is at hand (SQUAWK=path, or `squawk` on PATH; not a dependency), alternating
// in the same run. The files are the lint corpus (test/fixtures/lint/postgres) repeated.
// Target: no slower than squawk.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export default async function (ctx) {
  const dir = ctx.tmpDir('dbops-lint-bench-')
  const migrations = path.join(dir, 'migrations')
  fs.mkdirSync(migrations)
  const corpus = path.join(ctx.repoRoot, 'test', 'fixtures', 'lint', 'postgres')
  const fixtures = fs.readdirSync(corpus).sort()
  for (let i = 0; i < 200; i++) {
    const text = fs.readFileSync(path.join(corpus, fixtures[i % fixtures.length]), 'utf8')
    fs.writeFileSync(path.join(migrations, `${String(i + 1).padStart(5, '0')}_m.sql`), text)
  }
  const files = fs.readdirSync(migrations).map((f) => path.join(migrations, f))
  const squawk = process.env.SQUAWK ?? (spawnSync('squawk', ['--version']).status === 0 ? 'squawk' : undefined)
  const env = { ...process.env, DATABASE_URL: undefined, NO_COLOR: '1' }
  delete env.DATABASE_URL
  const candidates = {
    'dbops migrate lint --all (200 files)': [
      process.execPath,
      [ctx.binPath, 'migrate', 'lint', '--all', '--dialect', 'postgres', '--format', 'github'],
    ],
    ...(squawk ? { 'squawk (200 files)': [squawk, files] } : {}),
  }
  const runs = Number(process.env.BENCH_RUNS ?? 10)
  const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]))
  for (let round = 0; round < runs + 1; round++) {
    for (const [name, [command, args]] of Object.entries(candidates)) {
      const started = process.hrtime.bigint()
      // both exit non-zero when they find something, which they do here
      const result = spawnSync(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (result.status === null || result.status === 2) throw new Error(`${name} failed: ${result.stderr}`)
      if (round > 0) times[name].push(ms)
    }
  }
  for (const [name, values] of Object.entries(times))
    ctx.print(`${name.padEnd(40)} median ${ctx.median(values).toFixed(1).padStart(7)} ms  (${runs} runs)`)
  if (!squawk) ctx.print('squawk not found (set SQUAWK=path, e.g. after `npm i squawk-cli@2` in a scratch directory)')
  fs.rmSync(dir, { recursive: true, force: true })
}
