/**
 * The spellings dbops must see through: PostgreSQL's deparsed expressions against what a
 * user writes, each dialect's type names, and the SQLite CREATE text parser.
 */
import { describe, expect, test } from 'vitest'
import { parseCreateIndex, parseCreateTable } from '../../src/dialects/sqlite/sqlite-create-parser.js'
import { canonicalExpression } from '../../src/schema/canonical-expression.js'
import { canonicalType, isWideningTypeChange } from '../../src/sql/column-type.js'
import { sameDefault } from '../../src/schema/diff-schemas.js'

describe('canonicalExpression: PostgreSQL deparse = what the user wrote', () => {
  test.each([
    {
      name: 'varchar IN → = ANY(ARRAY) with casts',
      pg: "((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
      user: "s IN ('a','b')",
    },
    {
      name: 'numeric comparison and BETWEEN',
      pg: '((n > (0)::numeric) AND ((n >= (1)::numeric) AND (n <= (10)::numeric)))',
      user: 'n > 0 AND n BETWEEN 1 AND 10',
    },
    { name: 'LIKE → ~~', pg: "((e ~~ 'a%'::text) AND (e IS NOT NULL))", user: "e LIKE 'a%' and e is not null" },
    { name: 'NOT LIKE → !~~', pg: "(e !~~ 'x%'::text)", user: "e NOT LIKE 'x%'" },
    { name: 'ILIKE → ~~*', pg: "(e ~~* 'x%'::text)", user: "e ILIKE 'x%'" },
    { name: 'integer IN', pg: '(ii = ANY (ARRAY[1, 2]))', user: 'ii in (1, 2)' },
    { name: 'NOT IN → <> ALL', pg: '(x <> ALL (ARRAY[1, 2]))', user: 'x NOT IN (1,2)' },
    { name: 'array literal form of ANY', pg: "(x = ANY ('{a,b}'::text[]))", user: "x in ('a', 'b')" },
    { name: 'negative integer default', pg: "'-1'::integer", user: '-1' },
    { name: 'negative numeric default', pg: "'-1.5'::numeric", user: '-1.5' },
    { name: 'now() = CURRENT_TIMESTAMP', pg: 'now()', user: 'CURRENT_TIMESTAMP' },
    { name: "SQLite datetime('now')", pg: 'CURRENT_TIMESTAMP', user: "(datetime('now'))" },
    { name: 'trailing zeros', pg: '1.50', user: '1.5' },
    { name: 'string cast to jsonb', pg: "'{}'::jsonb", user: "'{}'" },
    { name: 'index expression cast', pg: 'lower(s::text)', user: 'lower("s")' },
    { name: 'redundant parentheses', pg: '(s IS NOT NULL)', user: 's is not null' },
    { name: 'precedence kept', pg: '(a - (b - c))', user: 'a - (b - c)' },
    { name: 'left-associative', pg: '((a - b) - c)', user: 'a - b - c' },
    { name: 'OR inside AND', pg: '(((a > 0) OR (b > 0)) AND (c > 0))', user: '(a > 0 OR b > 0) AND c > 0' },
    { name: 'CASE with casts', pg: "CASE WHEN (a > 0) THEN 'x'::text ELSE 'y'::text END", user: "case when a > 0 then 'x' else 'y' end" },
    { name: 'function of a cast column', pg: '(length((name)::text) > 0)', user: 'length(name) > 0' },
    { name: '!= is <>', pg: "(a <> ''::text)", user: "a != ''" },
    { name: 'boolean cast', pg: "'t'::boolean", user: 'true' },
    { name: 'CAST()', pg: '(x)::bigint', user: 'CAST(x AS bigint)' },
    { name: 'typed literal', pg: "'1 day'::interval", user: "interval '1 day'" },
    { name: 'quoted lower-case identifier', pg: '"user" IS NULL', user: 'user is null' },
  ])('$name', ({ pg, user }) => {
    expect(canonicalExpression(pg)).toBe(canonicalExpression(user))
  })

  test.each([
    { name: 'different constants', a: 'n > 0', b: 'n > 1' },
    { name: 'different precedence', a: '(a + b) * c', b: 'a + b * c' },
    { name: 'different operators', a: "e LIKE 'a%'", b: "e ILIKE 'a%'" },
    { name: 'IN list order', a: "s IN ('a', 'b')", b: "s IN ('b', 'a')" },
    { name: 'quoted upper-case identifier', a: '"Name" IS NULL', b: 'name IS NULL' },
  ])('$name differ', ({ a, b }) => {
    expect(canonicalExpression(a)).not.toBe(canonicalExpression(b))
  })

  test('text it cannot parse is normalised, not thrown', () => {
    expect(canonicalExpression('EXISTS (SELECT 1 FROM t)')).toBe('exists ( select 1 from t )')
    expect(canonicalExpression("weird 'unterminated")).toBe("weird 'unterminated")
  })

  test.each([
    { name: 'boolean 0/false', a: '0', b: 'false', type: 'boolean', same: true },
    { name: "boolean 't'", a: "'t'::boolean", b: 'true', type: 'boolean', same: true },
    { name: 'NULL is no default', a: 'NULL', b: undefined, type: 'text', same: true },
    { name: 'varchar cast', a: "'draft'::character varying", b: "'draft'", type: 'varchar(20)', same: true },
    { name: 'different literal', a: "'a'", b: "'b'", type: 'text', same: false },
    { name: 'number vs none', a: '0', b: undefined, type: 'integer', same: false },
  ])('sameDefault: $name', ({ a, b, type, same }) => {
    expect(sameDefault(a, b, type)).toBe(same)
  })
})

describe('column types', () => {
  test.each([
    ['int4', 'integer'],
    ['INT', 'integer'],
    ['integer', 'integer'],
    ['int8', 'bigint'],
    ['BIGINT', 'bigint'],
    ['smallint', 'smallint'],
    ['character varying(255)', 'varchar(255)'],
    ['VARCHAR( 255 )', 'varchar(255)'],
    ['NVARCHAR(10)', 'varchar(10)'],
    ['character varying', 'varchar'],
    ['character(2)', 'char(2)'],
    ['bpchar', 'char(1)'],
    ['timestamp with time zone', 'timestamptz'],
    ['timestamp(3) with time zone', 'timestamptz(3)'],
    ['timestamp without time zone', 'timestamp'],
    ['DATETIME', 'timestamp'],
    ['double precision', 'double'],
    ['FLOAT8', 'double'],
    ['float(10)', 'real'],
    ['numeric(10,2)', 'numeric(10,2)'],
    ['DECIMAL(10, 2)', 'numeric(10,2)'],
    ['numeric(10)', 'numeric(10,0)'],
    ['bytea', 'blob'],
    ['BLOB', 'blob'],
    ['bool', 'boolean'],
    ['JSONB', 'jsonb'],
    ['uuid', 'uuid'],
    ['inet', 'inet'],
    ['text[]', 'text[]'],
  ])('%s → %s', (spelling, canonical) => {
    expect(canonicalType(spelling)).toBe(canonical)
  })

  test.each([
    ['integer', 'bigint', true],
    ['bigint', 'integer', false],
    ['varchar(50)', 'varchar(100)', true],
    ['varchar(100)', 'varchar(50)', false],
    ['varchar(100)', 'text', true],
    ['text', 'varchar(100)', false],
    ['real', 'double', true],
    ['numeric(10,2)', 'numeric(12,2)', true],
    ['numeric(10,2)', 'numeric(10,1)', false],
    ['text', 'integer', false],
    ['integer', 'numeric', true],
  ])('%s → %s keeps every value: %s', (from, to, widening) => {
    expect(isWideningTypeChange(from, to)).toBe(widening)
  })
})

describe('SQLite CREATE text', () => {
  test('checks, names, collations, AUTOINCREMENT, foreign key names', () => {
    const parsed = parseCreateTable(`CREATE TABLE "t" (
      id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
      [name] TEXT COLLATE NOCASE CONSTRAINT t_name_check CHECK (length(name) > 0) UNIQUE,
      price NUMERIC(10, 2) DEFAULT (0) CHECK (price >= 0),
      "owner" INTEGER CONSTRAINT t_owner_fk REFERENCES users (id) ON DELETE CASCADE,
      CONSTRAINT t_pair UNIQUE (name, owner),
      CHECK (price < 1000),
      CONSTRAINT t_fk2 FOREIGN KEY (owner, id) REFERENCES other (a, b)
    )`)
    expect(parsed.columns.map((c) => c.name)).toEqual(['id', 'name', 'price', 'owner'])
    expect(parsed.columns[0]).toMatchObject({ autoincrement: true })
    expect(parsed.columns[1]).toMatchObject({
      collation: 'nocase',
      checks: [{ name: 't_name_check', expression: 'length(name) > 0' }],
      uniqueName: undefined,
    })
    expect(parsed.columns[2]!.checks).toEqual([{ name: undefined, expression: 'price >= 0' }])
    expect(parsed.columns[3]).toMatchObject({ foreignKeyName: 't_owner_fk', referencedTable: 'users' })
    expect(parsed.constraints).toEqual([
      { kind: 'unique', name: 't_pair', columns: ['name', 'owner'] },
      { kind: 'check', name: undefined, expression: 'price < 1000' },
      { kind: 'foreign', name: 't_fk2', columns: ['owner', 'id'], referencedTable: 'other' },
    ])
  })

  test('CREATE TABLE … AS SELECT gives nothing to parse', () => {
    expect(parseCreateTable('CREATE TABLE t AS SELECT 1 AS x')).toEqual({ columns: [], constraints: [] })
  })

  test('expression, descending and partial indexes', () => {
    expect(parseCreateIndex('CREATE UNIQUE INDEX i ON t ((lower(email)), "b" DESC, c COLLATE NOCASE) WHERE deleted_at IS NULL')).toEqual({
      unique: true,
      elements: [
        { kind: 'expression', value: '(lower(email))', descending: false },
        { kind: 'column', value: 'b', descending: true },
        { kind: 'column', value: 'c', descending: false },
      ],
      where: 'deleted_at IS NULL',
    })
    expect(parseCreateIndex('CREATE INDEX IF NOT EXISTS i ON t (a + b)')).toEqual({
      unique: false,
      elements: [{ kind: 'expression', value: 'a + b', descending: false }],
      where: undefined,
    })
  })
})
