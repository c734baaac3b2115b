import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { sha256File } from '../../src/backup/durable-file.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-hash-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('sha256File', () => {
  // 8 MiB and below are hashed in this thread, above in a worker: both sides of the line
  test.each([
    ['empty', 0],
    ['small', 1500],
    ['at the line', 8 * 1024 * 1024],
    ['over the line (worker)', 8 * 1024 * 1024 + 4096 + 7],
  ])('%s file: the sha256 of its bytes', async (_label, size) => {
    const file = path.join(dir, `f-${size}`)
    const bytes = randomBytes(size)
    fs.writeFileSync(file, bytes)
    expect(await sha256File(file)).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  test('a missing file rejects with ENOENT', async () => {
    await expect(sha256File(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
