/**
 * Every command example in docs/ runs, with the built CLI, as docs/README.md ("How the
 * examples are tested") says: one fresh scratch project per page, `console` blocks in page
 * order, `postgres` blocks against a fresh database on the test server; each command's exit
 * code and the output lines the page shows are checked.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { binPath, makeTempDir } from '../support/cli.js'
import { exampleSteps, missingOutputLine } from '../support/doc-examples.js'
import { docsPages, readMarkdown } from '../support/markdown.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

/** A directory holding a `dbops` that runs the built CLI, put first on PATH. */
let shim: ReturnType<typeof makeTempDir>
beforeAll(() => {
  shim = makeTempDir('dbops-docs-bin-')
  fs.writeFileSync(path.join(shim.dir, 'dbops'), `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`, { mode: 0o755 })
})
afterAll(() => shim.cleanup())

/**
 * Runs one shell line in `cwd`, stdout and stderr as one stream, as a terminal shows them.
 * A line still running after 30 s is killed with everything it started (its process group).
 */
function runLine(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `exec 2>&1\n${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
    let output = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => (output += chunk))
    const timer = setTimeout(() => {
      output += '\n(killed after 30 s)'
      process.kill(-child.pid!, 'SIGKILL')
    }, 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

const pages = docsPages()
  .map(readMarkdown)
  .map((page) => ({ page, steps: exampleSteps(page) }))
  .filter(({ steps }) => steps.some((step) => step.kind === 'run'))

describe('the command examples in docs/', () => {
  test('most pages have some, and each page runs dbops', () => {
    expect(pages.length).toBeGreaterThan(3)
    for (const { page, steps } of pages) {
      expect(
        steps.some((step) => step.kind === 'run' && /\bdbops\b/.test(step.command)),
        page.file,
      ).toBe(true)
    }
  })

  for (const { page, steps } of pages) {
    test.concurrent(
      `${page.file}: each example exits as shown and prints the lines shown`,
      async () => {
        const project = makeTempDir('dbops-docs-')
        let database: TestDatabase | undefined
        try {
          for (const step of steps) {
            if (step.kind === 'file') {
              const target = path.join(project.dir, step.path)
              fs.mkdirSync(path.dirname(target), { recursive: true })
              fs.writeFileSync(target, step.content)
              continue
            }
            const env: Record<string, string> = {
              PATH: `${shim.dir}:${process.env.PATH ?? ''}`,
              HOME: process.env.HOME ?? project.dir,
              LANG: 'C.UTF-8',
              TMPDIR: process.env.TMPDIR ?? '/tmp',
              NO_COLOR: '1',
            }
            if (step.postgres) {
              database ??= await createTestDatabase(inject('pgAdminUrl'), 'dbops_docs')
              env.DATABASE_URL = database.url
            }
            const result = await runLine(step.command, project.dir, env)
            const where = `${page.file}:${step.line}: $ ${step.command}\n--- output ---\n${result.output}`
            expect(result.code, where).toBe(step.exitCode)
            expect(missingOutputLine(step.output, result.output), `line not in the output of ${where}`).toBeUndefined()
          }
        } finally {
          await database?.drop()
          project.cleanup()
        }
      },
      // a hang guard: a page is ~15 commands of ~0.5 s CPU each, run beside the other pages
      180_000,
    )
  }
})
