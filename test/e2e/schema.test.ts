/**
 * `schema diff` and `schema pull` end to end: the built CLI against real SQLite files and the
 * test PostgreSQL, checking stdout, stderr, JSON and exit codes, and every bad-models path
 * (exit 2, the file named, no stack trace).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import Database from 'better-sqlite3'
import pg from 'pg'
import { makeTempDir, runCli } from '../support/cli.js'
import { createTestDatabase } from '../support/postgres.js'

/** One error line and one hint line, no stack trace. */
function expectOneLineError(stderr: string, message: RegExp) {
  const lines = stderr.trim().split('\n')
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(message)
  expect(lines[1]).toMatch(/^hint: /)
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe('schema diff on a scaffolded SQLite project', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeAll(() => {
    tmp = makeTempDir()
  })
  afterAll(() => tmp.cleanup())

  test('init scaffolds models.ts; diff lists the changes, --exit-code exits 3, --json and --sql agree', async () => {
    expect((await runCli(['init'], { cwd: tmp.dir })).code).toBe(0)
    expect(fs.readFileSync(path.join(tmp.dir, 'models.ts'), 'utf8')).toContain('export const users = table(')
    fs.mkdirSync(path.join(tmp.dir, 'data'))
    const handle = new Database(path.join(tmp.dir, 'data', 'app.db'))
    handle.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL, name TEXT, legacy TEXT); INSERT INTO users (email) VALUES ('a@b.c'); CREATE VIEW v AS SELECT id FROM users",
    )
    handle.close()

    const text = await runCli(['schema', 'diff'], { cwd: tmp.dir })
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('+ create table posts (5 columns)')
    expect(text.stdout).toMatch(/- drop column users\.legacy \[data loss\]/)
    expect(text.stdout).toMatch(/\+ add unique users\(email\) \[destructive\]/)
    expect(text.stdout).toMatch(/changes from the database to models\.ts, 1 with data loss, \d+ destructive/)
    expect(text.stderr).toContain('not managed by dbops: view v')

    const json = await runCli(['schema', 'diff', '--json', '--exit-code'], { cwd: tmp.dir })
    expect(json.code).toBe(3)
    const doc = json.json()
    expect(doc).toMatchObject({ against: 'live', dialect: 'sqlite', models: 'models.ts', differs: true, summary: { data_loss: 1 } })
    expect(doc.changes.find((c: { kind: string }) => c.kind === 'drop_column')).toMatchObject({
      table: 'users',
      severity: 'data_loss',
      column: { name: 'legacy' },
    })
    expect(doc.unmanaged).toEqual([{ kind: 'view', name: 'v' }])
    expect(doc.sql).toContain('PRAGMA foreign_keys = OFF;')

    const sql = await runCli(['schema', 'diff', '--sql'], { cwd: tmp.dir })
    expect(sql.code).toBe(0)
    expect(sql.stdout.trim()).toBe(doc.sql.trim())
    // the script does what it says: run it, and the database matches the models
    const db = new Database(path.join(tmp.dir, 'data', 'app.db'))
    db.exec(sql.stdout)
    db.close()
    const after = await runCli(['schema', 'diff', '--exit-code'], { cwd: tmp.dir })
    expect(after.code).toBe(0)
    expect(after.stdout).toBe('No differences: the database matches models.ts.\n')
  })

  test('an undeclared likely rename is a warning on stderr; --rename decides', async () => {
    const dir = makeTempDir()
    try {
      fs.writeFileSync(
        path.join(dir.dir, 'models.ts'),
        "import { col, defineModels, table } from 'dbops'\nexport default defineModels({ t: table('t', { id: col.integer().primaryKey(), full_name: col.text() }) })\n",
      )
      const handle = new Database(path.join(dir.dir, 'app.db'))
      handle.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
      handle.close()
      const env = { DATABASE_URL: 'sqlite:///app.db' }
      const guessed = await runCli(['schema', 'diff', '--models', 'models.ts'], { cwd: dir.dir, env })
      expect(guessed.stderr).toContain('warning: looks like a rename of t.name to full_name')
      expect(guessed.stdout).toContain('- drop column t.name [data loss]')
      const decided = await runCli(['schema', 'diff', '--models', 'models.ts', '--rename', 't.name=full_name'], { cwd: dir.dir, env })
      expect(decided.stdout).toContain('~ rename column t.name → full_name [destructive]')
      expect(decided.stderr).not.toContain('warning')
      const bad = await runCli(['schema', 'diff', '--models', 'models.ts', '--rename', 'nonsense', '--json'], { cwd: dir.dir, env })
      expect(bad.code).toBe(2)
      expect(bad.json().error.code).toBe('RENAME_INVALID')
    } finally {
      dir.cleanup()
    }
  })
})

describe('bad models', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeAll(() => {
    tmp = makeTempDir()
    new Database(path.join(tmp.dir, 'app.db')).close()
  })
  afterAll(() => tmp.cleanup())

  const env = { DATABASE_URL: 'sqlite:///app.db' }
  const write = (name: string, text: string) => fs.writeFileSync(path.join(tmp.dir, name), text)

  test.each([
    { name: 'missing file', file: 'nope.ts', text: undefined, code: 'MODELS_FILE_MISSING', message: /Models file nope\.ts does not exist/ },
    {
      name: 'fails to load',
      file: 'syntax.ts',
      text: "import { table } from 'dbops'\nexport const x = table('x', {\n",
      code: 'MODELS_LOAD_FAILED',
      message: /Could not load models syntax\.ts: .*line \d+/,
    },
    {
      name: 'throws while loading',
      file: 'throws.ts',
      text: "throw new Error('boom')\n",
      code: 'MODELS_LOAD_FAILED',
      message: /Could not load models throws\.ts: boom/,
    },
    {
      name: 'exports nothing recognisable',
      file: 'empty.ts',
      text: 'export const answer = 42\n',
      code: 'MODELS_EMPTY',
      message: /empty\.ts exports no tables/,
    },
    {
      name: 'two tables with one name',
      file: 'dupe.ts',
      text: "import { col, table } from 'dbops'\nexport const a = table('users', { id: col.integer() })\nexport const b = table('users', { id: col.integer() })\n",
      code: 'MODELS_INVALID',
      message: /dupe\.ts: two tables are named users/,
    },
    {
      name: 'foreign key to a missing column',
      file: 'fk.ts',
      text: "import { col, table } from 'dbops'\nexport const u = table('users', { id: col.integer() })\nexport const p = table('posts', { user_id: col.integer().references('users', 'uid') })\n",
      code: 'MODELS_INVALID',
      message: /fk\.ts: posts\(user_id\) references users\.uid, which does not exist/,
    },
    {
      name: 'unknown column type',
      file: 'type.ts',
      text: "import { col, table } from 'dbops'\nexport const u = table('users', { balance: col.type('money') })\n",
      code: 'MODELS_INVALID',
      message: /type\.ts: users\.balance: unknown column type money/,
    },
  ])('$name: exit 2, the file named', async ({ file, text, code, message }) => {
    if (text !== undefined) write(file, text)
    const [plain, json] = await Promise.all([
      runCli(['schema', 'diff', '--models', file], { cwd: tmp.dir, env }),
      runCli(['schema', 'diff', '--models', file, '--json'], { cwd: tmp.dir, env }),
    ])
    expect(plain.code).toBe(2)
    expect(plain.stdout).toBe('')
    expectOneLineError(plain.stderr, message)
    expect(json.code).toBe(2)
    expect(json.json().error).toMatchObject({ code, message: expect.stringMatching(message) })
  })

  test('no models configured: exit 2 with the way out', async () => {
    const result = await runCli(['schema', 'diff'], { cwd: tmp.dir, env })
    expect(result.code).toBe(2)
    expectOneLineError(result.stderr, /No models module is configured/)
  })
})

describe('schema pull (PostgreSQL)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let db: Awaited<ReturnType<typeof createTestDatabase>>
  beforeAll(async () => {
    tmp = makeTempDir()
    db = await createTestDatabase(inject('pgAdminUrl'))
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query(`
      CREATE TYPE status AS ENUM ('open', 'closed');
      CREATE TABLE projects (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(80) NOT NULL UNIQUE, status status NOT NULL DEFAULT 'open', created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE tasks (id serial PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects ON DELETE CASCADE, title text NOT NULL CHECK (length(title) > 0), done boolean NOT NULL DEFAULT false);
      CREATE INDEX tasks_open ON tasks (project_id) WHERE NOT done;
      CREATE VIEW open_tasks AS SELECT * FROM tasks WHERE NOT done;`)
    await client.end()
  })
  afterAll(async () => {
    await db.drop()
    tmp.cleanup()
  })

  test('--out writes models that diff finds identical; an existing file is kept without --force', async () => {
    const env = { DATABASE_URL: db.url }
    const pulled = await runCli(['schema', 'pull', '--out', 'models.ts', '--json'], { cwd: tmp.dir, env })
    expect(pulled.code).toBe(0)
    expect(pulled.json()).toMatchObject({
      file: path.join(fs.realpathSync(tmp.dir), 'models.ts'),
      tables: ['projects', 'tasks'],
      unmanaged: [{ kind: 'view', name: 'open_tasks' }],
    })
    const source = fs.readFileSync(path.join(tmp.dir, 'models.ts'), 'utf8')
    expect(source).toContain("status: col.enum(['open', 'closed'], { name: 'status' }).default('open'),")
    expect(source).toContain("project_id: col.bigint().references('projects', 'id', { onDelete: 'cascade' }),")
    expect(pulled.stderr).not.toContain(new URL(db.url).password)

    const diff = await runCli(['schema', 'diff', '--models', 'models.ts', '--exit-code'], { cwd: tmp.dir, env })
    expect(diff.code).toBe(0)
    expect(diff.stdout).toBe('No differences: the database matches models.ts.\n')

    fs.writeFileSync(path.join(tmp.dir, 'models.ts'), '// mine\n')
    const refused = await runCli(['schema', 'pull', '--out', 'models.ts'], { cwd: tmp.dir, env })
    expect(refused.code).toBe(2)
    expectOneLineError(refused.stderr, /models\.ts already exists/)
    expect(fs.readFileSync(path.join(tmp.dir, 'models.ts'), 'utf8')).toBe('// mine\n')

    const stdout = await runCli(['schema', 'pull'], { cwd: tmp.dir, env })
    expect(stdout.code).toBe(0)
    expect(stdout.stdout).toBe(source)
  })
})
