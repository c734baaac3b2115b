/**
 * Running the built CLI as a user would: `node bin/run.js ARGS` in a working directory,
 * with a controlled environment, capturing stdout, stderr and the exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'

/** The repository root. */
export const repoRoot = path.resolve(import.meta.dirname, '..', '..')
/** The CLI entry point. */
export const binPath = path.join(repoRoot, 'bin', 'run.js')

/** What a CLI run produced. */
export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (throws if it is not exactly one JSON document). */
  json<T = any>(): T
}

/** Options of {@link runCli}. */
export interface CliOptions {
  cwd?: string
  /** Added to a clean environment (PATH, HOME, and no DATABASE_* / PG* from the caller). */
  env?: Record<string, string | undefined>
  /** Kill the run after this many ms (a hang is a failure, not a pass). Default 30 s. */
  timeoutMs?: number
  uid?: number
  gid?: number
  /** Called with the child once it is spawned (to send signals). */
  onSpawn?: (child: ChildProcess) => void
}

/** A clean environment: the caller's database settings never leak into a test. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SYSTEMROOT']) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value
  return env
}

/** Runs `dbops ARGS` and resolves when it exits. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`dbops ${args.join(' ')} did not exit within ${options.timeoutMs ?? 30_000} ms\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    options.onSpawn?.(child)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout,
        stderr,
        json() {
          return JSON.parse(stdout)
        },
      })
    })
  })
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function makeTempDir(prefix = 'dbops-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Polls `check` until it returns true (a hang is a failure, not a pass). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Starts the CLI, collecting stderr as it comes, so a test can act while it runs (`exited()` says whether it has). */
export function startCli(args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs?: number }) {
  let child: ChildProcess | undefined
  let stderr = ''
  let exited = false
  const done = runCli(args, {
    ...options,
    onSpawn: (c) => {
      child = c
      c.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    },
  }).finally(() => (exited = true))
  return { done, child: () => child!, stderr: () => stderr, exited: () => exited }
}

/**
 * The error contract of a failing command without `--json`: nothing on stdout, one `error:`
 * line matching `message`, one `hint:` line, nothing else (no stack, no "report a bug").
 */
export function expectOneLineError(result: CliResult, message: RegExp): void {
  expect(result.stdout).toBe('')
  const lines = result.stderr.trim().split('\n')
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(message)
  expect(lines[1]).toMatch(/^hint: /)
  expect(lines).toHaveLength(2)
  expect(result.stderr).not.toMatch(/report a bug|report it|bug in dbops|\n\s+at /)
}
