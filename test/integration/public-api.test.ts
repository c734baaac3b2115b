/**
 * The package's API as a user gets it: `import … from 'dbops'` (this package by its own name,
 * through its `exports`, so the built dist/), not the source. Its exports are exactly the list
 * in docs/api.md ("What the package exports"), and a script's first steps work through it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import { afterEach, describe, expect, test } from 'vitest'
import * as dbops from 'dbops'
import { makeTempDir } from '../support/cli.js'
import { readMarkdown, sectionOf } from '../support/markdown.js'

/** The names docs/api.md lists under "## What the package exports", in its bullet list. */
function documentedNames(): string[] {
  const bullets = sectionOf(readMarkdown('docs/api.md'), 'What the package exports')
  return [...bullets.slice(bullets.indexOf('\n- **')).matchAll(/`([A-Za-z]\w*)`/g)].map((m) => m[1]!)
}

describe("the API, imported as 'dbops'", () => {
  const cleanups: Array<() => void> = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup()
  })

  test('exports exactly what docs/api.md lists', () => {
    expect(Object.keys(dbops).sort()).toEqual([...new Set(documentedNames())].sort())
  })

  test('config, a scoped connection, a migration run, and errors a script can catch', async () => {
    const tmp = makeTempDir()
    cleanups.push(tmp.cleanup)
    fs.mkdirSync(path.join(tmp.dir, 'migrations'))
    fs.writeFileSync(
      path.join(tmp.dir, 'migrations', '20250101000000_users.sql'),
      '-- migrate:up\nCREATE TABLE users (id integer PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n',
    )
    const config = await dbops.loadConfig({ cwd: tmp.dir, env: { DATABASE_URL: 'sqlite:///app.db' } })
    const run = await dbops.migrateUp(config)
    expect(run.error).toBeUndefined()
    expect((await dbops.getMigrationStatus(config)).head).toBe('20250101000000')
    const count = await dbops.usingDatabase(config, { mode: 'read', command: 'test' }, async (conn) => {
      const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM users`.execute(conn.db)
      return rows.rows[0]!.n
    })
    expect(count).toBe(0)
    const refused = await dbops.resolveConfig({ cwd: tmp.dir, env: { DATABASE_URL: 'mysql://h/db' } }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(dbops.ConfigError)
    expect(dbops.isDbopsError(refused) && refused.exitCode).toBe(dbops.ExitCode.usage)
  })
})
