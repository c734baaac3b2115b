// Cold start: `dbops --version` and `dbops config show` beside bare `node -e 0` and a
// minimal oclif CLI (one command, no plugins), alternating in the same run. Target:
// `dbops --version` within 30 ms of the minimal oclif CLI.
//
// When NODE_EXTRA_CA_CERTS is set (this VM sets it), Node reads and parses that certificate
// bundle before running any code, in every process: `node -e 0` is timed without it too, so
// the cost is visible. It is paid alike by dbops and by the minimal oclif CLI, and not at all
// by psql or sqlite3, which the migrate bench compares against.
export default async function (ctx) {
  const [minCmd, minArgs] = ctx.minimalOclif()
  const cwd = ctx.tmpDir()
  // the default database, whatever the caller's environment names (an empty DATABASE_URL is an error)
  const env = { DATABASE_URL: undefined, NO_COLOR: '1' }
  const runs = Number(process.env.BENCH_RUNS ?? 20)
  const times = ctx.alternate(
    {
      'node -e 0': [process.execPath, ['-e', '0'], {}],
      ...(process.env.NODE_EXTRA_CA_CERTS
        ? { 'node -e 0, NODE_EXTRA_CA_CERTS unset': [process.execPath, ['-e', '0'], { env: { NODE_EXTRA_CA_CERTS: '' } }] }
        : {}),
      'minimal oclif --version': [minCmd, minArgs, {}],
      'dbops --version': [process.execPath, [ctx.binPath, '--version'], { env, cwd }],
      'dbops config show': [process.execPath, [ctx.binPath, 'config', 'show'], { env, cwd }],
      'dbops config show --json': [process.execPath, [ctx.binPath, 'config', 'show', '--json'], { env, cwd }],
    },
    runs,
  )
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, ctx.median(v)]))
  for (const [name, ms] of Object.entries(med)) ctx.print(`${name.padEnd(38)} median ${ms.toFixed(1).padStart(6)} ms  (${runs} runs)`)
  const delta = med['dbops --version'] - med['minimal oclif --version']
  ctx.print(`dbops --version − minimal oclif: ${delta.toFixed(1)} ms (target ≤ 30 ms)`)
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const extra = med['node -e 0'] - med['node -e 0, NODE_EXTRA_CA_CERTS unset']
    ctx.print(`NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS} costs every Node process ${extra.toFixed(1)} ms at start`)
  }
}
