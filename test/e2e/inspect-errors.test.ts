/**
 * `dbops inspect` on bad input and a damaged database, end to end: out-of-range paging flags
 * are one line saying the allowed range (exit 2), and a SQLite file with a corrupt page is an
 * integrity failure (exit 6) naming the file and the way out, not an internal error.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeTempDir, runCli } from '../support/cli.js'

describe('sqlite: inspect on bad flags and a corrupt file', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let file: string
  beforeAll(() => {
    tmp = makeTempDir()
    file = path.join(tmp.dir, 'app.db')
    const handle = new Database(file)
    handle.exec('CREATE TABLE items (id integer PRIMARY KEY, name text); CREATE INDEX items_name ON items (name)')
    const insert = handle.prepare('INSERT INTO items (name) VALUES (?)')
    handle.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run(`item-${i}-${'-'.repeat(20)}`)
    })()
    handle.close()
  })
  afterAll(() => tmp.cleanup())
  const cli = (args: string[]) => runCli(['inspect', ...args], { cwd: tmp.dir, env: { DATABASE_URL: `sqlite:///${file}` } })

  test.each([
    { args: ['--limit', '0'], message: '--limit 0: expected a whole number from 1 to 1000' },
    { args: ['--limit', '1001'], message: '--limit 1001: expected a whole number from 1 to 1000' },
    { args: ['--limit', 'ten'], message: '--limit ten: expected a whole number from 1 to 1000' },
    { args: ['--offset', '-1'], message: '--offset -1: expected a whole number from 0 to 9007199254740991' },
    { args: ['--offset', '9007199254740993'], message: '--offset 9007199254740993: expected a whole number from 0 to 9007199254740991' },
  ])('rows $args: exit 2, one line with the allowed range', async ({ args, message }) => {
    const text = await cli(['rows', 'items', ...args])
    expect(text.code).toBe(2)
    expect(text.stderr.split('\n')[0]).toBe(`error: ${message}`)
    expect(text.stderr).not.toContain('Parsing')
  })

  test('rows --limit 0 --json: the same message in the error document', async () => {
    const json = await cli(['rows', 'items', '--limit', '0', '--json'])
    expect(json.code).toBe(2)
    expect(json.json().error).toMatchObject({ code: 'USAGE', message: '--limit 0: expected a whole number from 1 to 1000' })
  })

  test('the largest exact offset still pages (an empty page)', async () => {
    const result = await cli(['rows', 'items', '--offset', '9007199254740991', '--limit', '1000', '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.json()).toMatchObject({ rows: [], offset: 9007199254740991, limit: 1000, has_more: false })
  })

  test('a corrupt page: inspect tables and rows exit 6 naming the file, with a hint', async () => {
    const pages = fs.statSync(file).size / 4096
    const fd = fs.openSync(file, 'r+')
    for (const page of [Math.floor(pages / 2), Math.floor(pages / 2) + 1]) fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096)
    fs.closeSync(fd)

    const text = await cli(['tables'])
    expect(text.code, text.stderr).toBe(6)
    expect(text.stderr).toMatch(
      new RegExp(`^error: SQLite file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt: database disk image is malformed`, 'm'),
    )
    expect(text.stderr).toMatch(/^hint: .*dbops health --deep.*backup/m)
    const json = await cli(['tables', '--json'])
    expect(json.code).toBe(6)
    expect(json.json().error).toMatchObject({ code: 'DB_CORRUPT' })
    const rows = await cli(['rows', 'items', '--limit', '1000', '--offset', '1000', '--json'])
    expect(rows.code).toBe(6)
    expect(rows.json().error).toMatchObject({ code: 'DB_CORRUPT' })
  })
})
