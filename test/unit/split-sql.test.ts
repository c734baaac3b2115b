import { describe, expect, test } from 'vitest'
import { type DialectName, dialectTraits } from '../../src/dialects/index.js'
import { SqlSplitError, splitSqlStatements } from '../../src/sql/split-sql.js'

const syntax = (flavour: DialectName) => dialectTraits(flavour).sqlSyntax
const texts = (sql: string, flavour: DialectName = 'postgres') => splitSqlStatements(sql, syntax(flavour)).map((s) => s.text)

describe('splitSqlStatements', () => {
  test.each([
    {
      name: 'two statements',
      flavour: 'postgres',
      sql: 'SELECT 1; SELECT 2;',
      expected: ['SELECT 1', 'SELECT 2'],
    },
    {
      name: 'last statement without semicolon',
      flavour: 'postgres',
      sql: 'SELECT 1;\nSELECT 2\n',
      expected: ['SELECT 1', 'SELECT 2'],
    },
    {
      name: 'empty statements and only comments are dropped',
      flavour: 'postgres',
      sql: ';;\n-- nothing\n/* nor this */;\nSELECT 1;;',
      expected: ['SELECT 1'],
    },
    {
      name: 'semicolon in a string',
      flavour: 'postgres',
      sql: "INSERT INTO t VALUES ('a;b'); SELECT 2",
      expected: ["INSERT INTO t VALUES ('a;b')", 'SELECT 2'],
    },
    {
      name: 'doubled quote in a string',
      flavour: 'postgres',
      sql: "SELECT 'it''s; fine'; SELECT 2",
      expected: ["SELECT 'it''s; fine'", 'SELECT 2'],
    },
    {
      name: "E'' string with backslash-escaped quote",
      flavour: 'postgres',
      sql: "SELECT E'it\\'s; fine'; SELECT 2",
      expected: ["SELECT E'it\\'s; fine'", 'SELECT 2'],
    },
    {
      name: 'lower-case e string',
      flavour: 'postgres',
      sql: "SELECT e'\\\\'; SELECT 2",
      expected: ["SELECT e'\\\\'", 'SELECT 2'],
    },
    {
      name: 'standard string: a backslash is just a character',
      flavour: 'postgres',
      sql: "SELECT 'a\\'; SELECT 2",
      expected: ["SELECT 'a\\'", 'SELECT 2'],
    },
    {
      name: 'identifier ending in e before a string is not an E string',
      flavour: 'postgres',
      sql: "SELECT some'x\\'; SELECT 2",
      expected: ["SELECT some'x\\'", 'SELECT 2'],
    },
    {
      name: 'quoted identifier with semicolon',
      flavour: 'postgres',
      sql: 'CREATE TABLE "a;b" (x int); SELECT 2',
      expected: ['CREATE TABLE "a;b" (x int)', 'SELECT 2'],
    },
    {
      name: 'line comment with semicolon',
      flavour: 'postgres',
      sql: 'SELECT 1 -- a; b\n; SELECT 2',
      expected: ['SELECT 1 -- a; b', 'SELECT 2'],
    },
    {
      name: 'nested block comment (PostgreSQL)',
      flavour: 'postgres',
      sql: 'SELECT /* a /* b; */ c; */ 1; SELECT 2',
      expected: ['SELECT /* a /* b; */ c; */ 1', 'SELECT 2'],
    },
    {
      name: 'block comments do not nest (SQLite)',
      flavour: 'sqlite',
      sql: 'SELECT /* a /* b */ 1; SELECT 2',
      expected: ['SELECT /* a /* b */ 1', 'SELECT 2'],
    },
    {
      name: 'dollar-quoted function body',
      flavour: 'postgres',
      sql: 'CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT 2',
      expected: ['CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql', 'SELECT 2'],
    },
    {
      name: 'tagged dollar quote containing $$',
      flavour: 'postgres',
      sql: "DO $body$ BEGIN PERFORM '$$;'; END $body$; SELECT 2",
      expected: ["DO $body$ BEGIN PERFORM '$$;'; END $body$", 'SELECT 2'],
    },
    {
      name: 'positional parameter is not a dollar quote',
      flavour: 'postgres',
      sql: 'PREPARE p AS SELECT $1; SELECT 2',
      expected: ['PREPARE p AS SELECT $1', 'SELECT 2'],
    },
    {
      name: 'dollar inside an identifier is not a quote',
      flavour: 'postgres',
      sql: 'SELECT a$b$ FROM t; SELECT 2',
      expected: ['SELECT a$b$ FROM t', 'SELECT 2'],
    },
    {
      name: 'BEGIN ATOMIC body',
      flavour: 'postgres',
      sql: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3',
      expected: ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END', 'SELECT 3'],
    },
    {
      name: 'CREATE OR REPLACE PROCEDURE with BEGIN ATOMIC',
      flavour: 'postgres',
      sql: 'CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;\nSELECT 2;',
      expected: ['CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END', 'SELECT 2'],
    },
    {
      name: 'SQLite trigger BEGIN … END with CASE',
      flavour: 'sqlite',
      sql: 'CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN n > 0 THEN n ELSE 1 END; DELETE FROM c; END;\nSELECT 2;',
      expected: [
        'CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN n > 0 THEN n ELSE 1 END; DELETE FROM c; END',
        'SELECT 2',
      ],
    },
    {
      name: 'SQLite temporary trigger IF NOT EXISTS',
      flavour: 'sqlite',
      sql: 'CREATE TEMP TRIGGER IF NOT EXISTS t BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, "no; way"); END; SELECT 2',
      expected: ['CREATE TEMP TRIGGER IF NOT EXISTS t BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, "no; way"); END', 'SELECT 2'],
    },
    {
      name: 'SQLite backtick and bracket identifiers',
      flavour: 'sqlite',
      sql: 'SELECT `a;b`, [c;d] FROM t; SELECT 2',
      expected: ['SELECT `a;b`, [c;d] FROM t', 'SELECT 2'],
    },
    {
      name: 'top-level BEGIN/COMMIT are statements of their own',
      flavour: 'postgres',
      sql: 'BEGIN; SELECT 1; COMMIT;',
      expected: ['BEGIN', 'SELECT 1', 'COMMIT'],
    },
    {
      name: 'CASE outside a routine does not hold semicolons',
      flavour: 'postgres',
      sql: 'SELECT CASE WHEN true THEN 1 END; SELECT 2',
      expected: ['SELECT CASE WHEN true THEN 1 END', 'SELECT 2'],
    },
    {
      name: 'CREATE INDEX CONCURRENTLY statements',
      flavour: 'postgres',
      sql: 'CREATE INDEX CONCURRENTLY a_idx ON a (x);\nCREATE INDEX CONCURRENTLY b_idx ON b (y);\n',
      expected: ['CREATE INDEX CONCURRENTLY a_idx ON a (x)', 'CREATE INDEX CONCURRENTLY b_idx ON b (y)'],
    },
    {
      name: 'CRLF line endings',
      flavour: 'postgres',
      sql: 'SELECT 1;\r\nSELECT 2;\r\n',
      expected: ['SELECT 1', 'SELECT 2'],
    },
  ] as Array<{ name: string; flavour: DialectName; sql: string; expected: string[] }>)('$name', ({ sql, flavour, expected }) => {
    expect(texts(sql, flavour)).toEqual(expected)
  })

  test('plain text (no quotes, comments or routine bodies) splits as the lexer splits it, positions included', () => {
    // a leading comment sends the same text through the lexer; the positions then shift by one line
    const viaLexer = (sql: string, flavour: DialectName) =>
      splitSqlStatements(`-- x\n${sql}`, syntax(flavour)).map((s) => ({ ...s, offset: s.offset - 5, line: s.line - 1 }))
    const pieces = [
      'CREATE TABLE t',
      ' ',
      '(',
      ')',
      ';',
      '\n',
      '\r\n',
      '\t',
      ',',
      '1',
      '.',
      'x_y',
      '=',
      '-',
      '/',
      '{',
      'begin',
      'END',
      '\f',
    ]
    let seed = 21
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8) % n
    for (const flavour of ['postgres', 'sqlite'] as const) {
      for (let k = 0; k < 2000; k++) {
        let sql = ''
        for (let i = random(25); i > 0; i--) sql += pieces[random(pieces.length)]
        if (/--|\/\*/.test(sql)) continue
        expect(splitSqlStatements(sql, syntax(flavour)), JSON.stringify(sql)).toEqual(viaLexer(sql, flavour))
      }
    }
    expect(texts('CREATE TABLE t (a int, CHECK (a > 0));\nCREATE INDEX i ON t (a)')).toEqual([
      'CREATE TABLE t (a int, CHECK (a > 0))',
      'CREATE INDEX i ON t (a)',
    ])
    expect(texts('SELECT (1; 2); SELECT 3')).toEqual(['SELECT (1; 2)', 'SELECT 3'])
  })

  test('gives each statement the line and column of its first token', () => {
    const statements = splitSqlStatements('-- header\nSELECT 1;\n\n  /* c */ SELECT\n  2;', syntax('postgres'))
    expect(statements.map(({ line, column, offset }) => ({ line, column, offset }))).toEqual([
      { line: 2, column: 1, offset: 10 },
      { line: 4, column: 11, offset: 31 },
    ])
  })

  test.each([63, 64, 200])('a dollar-quote tag of %i characters holds its semicolons (tags have no length limit)', (length) => {
    const tag = `$${'t'.repeat(length)}$`
    const doBlock = `DO ${tag} DECLARE n int; BEGIN n := 1; END ${tag}`
    const literal = `SELECT ${tag}a;b${tag} AS v`
    expect(texts(`${doBlock};\n${literal};\nSELECT 2;`)).toEqual([doBlock, literal, 'SELECT 2'])
  })

  test.each([
    { name: '\\connect at the start of a line', sql: 'SELECT 1;\n\\connect other\nSELECT 2;', command: '\\connect', line: 2, column: 1 },
    { name: '\\set', sql: '\\set ON_ERROR_STOP on\nSELECT 1;', command: '\\set', line: 1, column: 1 },
    { name: 'an indented \\i', sql: 'SELECT 1;\n  \\i other.sql', command: '\\i', line: 2, column: 3 },
    { name: '\\gexec after a query', sql: "SELECT 'SELECT 1' \\gexec", command: '\\gexec', line: 1, column: 19 },
    {
      name: 'COPY … FROM stdin with inline data',
      sql: 'CREATE TABLE t (a int, b text);\nCOPY public.t (a, b) FROM stdin;\n1\tann\n2\tbob\n\\.\n',
      command: 'COPY … FROM stdin',
      line: 2,
      column: 1,
    },
  ])('psql syntax is an error naming it and its position: $name', ({ sql, command, line, column }) => {
    for (const flavour of ['postgres', 'sqlite'] as const) {
      let caught: unknown
      try {
        splitSqlStatements(sql, syntax(flavour))
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(SqlSplitError)
      expect(caught).toMatchObject({ reason: 'psql', line, column })
      expect((caught as Error).message).toContain(`\`${command}\``)
    }
  })

  test('a backslash inside a string, a comment or a dollar quote is not psql syntax', () => {
    const sql = "SELECT E'\\n', '\\x';\n-- \\connect in a comment\nDO $$ BEGIN RAISE NOTICE '\\set'; END $$;\n/* \\i */ SELECT 2;"
    expect(texts(sql)).toHaveLength(3)
  })

  test.each([
    { name: 'string', sql: "SELECT 1;\nSELECT 'abc", line: 2, column: 8 },
    { name: 'quoted identifier', sql: 'SELECT "abc', line: 1, column: 8 },
    { name: 'block comment', sql: 'SELECT 1; /* never closed', line: 1, column: 11 },
    { name: 'dollar-quoted string', sql: 'DO $x$ BEGIN', line: 1, column: 4 },
  ])('an unterminated $name is an error with its position', ({ sql, line, column }) => {
    let caught: unknown
    try {
      splitSqlStatements(sql, syntax('postgres'))
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(SqlSplitError)
    expect(caught).toMatchObject({ line, column })
  })
})
