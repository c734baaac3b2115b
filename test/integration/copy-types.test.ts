/**
 * Every row of `dbops copy`'s type mapping (src/dialects/copy-types.ts, docs/copy.md), round
 * trip: a real SQLite file with one table per mapping, each holding the edge values (NULL, '',
 * unicode, 2^63-1, NaN and ±Infinity, blobs with NUL bytes, booleans as 0/1/'t'/'f'), copied
 * into the test PostgreSQL and back into a new SQLite file. Each step verifies itself (counts
 * and checksums); the test checks the PostgreSQL types and values and the values back in SQLite.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { resolveConfig } from '../../src/config/resolve-config.js'
import { type CopyResult, copyDatabase } from '../../src/copy/copy-database.js'
import { makeTempDir } from '../support/cli.js'
import { type TestDatabase, createTestDatabase } from '../support/postgres.js'

/** Declared type → [expected PostgreSQL type, values (SQL literals), expected PostgreSQL text of each]. */
const CASES: Array<[string, string, string[], Array<string | null>]> = [
  ['INTEGER', 'integer', ['NULL', '0', '-2147483648', '2147483647'], [null, '0', '-2147483648', '2147483647']],
  ['INT', 'bigint', ['NULL', '9223372036854775807', '-9223372036854775808'], [null, '9223372036854775807', '-9223372036854775808']],
  ['TINYINT', 'smallint', ['NULL', '1', '-32768'], [null, '1', '-32768']],
  ['BIGINT', 'bigint', ['NULL', '9223372036854775807', "'42'"], [null, '9223372036854775807', '42']],
  [
    'REAL',
    'double precision',
    ['NULL', '1.5', "'NaN'", "'Infinity'", "'-Infinity'", '1e308', '-0.0'],
    [null, '1.5', 'NaN', 'Infinity', '-Infinity', '1e+308', '0'],
  ],
  ['DOUBLE PRECISION', 'double precision', ['NULL', '0.1', "'NaN'"], [null, '0.1', 'NaN']],
  ['NUMERIC(10,2)', 'numeric(10,2)', ['NULL', '12.5', '0.1', "'99999999.99'", '-1'], [null, '12.50', '0.10', '99999999.99', '-1.00']],
  [
    'TEXT',
    'text',
    ['NULL', "''", "'ünïcødé ✓ 𝄞'", "'tab\tand\nnewline\\back'", '42'],
    [null, '', 'ünïcødé ✓ 𝄞', 'tab\tand\nnewline\\back', '42'],
  ],
  ['CLOB', 'text', ['NULL', "'x'"], [null, 'x']],
  ['NVARCHAR(5)', 'character varying(5)', ['NULL', "''", "'ünï𝄞'"], [null, '', 'ünï𝄞']],
  ['NCHAR(3)', 'character(3)', ['NULL', "'ab'", "'abc'"], [null, 'ab', 'abc']],
  ['BOOLEAN', 'boolean', ['NULL', '0', '1', "'t'", "'f'", "'true'", "'FALSE'"], [null, 'false', 'true', 'true', 'false', 'true', 'false']],
  ['DATE', 'date', ['NULL', "'2024-02-29'", "'1999-12-31 00:00:00'"], [null, '2024-02-29', '1999-12-31']],
  [
    'DATETIME',
    'timestamp without time zone',
    ['NULL', "'2024-01-02 03:04:05'", "'2024-01-02T03:04:05.120Z'", '1700000000'],
    [null, '2024-01-02 03:04:05', '2024-01-02 03:04:05.12', '2023-11-14 22:13:20'],
  ],
  [
    'TIMESTAMPTZ',
    'timestamp with time zone',
    ['NULL', "'2024-01-02 03:04:05+02:00'", "'2024-01-02T03:04:05Z'"],
    [null, '2024-01-02 01:04:05+00', '2024-01-02 03:04:05+00'],
  ],
  ['TIME', 'time without time zone', ['NULL', "'23:59:59.5'"], [null, '23:59:59.5']],
  ['JSON', 'json', ['NULL', `'{"b":1,"a":[true,null,"ü"]}'`], [null, '{"b":1,"a":[true,null,"ü"]}']],
  [
    'UUID',
    'uuid',
    ['NULL', "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "x'a0eebc999c0b4ef8bb6d6bb9bd380a12'"],
    [null, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'],
  ],
  ['BLOB', 'bytea', ['NULL', "x''", "x'00ff0000'", "'text'"], [null, '\\x', '\\x00ff0000', '\\x74657874']],
  ['MEDIUMINT UNSIGNED', 'bigint', ['NULL', '7'], [null, '7']],
  ['LONGINTEGER', 'bigint', ['NULL', '9223372036854775807'], [null, '9223372036854775807']],
  ['SHORTCHAR', 'text', ['NULL', "''", "'ü'"], [null, '', 'ü']],
  ['MYBLOBTYPE', 'bytea', ['NULL', "x'0001'"], [null, '\\x0001']],
  ['FLOATING', 'double precision', ['NULL', '2.5', "'Infinity'"], [null, '2.5', 'Infinity']],
  ['', 'text', ['NULL', '1', "'two'", '3.5'], [null, '1', 'two', '3.5']],
  ['NUMBER', 'numeric', ['NULL', '1', '2.25'], [null, '1', '2.25']],
  ['STRING', 'text', ['NULL', "'abc'", '12'], [null, 'abc', '12']],
  ['MONEY_AMOUNT', 'bigint', ['NULL', '100', '-5'], [null, '100', '-5']],
]

const tableOf = (i: number) => `t${String(i).padStart(2, '0')}`

describe('copy: every type mapping round-trips with edge values', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let db: TestDatabase
  let toPg: CopyResult
  let back: CopyResult
  beforeAll(async () => {
    tmp = makeTempDir()
    db = await createTestDatabase(inject('pgAdminUrl'), 'dbops_copy_types')
    const file = path.join(tmp.dir, 'types.db')
    const handle = new Database(file)
    CASES.forEach(([declared, , values], i) => {
      handle.exec(`CREATE TABLE ${tableOf(i)} (id INTEGER PRIMARY KEY, v ${declared})`)
      values.forEach((v, row) => handle.exec(`INSERT INTO ${tableOf(i)} (id, v) VALUES (${row + 1}, ${v})`))
    })
    // the defaults pgloader stumbles on, and one in SQL only SQLite understands
    handle.exec(
      "CREATE TABLE defaults (id INTEGER PRIMARY KEY, a TEXT DEFAULT 'null', d DATE DEFAULT current_date, t DATETIME DEFAULT (datetime('now')), b BOOLEAN NOT NULL DEFAULT 0, n NUMBER DEFAULT 5, x DOUBLE PRECISION DEFAULT 1.5, weird INTEGER DEFAULT (abs(random() % 10))); INSERT INTO defaults (id) VALUES (1)",
    )
    handle.close()
    const connect = { command: 'copy' }
    const sqlite = await resolveConfig({ flags: { url: `sqlite:${file}` }, cwd: tmp.dir })
    const postgres = await resolveConfig({ flags: { url: db.url }, cwd: tmp.dir })
    toPg = await copyDatabase({ from: sqlite, to: postgres, connect })
    const again = await resolveConfig({ flags: { url: `sqlite:${path.join(tmp.dir, 'back.db')}` }, cwd: tmp.dir })
    back = await copyDatabase({ from: postgres, to: again, connect })
  }, 60_000)
  afterAll(async () => {
    await db?.drop()
    tmp?.cleanup()
  })

  test('both copies verify, with the same checksums each way', () => {
    expect(toPg.tables).toHaveLength(CASES.length + 1)
    for (const t of toPg.tables) expect(t.match).toBe(true)
    for (const t of back.tables) expect(t.match).toBe(true)
    const sums = (result: CopyResult) => result.tables.map((t) => [t.name, t.rows, t.sourceChecksum]).sort()
    expect(sums(back)).toEqual(sums(toPg))
  })

  test.each(CASES.map((c, i) => [c[0] || '(no type)', i] as const))('%s: the PostgreSQL type and values', async (_name, i) => {
    const [, pgType, , expected] = CASES[i]!
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      const type = await client.query(
        `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '${tableOf(i)}'::regclass AND attname = 'v'`,
      )
      expect(type.rows[0].t).toBe(pgType)
      await client.query("SET TIME ZONE 'UTC'")
      const rows = await client.query({ text: `SELECT v::text AS v FROM ${tableOf(i)} ORDER BY id` })
      expect(rows.rows.map((r) => r.v)).toEqual(expected)
    } finally {
      await client.end()
    }
  })

  test("defaults: literals, 'null' as text, the current date and time, booleans; SQLite-only SQL listed as not copied", async () => {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      const result = await client.query(
        "SELECT column_name AS c, column_default AS d FROM information_schema.columns WHERE table_name = 'defaults' ORDER BY ordinal_position",
      )
      expect(Object.fromEntries(result.rows.map((r) => [r.c, r.d]))).toEqual({
        id: null,
        a: "'null'::text",
        d: 'CURRENT_DATE',
        t: 'CURRENT_TIMESTAMP',
        b: 'false',
        n: '5',
        x: '1.5',
        weird: null,
      })
      const [row] = (await client.query('INSERT INTO defaults DEFAULT VALUES RETURNING a, b, d = CURRENT_DATE AS today')).rows
      expect(row).toEqual({ a: 'null', b: false, today: true })
    } finally {
      await client.end()
    }
    expect(toPg.notCopied).toContainEqual({
      kind: 'default',
      name: 'defaults.weird',
      reason: 'abs(random() % 10) has no equivalent in the target',
    })
  })

  test('values come back into SQLite as the source held them (canonical form aside)', () => {
    const handle = new Database(path.join(tmp.dir, 'back.db'), { readonly: true })
    try {
      const bool = CASES.findIndex((c) => c[0] === 'BOOLEAN')
      expect(
        handle
          .prepare(`SELECT v FROM ${tableOf(bool)} ORDER BY id`)
          .pluck()
          .all(),
      ).toEqual([null, 0, 1, 1, 0, 1, 0])
      const big = CASES.findIndex((c) => c[0] === 'BIGINT')
      expect(
        handle
          .prepare(`SELECT v FROM ${tableOf(big)} ORDER BY id`)
          .pluck()
          .safeIntegers(true)
          .all(),
      ).toEqual([null, 9223372036854775807n, 42n])
      const blob = CASES.findIndex((c) => c[0] === 'BLOB')
      expect(
        handle
          .prepare(`SELECT hex(v) FROM ${tableOf(blob)} ORDER BY id`)
          .pluck()
          .all(),
      ).toEqual(['', '', '00FF0000', '74657874'])
      const real = CASES.findIndex((c) => c[0] === 'REAL')
      expect(
        handle
          .prepare(`SELECT v FROM ${tableOf(real)} ORDER BY id`)
          .pluck()
          .all(),
      ).toEqual([null, 1.5, 'NaN', Infinity, -Infinity, 1e308, 0])
      const text = CASES.findIndex((c) => c[0] === 'TEXT')
      expect(
        handle
          .prepare(`SELECT v FROM ${tableOf(text)} ORDER BY id`)
          .pluck()
          .all(),
      ).toEqual([null, '', 'ünïcødé ✓ 𝄞', 'tab\tand\nnewline\\back', '42'])
    } finally {
      handle.close()
    }
  })
})

describe('copy: PostgreSQL types into SQLite and back', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let source: TestDatabase
  let target: TestDatabase
  beforeAll(async () => {
    tmp = makeTempDir()
    source = await createTestDatabase(inject('pgAdminUrl'), 'dbops_copy_pgtypes')
    target = await createTestDatabase(inject('pgAdminUrl'), 'dbops_copy_pgtypes_back')
    const client = new pg.Client({ connectionString: source.url })
    await client.connect()
    await client.query(`
      CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE TABLE things (
        id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, serial_no bigserial, n numeric, big bigint, flag boolean, f real,
        j jsonb, ts timestamptz, raw bytea, m mood, ips inet, tags text[], span interval, u uuid
      );
      INSERT INTO things (n, big, flag, f, j, ts, raw, m, ips, tags, span, u) VALUES
        (123.4500, 9223372036854775807, true, 1.5, '{"b": 1, "a": [1, 2.50]}', '2024-01-02 03:04:05.123456+01', '\\x00ff00', 'happy', '10.0.0.1/8', '{a,"b c"}', '1 day 02:00:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (-0.5, -1, false, '-Infinity', '[]', 'infinity', '\\x', 'sad', '::1', '{}', '-3 mons', NULL);
    `)
    await client.end()
  }, 30_000)
  afterAll(async () => {
    await source?.drop()
    await target?.drop()
    tmp?.cleanup()
  })

  test('every PostgreSQL type lands in SQLite (enums and unknown types as text) and comes back verified', async () => {
    const connect = { command: 'copy' }
    const file = path.join(tmp.dir, 'from-pg.db')
    const pgConfig = await resolveConfig({ flags: { url: source.url }, cwd: tmp.dir })
    const sqlite = await resolveConfig({ flags: { url: `sqlite:${file}` }, cwd: tmp.dir })
    const down = await copyDatabase({ from: pgConfig, to: sqlite, connect })
    expect(down.tables.map((t) => [t.name, t.rows, t.match])).toEqual([['things', 3, true]])
    const handle = new Database(file, { readonly: true })
    try {
      const declared = handle.prepare("SELECT name, type FROM pragma_table_info('things') ORDER BY cid").all()
      expect(Object.fromEntries(declared.map((c: any) => [c.name, c.type]))).toEqual({
        id: 'INTEGER',
        serial_no: 'BIGINT',
        n: 'NUMERIC',
        big: 'BIGINT',
        flag: 'BOOLEAN',
        f: 'REAL',
        j: 'JSONB',
        ts: 'TIMESTAMPTZ',
        raw: 'BLOB',
        m: 'TEXT',
        ips: 'TEXT',
        tags: 'TEXT',
        span: 'TEXT',
        u: 'UUID',
      })
      const first = handle.prepare('SELECT * FROM things WHERE id = 1').safeIntegers(true).get() as Record<string, unknown>
      expect(first).toMatchObject({
        big: 9223372036854775807n,
        flag: 1n,
        m: 'happy',
        ips: '10.0.0.1/8',
        tags: '{a,"b c"}',
        span: '1 day 02:00:00',
        ts: '2024-01-02 02:04:05.123456Z',
      })
      expect(handle.prepare('SELECT f FROM things ORDER BY id').pluck().all()).toEqual([1.5, 'NaN', -Infinity])
    } finally {
      handle.close()
    }
    const back = await copyDatabase({ from: sqlite, to: await resolveConfig({ flags: { url: target.url }, cwd: tmp.dir }), connect })
    expect(back.tables.map((t) => [t.name, t.rows, t.match, t.sourceChecksum])).toEqual([
      ['things', 3, true, down.tables[0]!.sourceChecksum],
    ])
  }, 30_000)
})
