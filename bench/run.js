// `npm run bench`: runs every bench/*.bench.js in name order against the built dist/ and
// prints figures. Each bench module's default export gets the context below. Speed is
// measured here, never asserted in tests.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.dirname(benchDir)
const workDir = path.join(benchDir, '.work')
fs.mkdirSync(workDir, { recursive: true })
const binPath = path.join(repoRoot, 'bin', 'run.js')

/** Median of numbers. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** This process's environment with `env` laid over it; an `undefined` value removes the variable. */
function withEnv(env = {}) {
  const merged = { ...process.env, ...env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name]
  return merged
}

/** Wall-clock ms of one process run; throws if it fails. */
function timeProcess(command, args, { env, cwd } = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, { env: withEnv(env), cwd: cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

/**
 * Times several commands alternating, round by round, so drift in machine load hits all of
 * them alike. `candidates` is { name: [command, args, options] }. Returns { name: ms[] }.
 */
function alternate(candidates, runs = 15, warmup = 2) {
  const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]))
  for (let round = 0; round < runs + warmup; round++) {
    for (const [name, [command, args, options]] of Object.entries(candidates)) {
      const ms = timeProcess(command, args, options)
      if (round >= warmup) times[name].push(ms)
    }
  }
  return times
}

let cluster
let minimal
const ctx = {
  repoRoot,
  binPath,
  workDir,
  print: (line = '') => console.log(line),
  median,
  timeProcess,
  alternate,
  /** ms of `dbops ARGS`, `runs` times. */
  timeCli(args, { env, cwd, runs = 10 } = {}) {
    return Array.from({ length: runs }, () => timeProcess(process.execPath, [binPath, ...args], { env, cwd }))
  },
  /** Superuser URL of a throwaway PostgreSQL cluster (TEST_DATABASE_URL when set). */
  async pgAdminUrl() {
    if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL
    if (!cluster) {
      const { startPgCluster } = await import('./.work/harness/pg-cluster.js')
      cluster = await startPgCluster()
    }
    return cluster.url
  },
  /**
   * Runs a command under /usr/bin/time -v; resolves { ms, peakRssKb, stdout, stderr, code }
   * (peak RSS of the process itself; NaN without /usr/bin/time). Never rejects on an exit code.
   */
  runMeasured(command, args, { env = {}, cwd } = {}) {
    const useTime = fs.existsSync('/usr/bin/time')
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint()
      const child = spawn(useTime ? '/usr/bin/time' : command, useTime ? ['-v', command, ...args] : args, {
        env: withEnv(env),
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c) => (stdout += c))
      child.stderr.on('data', (c) => (stderr += c))
      child.on('error', reject)
      child.on('close', (code) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6
        const peak = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
        resolve({ ms, peakRssKb: peak ? Number(peak[1]) : NaN, stdout, stderr, code })
      })
    })
  },
  /**
   * A new, empty PostgreSQL database on the bench's server: { name, url, admin (a connected
   * superuser pg.Client), drop() (ends the sessions on it, drops it, closes admin) }.
   */
  async pgBenchDatabase(name) {
    const adminUrl = await ctx.pgAdminUrl()
    const { default: pg } = await import('pg')
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return {
      name,
      url: url.toString(),
      admin,
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await admin.end()
      },
    }
  },
  /** A fresh temp dir. */
  tmpDir(prefix = 'dbops-bench-') {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  },
  /**
   * The minimal oclif CLI (one command, no plugins, a manifest) built on this repo's
   * @oclif/core: [command, args] to run `--version` on it.
   */
  minimalOclif() {
    minimal ??= buildMinimalOclif()
    return minimal
  },
}

function buildMinimalOclif() {
  const dir = path.join(workDir, 'minimal-oclif')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'commands'), { recursive: true })
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'minimal',
      version: '1.0.0',
      type: 'module',
      oclif: { bin: 'minimal', commands: './commands', topicSeparator: ' ' },
    }),
  )
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'))
  fs.writeFileSync(
    path.join(dir, 'commands', 'hello.js'),
    "import { Command } from '@oclif/core'\nexport default class Hello extends Command {\n  static description = 'hi'\n  async run() { this.log('hello') }\n}\n",
  )
  fs.writeFileSync(path.join(dir, 'bin', 'run.js'), "import { execute } from '@oclif/core'\nawait execute({ dir: import.meta.url })\n")
  // the same manifest step as ours, so neither side scans commands at start-up
  const script = `import fs from 'node:fs'; import { Config } from '@oclif/core'
const config = await Config.load({ root: ${JSON.stringify(dir)} })
const plugin = config.getPluginsList().find((p) => p.isRoot)
fs.writeFileSync(${JSON.stringify(path.join(dir, 'oclif.manifest.json'))}, JSON.stringify({ ...plugin.manifest, version: '1.0.0' }))`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, stdio: 'inherit' })
  if (result.status !== 0) throw new Error('could not build the minimal oclif CLI')
  return [process.execPath, [path.join(dir, 'bin', 'run.js'), '--version']]
}

// The test harness is TypeScript; compile the one file the bench needs.
function prepareHarness() {
  const out = path.join(workDir, 'harness')
  const result = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--outDir',
      out,
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022',
      '--skipLibCheck',
      '--types',
      'node',
      path.join(repoRoot, 'test', 'support', 'pg-cluster.ts'),
    ],
    { stdio: 'inherit' },
  )
  if (result.status !== 0) throw new Error('could not compile test/support/pg-cluster.ts')
}

const only = process.argv.slice(2)
const files = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
prepareHarness()
console.log(`dbops bench — ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}`)
try {
  for (const file of files) {
    console.log(`\n## ${file.replace('.bench.js', '')}`)
    const mod = await import(path.join(benchDir, file))
    await mod.default(ctx)
  }
} finally {
  if (cluster) await cluster.stop()
}
