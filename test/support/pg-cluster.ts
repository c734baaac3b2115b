import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A throwaway PostgreSQL server started by {@link startPgCluster}. */
export interface PgCluster {
  /** Superuser URL over TCP (scram-sha-256): `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`. */
  url: string
  /** The TCP port the server listens on, on 127.0.0.1 only. */
  port: number
  /** The cluster's data directory (PGDATA); it lives inside a temporary directory that `stop()` removes. */
  dataDir: string
  /** The directory of its Unix socket (`local` connections are trusted). */
  socketDir: string
  /** The server's log file (connections are logged when it serves TLS). */
  logFile: string
  /** Stops the server (`pg_ctl stop -m immediate`) and removes its temporary directory. Safe to call twice. */
  stop(): Promise<void>
}

/** Options of {@link startPgCluster}. */
export interface PgClusterOptions {
  /**
   * Serve TLS with this certificate and key (PEM files; copied into the cluster's directory),
   * and log each connection, so a test can see from the log whether it was encrypted.
   */
  tls?: { cert: string; key: string }
}

/** Where the server binaries of one PostgreSQL installation are. */
export interface PgBinaries {
  pgCtl: string
  initdb: string
}

/** The superuser `initdb -U` creates; the same name whether or not we run as root. */
const SUPERUSER = 'postgres'
/** Unix socket paths are limited to ~107 bytes (sun_path); `.s.PGSQL.NNNNN.lock` needs 20 of them. */
const MAX_SOCKET_DIR_LENGTH = 80
/** Attempts when the free port we picked is taken before the server binds it. */
const START_ATTEMPTS = 3

/**
 * Finds `pg_ctl` and `initdb`: both on PATH if they are there, else the highest
 * version under `/usr/lib/postgresql/<version>/bin`, where Debian's `postgresql`
 * package installs them (off PATH, behind `pg_ctlcluster`). Returns `undefined`
 * when neither place has both, so a caller can skip or explain.
 */
export function findPgBinaries(): PgBinaries | undefined {
  const pgCtl = findOnPath('pg_ctl')
  const initdb = findOnPath('initdb')
  if (pgCtl && initdb) return { pgCtl, initdb }

  const debianRoot = '/usr/lib/postgresql'
  let versions: string[]
  try {
    versions = readdirSync(debianRoot)
  } catch {
    return undefined
  }
  // numeric sort, so that 10 > 9.6 and 16 > 15
  versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
  for (const version of versions) {
    const bin = path.join(debianRoot, version, 'bin')
    const candidate = { pgCtl: path.join(bin, 'pg_ctl'), initdb: path.join(bin, 'initdb') }
    if (isExecutable(candidate.pgCtl) && isExecutable(candidate.initdb)) return candidate
  }
  return undefined
}

/**
 * Starts a private PostgreSQL server for tests: a fresh cluster in a temporary
 * directory, listening on a free port on 127.0.0.1, with scram-sha-256 for TCP
 * logins (so a wrong password really fails) and a random superuser password.
 * Durability is switched off (`fsync`, `synchronous_commit`, `full_page_writes`)
 * because the data is thrown away.
 *
 * As root (CI containers), `initdb` and the server refuse to run, so both run as an
 * existing unprivileged user (`postgres` if there is one, else `nobody`) through
 * `runuser`, and the temporary directory is handed to that user.
 *
 * A process exit hook stops clusters that were not stopped, so a crashed test run
 * does not leave servers behind.
 *
 * @example
 * const cluster = await startPgCluster()
 * try { await useDatabase(cluster.url) } finally { await cluster.stop() }
 */
export async function startPgCluster({ tls }: PgClusterOptions = {}): Promise<PgCluster> {
  const binaries = findPgBinaries()
  if (!binaries) {
    throw new Error(
      'PostgreSQL server binaries not found: no pg_ctl and initdb on PATH nor in /usr/lib/postgresql/*/bin. ' +
        'Install them (Debian: apt-get install postgresql) or set TEST_DATABASE_URL to an existing server.',
    )
  }
  const runner = await createRunner()

  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dbops-pg-'))
  const dataDir = path.join(rootDir, 'data')
  const logFile = path.join(rootDir, 'server.log')
  const pwFile = path.join(rootDir, 'pwfile')
  let socketDir = path.join(rootDir, 's')
  let extraSocketRoot: string | undefined
  if (socketDir.length > MAX_SOCKET_DIR_LENGTH) {
    // a long TMPDIR (macOS) would overflow sun_path; /tmp keeps the path short
    extraSocketRoot = await fs.mkdtemp('/tmp/dbops-s-')
    socketDir = extraSocketRoot
  }

  const removeDirs = (): void => {
    rmSync(rootDir, { recursive: true, force: true })
    if (extraSocketRoot) rmSync(extraSocketRoot, { recursive: true, force: true })
  }

  try {
    if (socketDir !== extraSocketRoot) await fs.mkdir(socketDir, { mode: 0o700 })
    const password = randomBytes(18).toString('hex')
    // the password file must be readable by whoever runs initdb, and by nobody else
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 })
    const tlsFiles = tls && { cert: path.join(rootDir, 'server.crt'), key: path.join(rootDir, 'server.key') }
    if (tls && tlsFiles) {
      await fs.copyFile(tls.cert, tlsFiles.cert)
      // the server refuses a key that others can read
      await fs.copyFile(tls.key, tlsFiles.key)
      await fs.chmod(tlsFiles.key, 0o600)
    }
    await runner.own(rootDir)
    if (extraSocketRoot) await runner.own(extraSocketRoot)
    await runner.assertCanWrite(rootDir)

    const init = await runner.run(
      binaries.initdb,
      [
        '-D',
        dataDir,
        '-U',
        SUPERUSER,
        `--pwfile=${pwFile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C',
      ],
      { cwd: rootDir, timeoutMs: 120_000 },
    )
    await fs.rm(pwFile, { force: true })
    if (init.code !== 0) {
      throw new Error(`initdb failed (${describeExit(init)}) as ${runner.user}:\n${tail(init.output, 40)}`)
    }

    let port = 0
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort()
      const options = [
        '-c listen_addresses=127.0.0.1',
        `-p ${port}`,
        `-k '${socketDir}'`,
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=100',
        ...(tlsFiles
          ? ['-c ssl=on', `-c ssl_cert_file='${tlsFiles.cert}'`, `-c ssl_key_file='${tlsFiles.key}'`, '-c log_connections=on']
          : []),
      ].join(' ')
      const start = await runner.run(binaries.pgCtl, ['start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', options], {
        cwd: rootDir,
        timeoutMs: 90_000,
      })
      if (start.code === 0) break
      const log = await readTail(logFile, 40)
      // another process may have taken the port between our probe and the server's bind
      if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(log)) {
        await fs.rm(logFile, { force: true })
        continue
      }
      // pg_ctl may give up on -w while the postmaster still runs: make sure it is gone
      await runner.run(binaries.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], {
        cwd: rootDir,
        timeoutMs: 30_000,
      })
      throw new Error(
        `PostgreSQL failed to start on port ${port} (pg_ctl: ${describeExit(start)}).\n` +
          `pg_ctl output:\n${tail(start.output, 20)}\nserver log, last lines:\n${log}`,
      )
    }

    const stopSync = (): void => {
      runner.runSync(binaries.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], rootDir)
      removeDirs()
    }
    liveClusters.add(stopSync)
    installExitHook()

    let stopping: Promise<void> | undefined
    return {
      url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      socketDir,
      logFile,
      stop() {
        stopping ??= (async () => {
          liveClusters.delete(stopSync)
          const stop = await runner.run(binaries.pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], {
            cwd: rootDir,
            timeoutMs: 60_000,
          })
          // a server that is already gone is what we wanted; anything else is worth hearing about
          if (stop.code !== 0 && existsSync(path.join(dataDir, 'postmaster.pid'))) {
            throw new Error(`pg_ctl stop failed (${describeExit(stop)}):\n${tail(stop.output, 20)}`)
          }
          await fs.rm(rootDir, { recursive: true, force: true })
          if (extraSocketRoot) await fs.rm(extraSocketRoot, { recursive: true, force: true })
        })()
        return stopping
      },
    }
  } catch (err) {
    removeDirs()
    throw err
  }
}

/** Stop functions of clusters still running, for the exit hook. */
const liveClusters = new Set<() => void>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const stopSync of liveClusters) {
      try {
        stopSync()
      } catch {
        // best effort at exit: nothing left to report to
      }
    }
  })
}

interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  /** stdout and stderr interleaved. */
  output: string
}

/** Runs PostgreSQL's tools either directly or, as root, as an unprivileged user. */
interface Runner {
  /** The OS user the server runs as. */
  user: string
  run(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<RunResult>
  runSync(command: string, args: string[], cwd: string): void
  own(dir: string): Promise<void>
  assertCanWrite(dir: string): Promise<void>
}

async function createRunner(): Promise<Runner> {
  const isRoot = process.getuid?.() === 0
  if (!isRoot) {
    return {
      user: os.userInfo().username,
      run: (command, args, options) => runProcess(command, args, options),
      runSync: (command, args, cwd) => {
        spawnSync(command, args, { cwd, env: childEnv(), stdio: 'ignore', timeout: 30_000 })
      },
      own: async () => {},
      assertCanWrite: async () => {},
    }
  }

  // initdb and postgres refuse to run as root
  const account = findAccount('postgres') ?? findAccount('nobody')
  if (!account) {
    throw new Error('Running as root, but neither a "postgres" nor a "nobody" user exists to run PostgreSQL as.')
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(isExecutable) ?? findOnPath('runuser')
  const wrap = (command: string, args: string[]): [string, string[]] => {
    if (runuser) return [runuser, ['-u', account.name, '--', command, ...args]]
    // su needs an explicit shell: nobody's login shell is nologin
    return ['su', ['-s', '/bin/sh', account.name, '-c', [command, ...args].map(shellQuote).join(' ')]]
  }

  const runner: Runner = {
    user: account.name,
    run: (command, args, options) => runProcess(...wrap(command, args), options),
    runSync: (command, args, cwd) => {
      const [cmd, wrapped] = wrap(command, args)
      spawnSync(cmd, wrapped, { cwd, env: childEnv(), stdio: 'ignore', timeout: 30_000 })
    },
    own: async (dir) => {
      await chownRecursive(dir, account.uid, account.gid)
    },
    assertCanWrite: async (dir) => {
      const probe = await runner.run('/bin/sh', ['-c', 'test -w "$1" && test -x "$1"', 'sh', dir], {
        cwd: '/',
        timeoutMs: 30_000,
      })
      if (probe.code !== 0) {
        throw new Error(
          `Running as root, PostgreSQL runs as "${account.name}", who cannot write ${dir} ` +
            `(is a parent directory of TMPDIR private?). Point TMPDIR at a directory others can enter, such as /tmp.` +
            (probe.output ? `\n${tail(probe.output, 10)}` : ''),
        )
      }
    },
  }
  return runner
}

function runProcess(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = ''
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    })
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', (err) => resolve({ code: null, signal: null, output: `${output}${String(err)}\n` }))
    child.on('close', (code, signal) => resolve({ code, signal, output }))
  })
}

/** The environment for PostgreSQL's tools, without PG* variables that could point them elsewhere. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value
  }
  return env
}

function findAccount(name: string): { name: string; uid: number; gid: number } | undefined {
  let passwd: string
  try {
    passwd = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return undefined
  }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':')
    if (fields[0] === name && fields.length >= 4) {
      return { name, uid: Number(fields[2]), gid: Number(fields[3]) }
    }
  }
  return undefined
}

async function chownRecursive(target: string, uid: number, gid: number): Promise<void> {
  await fs.chown(target, uid, gid)
  const stat = await fs.lstat(target)
  if (!stat.isDirectory()) return
  for (const entry of await fs.readdir(target)) {
    await chownRecursive(path.join(target, entry), uid, gid)
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Asks the OS for a free port on 127.0.0.1. The server binds it moments later; a lost race is retried. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('could not read the port of a probe socket'))
        return
      }
      server.close(() => resolve(address.port))
    })
  })
}

async function readTail(file: string, lines: number): Promise<string> {
  try {
    return tail(await fs.readFile(file, 'utf8'), lines)
  } catch (err) {
    return `(could not read the log: ${String(err)})`
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

function describeExit(result: RunResult): string {
  return result.signal ? `killed by ${result.signal}` : `exit code ${String(result.code)}`
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}
