// Cold start: `dbops --version` and `dbops config show` beside bare `node -e 0` and a
// minimal oclif CLI (one command, no plugins), alternating in the same run. Target:
// `dbops --version` within 30 ms of the minimal oclif CLI.
export default async function (ctx) {
  const [minCmd, minArgs] = ctx.minimalOclif()
  const cwd = ctx.tmpDir()
  const env = { DATABASE_URL: '', NO_COLOR: '1' }
  const runs = Number(process.env.BENCH_RUNS ?? 20)
  const times = ctx.alternate(
    {
      'node -e 0': [process.execPath, ['-e', '0'], {}],
      'minimal oclif --version': [minCmd, minArgs, {}],
      'dbops --version': [process.execPath, [ctx.binPath, '--version'], { env, cwd }],
      'dbops config show': [process.execPath, [ctx.binPath, 'config', 'show'], { env, cwd }],
      'dbops config show --json': [process.execPath, [ctx.binPath, 'config', 'show', '--json'], { env, cwd }],
    },
    runs,
  )
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, ctx.median(v)]))
  for (const [name, ms] of Object.entries(med)) ctx.print(`${name.padEnd(28)} median ${ms.toFixed(1).padStart(6)} ms  (${runs} runs)`)
  const delta = med['dbops --version'] - med['minimal oclif --version']
  ctx.print(`dbops --version − minimal oclif: ${delta.toFixed(1)} ms (target ≤ 30 ms)`)
}
