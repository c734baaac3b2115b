// The built loader of CommonJS bundles with a V8 code cache (src/vendor/code-cache.ts), each
// load in a fresh Node process: within one process V8 remembers what it compiled and never
// consults the cache, so only a new process shows whether the cache is used.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeEach, describe, expect, test } from 'vitest'
import { repoRoot } from '../support/cli.js'

const loader = path.join(repoRoot, 'dist', 'vendor', 'code-cache.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-code-cache-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const bundle = path.join(dir, 'bundle.cjs')

/** Runs `code` (an ES module body with `loadBundle`, `writeCodeCache` and `file` in scope) in a new process; its JSON output. */
function inNewProcess(code: string, file = bundle): any {
  const script = `import { loadBundle, writeCodeCache } from ${JSON.stringify(loader)}\nconst file = process.argv[1]\n${code}`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(result.stderr)
  return JSON.parse(result.stdout)
}

const LOAD = `const { cache, exports } = loadBundle(file)
const sep = await exports.loadPath()
console.log(JSON.stringify({ cache, answer: exports.answer, where: exports.where, self: exports.self, sep }))`

beforeEach(() => {
  fs.rmSync(`${bundle}.cache`, { force: true })
  fs.writeFileSync(path.join(dir, 'helper.cjs'), 'module.exports = { twice: (n) => n * 2 }\n')
  // what a CommonJS module gets (require, module, exports as `this`, __filename, __dirname), and __import()
  fs.writeFileSync(
    bundle,
    [
      "const { twice } = require('./helper.cjs')",
      'module.exports.answer = twice(21)',
      'module.exports.where = [__filename, __dirname]',
      "module.exports.loadPath = () => __import('node:path').then((m) => m.sep)",
      "module.exports.bareImport = () => import('node:path')",
      'exports.self = this === exports',
    ].join('\n'),
  )
})

describe('loadBundle', () => {
  test('the cache written by writeCodeCache is used by the next process, with the same exports', () => {
    expect(inNewProcess('console.log(JSON.stringify(writeCodeCache(file)))')).toBeGreaterThan(0)
    expect(inNewProcess(LOAD)).toEqual({ cache: 'used', answer: 42, where: [bundle, dir], self: true, sep: path.sep })
  })

  test('without a cache: compiled from the source', () => {
    expect(inNewProcess(LOAD)).toMatchObject({ cache: 'missing', answer: 42 })
  })

  test('a cache that does not fit (another Node, a damaged file): rejected, and the bundle still loads', () => {
    fs.writeFileSync(`${bundle}.cache`, Buffer.from('not a V8 code cache'))
    expect(inNewProcess(LOAD)).toMatchObject({ cache: 'rejected', answer: 42 })
  })

  test('the cache of an older version of the bundle: rejected, and the new source runs', () => {
    inNewProcess('console.log(JSON.stringify(writeCodeCache(file)))')
    fs.appendFileSync(bundle, '\nmodule.exports.answer += 1000\n')
    expect(inNewProcess(LOAD)).toMatchObject({ cache: 'rejected', answer: 1042 })
  })

  test.each([
    ['with the cache', true],
    ['without it', false],
  ])('a bare import() fails the same way %s (Node 20 loses its callback with a cache)', (_label, cached) => {
    if (cached) inNewProcess('console.log(JSON.stringify(writeCodeCache(file)))')
    const out = inNewProcess(`const { cache, exports } = loadBundle(file)
const error = await exports.bareImport().then(() => 'none', (err) => err.code)
console.log(JSON.stringify({ cache, error }))`)
    expect(out).toEqual({ cache: cached ? 'used' : 'missing', error: 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' })
  })

  test("the build: kysely loads from its bundle with the code cache used, and FileMigrationProvider's import works", () => {
    const migrations = path.join(dir, 'kysely-migrations')
    fs.mkdirSync(migrations, { recursive: true })
    fs.writeFileSync(path.join(migrations, '001_first.mjs'), 'export async function up() {}\n')
    const kysely = path.join(repoRoot, 'dist', 'vendor', 'kysely.cjs')
    const out = inNewProcess(
      `import fs from 'node:fs'
import path from 'node:path'
const { cache, exports } = loadBundle(file)
const provider = new exports.FileMigrationProvider({ fs: fs.promises, path, migrationFolder: ${JSON.stringify(migrations)} })
const found = Object.keys(await provider.getMigrations())
console.log(JSON.stringify({ cache, sql: typeof exports.sql, Kysely: typeof exports.Kysely, found }))`,
      kysely,
    )
    expect(out).toEqual({ cache: 'used', sql: 'function', Kysely: 'function', found: ['001_first'] })
  })

  test('the build: umzug loads from its bundle with the code cache used, without its command-line interface', () => {
    const umzug = path.join(repoRoot, 'dist', 'vendor', 'umzug.cjs')
    const out = inNewProcess(
      `import { createRequire } from 'node:module'
const { cache, exports } = loadBundle(file)
const loaded = Object.keys(createRequire(file).cache)
console.log(JSON.stringify({ cache, Umzug: typeof exports.Umzug, rushstack: loaded.filter((f) => f.includes('@rushstack')).length }))`,
      umzug,
    )
    expect(out).toEqual({ cache: 'used', Umzug: 'function', rushstack: 0 })
    // the interface is ts-command-line's CommandLineParser, neither bundled nor required
    expect(fs.readFileSync(umzug, 'utf8')).not.toContain('CommandLineParser')
  })
})
