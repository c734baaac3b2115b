/**
 * The SQL of a diff, applied to real databases holding rows: every kind of change at once
 * (renames, widened types, NOT NULL, defaults, indexes, uniques, checks, foreign keys, a
 * primary key, tables created and dropped), then the database matches the models and the
 * rows are all there; the inverse brings it back. On SQLite most of that is the table
 * rebuild, and rebuilding a parent with ON DELETE CASCADE children keeps every child row.
 */
import { afterEach, describe, expect, test } from 'vitest'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import type { SqliteConnection } from '../../src/dialects/sqlite/sqlite-connection.js'
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { col, raw } from '../../src/schema/column-builder.js'
import { defineModels, table } from '../../src/schema/define-models.js'
import { diffSchemas } from '../../src/schema/diff-schemas.js'
import { modelsToSchema } from '../../src/schema/models-to-schema.js'
import { type DatabaseSchema, emptySchema } from '../../src/schema/normalised-schema.js'
import { formatSqlStatements, renderSchemaSql } from '../../src/schema/render-schema-sql.js'
import { type SchemaChange, invertChange, summariseChange } from '../../src/schema/schema-change.js'
import { runSection } from '../support/apply-sql-migrations.js'
import { type TestDatabase, testDialects } from '../support/dialects.js'

type Conn = SqliteConnection | PostgresConnection

function v1(dialect: 'sqlite' | 'postgres') {
  const authors = table(
    'authors',
    {
      id: col.integer().primaryKey().identity(),
      name: col.varchar(50),
      email: col.text().nullable(),
      legacy: col.text().nullable(),
      rank: col.integer().default(0),
      ...(dialect === 'postgres' ? { mood: col.enum(['ok'], { name: 'mood' }).nullable() } : {}),
    },
    {
      indexes: [
        { columns: ['name'], name: 'authors_name_old' },
        { columns: ['email'], name: 'authors_email_idx' },
      ],
      uniques: [['email', 'name']],
      checks: ['rank >= 0'],
    },
  )
  const books = table('books', {
    id: col.integer().primaryKey().identity(),
    author_id: col.integer().references('authors', 'id', { onDelete: 'cascade' }),
    title: col.text(),
    isbn: col.varchar(20).nullable(),
    price: col.numeric(10, 2).nullable(),
  })
  const oldStuff = table('old_stuff', { id: col.integer().primaryKey(), x: col.text().nullable() })
  const people = table('people', { id: col.integer().primaryKey(), full: col.text() })
  const pairs = table('pairs', { a: col.integer(), b: col.integer(), note: col.text().nullable() }, { primaryKey: ['a'] })
  return defineModels({ authors, books, oldStuff, people, pairs })
}

function v2(dialect: 'sqlite' | 'postgres') {
  const authors = table(
    'authors',
    {
      id: col.integer().primaryKey().identity(),
      name: col.varchar(200),
      email_address: col.text().renamedFrom('email'),
      rank: col.integer().default(1),
      bio: col.text().nullable(),
      active: col.boolean().default(true),
      ...(dialect === 'postgres' ? { mood: col.enum(['ok', 'great'], { name: 'mood' }).nullable() } : {}),
    },
    {
      indexes: [
        { columns: ['name'], name: 'authors_name_idx' },
        { columns: [raw('lower(name)')], unique: true, name: 'authors_lower_name_key' },
      ],
      checks: ['rank >= 1'],
    },
  )
  const books = table('books', {
    id: col.integer().primaryKey().identity(),
    author_id: col.integer().references('authors', 'id', { onDelete: 'restrict' }),
    headline: col.text().renamedFrom('title'),
    isbn: col.varchar(20).nullable().unique(),
    price: col.numeric(12, 2).nullable(),
  })
  const members = table(
    'members',
    { id: col.integer().primaryKey(), full: col.text(), joined: col.date().nullable() },
    { renamedFrom: 'people' },
  )
  const pairs = table('pairs', { a: col.integer(), b: col.integer(), note: col.text().nullable() }, { primaryKey: ['a', 'b'] })
  const tags = table(
    'tags',
    {
      id: col.integer().primaryKey().identity(),
      book_id: col.integer().references('books', 'id', { onDelete: 'cascade' }),
      label: col.text(),
    },
    { uniques: [['book_id', 'label']] },
  )
  return defineModels({ authors, books, members, pairs, tags })
}

async function exec(conn: Conn, text: string): Promise<void> {
  if ('handle' in conn) conn.handle.exec(text)
  else await conn.pool.query(text)
}

async function query(conn: Conn, text: string): Promise<Array<Record<string, unknown>>> {
  if ('handle' in conn) return conn.handle.prepare(text).all() as Array<Record<string, unknown>>
  return (await conn.pool.query(text)).rows
}

async function introspect(config: ResolvedConfig): Promise<DatabaseSchema> {
  return usingDatabase(config, { mode: 'read', command: 'test' }, (conn) =>
    conn.dialect.introspect(conn, { schemas: [config.schema], defaultSchema: config.schema }),
  )
}

/** Renders and runs changes as a migration would (foreign keys off around a SQLite rebuild). */
async function apply(config: ResolvedConfig, changes: SchemaChange[], from: DatabaseSchema, to: DatabaseSchema): Promise<void> {
  const rendered = renderSchemaSql(changes, { from, to })
  await usingDatabase(config, { mode: 'write', command: 'test' }, (conn) =>
    runSection(
      conn as Conn,
      { sql: formatSqlStatements(rendered), options: new Set(rendered.foreignKeysOff ? ['foreign_keys:off'] : []) },
      'changes',
    ),
  )
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: applying changes`, () => {
    let db: TestDatabase | undefined
    afterEach(async () => {
      await db?.cleanup()
      db = undefined
    })

    test('every kind of change applies to a database with rows; the inverse brings it back', async () => {
      db = await dialect.create()
      const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
      const before = modelsToSchema(v1(dialect.name), dialect.name)
      const after = modelsToSchema(v2(dialect.name), dialect.name)
      await apply(config, diffSchemas(emptySchema(dialect.name), before), emptySchema(dialect.name), before)
      await usingDatabase(config, { mode: 'write', command: 'test' }, (conn) =>
        exec(
          conn as Conn,
          `INSERT INTO authors (name, email, rank) VALUES ('Ada', 'ada@x', 3), ('Bob', 'bob@x', 5), ('Cy', 'cy@x', 7);
           INSERT INTO books (author_id, title, isbn, price) VALUES (1, 'One', 'i1', 1.5), (1, 'Two', NULL, NULL), (2, 'Three', 'i3', 3), (3, 'Four', 'i4', 4), (3, 'Five', NULL, 5.25);
           INSERT INTO people (id, "full") VALUES (1, 'P One');
           INSERT INTO pairs (a, b) VALUES (1, 1), (2, 1);`,
        ),
      )

      const live = await introspect(config)
      const changes = diffSchemas(live, after)
      const kinds = new Set(changes.map((c) => c.kind))
      for (const kind of [
        'create_table',
        'drop_table',
        'rename_table',
        'add_column',
        'drop_column',
        'rename_column',
        'alter_column',
        'alter_primary_key',
        'add_index',
        'drop_index',
        'rename_index',
        'add_unique',
        'drop_unique',
        'add_check',
        'drop_check',
        'add_foreign_key',
        'drop_foreign_key',
      ] as const) {
        expect(kinds, kind).toContain(kind)
      }
      if (dialect.name === 'postgres') expect(kinds).toContain('alter_enum')

      await apply(config, changes, live, after)
      const applied = await introspect(config)
      expect(diffSchemas(applied, after).map(summariseChange)).toEqual([])
      await usingDatabase(config, { mode: 'read', command: 'test' }, async (conn) => {
        expect(await query(conn as Conn, 'SELECT name, email_address, rank FROM authors ORDER BY id')).toEqual([
          { name: 'Ada', email_address: 'ada@x', rank: 3 },
          { name: 'Bob', email_address: 'bob@x', rank: 5 },
          { name: 'Cy', email_address: 'cy@x', rank: 7 },
        ])
        expect((await query(conn as Conn, 'SELECT headline FROM books ORDER BY id')).map((r) => r.headline)).toEqual([
          'One',
          'Two',
          'Three',
          'Four',
          'Five',
        ])
        expect(await query(conn as Conn, 'SELECT id, "full" FROM members')).toEqual([{ id: 1, full: 'P One' }])
      })

      // down: the inverses, last first
      const inverses = changes.map(invertChange).reverse()
      await apply(config, inverses, applied, before)
      expect(diffSchemas(await introspect(config), before).map(summariseChange)).toEqual([])
      await usingDatabase(config, { mode: 'read', command: 'test' }, async (conn) => {
        expect((await query(conn as Conn, 'SELECT title FROM books ORDER BY id')).map((r) => r.title)).toEqual([
          'One',
          'Two',
          'Three',
          'Four',
          'Five',
        ])
      })
    })
  })
}

describe('sqlite: rebuilding a parent table', () => {
  let db: TestDatabase | undefined
  afterEach(async () => {
    await db?.cleanup()
    db = undefined
  })

  const parent = (withCheck: boolean) =>
    table(
      'parents',
      { id: col.integer().primaryKey(), name: col.text(), score: col.integer().default(0) },
      { checks: withCheck ? ['score >= 0'] : [] },
    )
  const models = (withCheck: boolean) =>
    defineModels({
      parents: parent(withCheck),
      children: table('children', {
        id: col.integer().primaryKey(),
        parent_id: col.integer().references('parents', 'id', { onDelete: 'cascade' }),
      }),
      grandchildren: table('grandchildren', {
        id: col.integer().primaryKey(),
        child_id: col.integer().references('children', 'id', { onDelete: 'cascade' }),
      }),
    })

  async function setUp(): Promise<{ config: ResolvedConfig; changes: SchemaChange[]; live: DatabaseSchema; target: DatabaseSchema }> {
    db = await testDialects()[0]!.create()
    const config = await resolveConfig({ cwd: db.dir, env: { DATABASE_URL: db.url } })
    const before = modelsToSchema(models(false), 'sqlite')
    await apply(config, diffSchemas(emptySchema('sqlite'), before), emptySchema('sqlite'), before)
    await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
      const h = (conn as SqliteConnection).handle
      const insertParent = h.prepare('INSERT INTO parents (id, name) VALUES (?, ?)')
      const insertChild = h.prepare('INSERT INTO children (id, parent_id) VALUES (?, ?)')
      const insertGrandchild = h.prepare('INSERT INTO grandchildren (id, child_id) VALUES (?, ?)')
      h.transaction(() => {
        for (let i = 1; i <= 50; i++) insertParent.run(i, `p${i}`)
        for (let i = 1; i <= 200; i++) insertChild.run(i, (i % 50) + 1)
        for (let i = 1; i <= 400; i++) insertGrandchild.run(i, (i % 200) + 1)
      })()
      h.exec(
        'CREATE TRIGGER parents_audit AFTER UPDATE ON parents BEGIN UPDATE parents SET score = score + 1 WHERE id = NEW.id AND NEW.score = OLD.score; END',
      )
      h.exec('CREATE VIEW parent_names AS SELECT name FROM parents')
    })
    const live = await introspect(config)
    const target = modelsToSchema(models(true), 'sqlite')
    return { config, changes: diffSchemas(live, target), live, target }
  }

  test('with foreign keys off around the transaction and foreign_key_check before COMMIT, every child row stays', async () => {
    const { config, changes, live, target } = await setUp()
    expect(changes.map((c) => c.kind)).toEqual(['add_check'])
    const rendered = renderSchemaSql(changes, { from: live, to: target })
    expect(rendered.foreignKeysOff).toBe(true)
    await apply(config, changes, live, target)
    await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
      const h = (conn as SqliteConnection).handle
      expect(h.prepare('SELECT count(*) AS n FROM children').get()).toEqual({ n: 200 })
      expect(h.prepare('SELECT count(*) AS n FROM grandchildren').get()).toEqual({ n: 400 })
      expect(h.prepare('SELECT count(*) AS n FROM parent_names').get()).toEqual({ n: 50 })
      // the trigger came back with the table, and the cascade still works
      h.prepare('UPDATE parents SET name = ? WHERE id = 1').run('renamed')
      expect(h.prepare('SELECT score FROM parents WHERE id = 1').get()).toEqual({ score: 1 })
      h.prepare('DELETE FROM parents WHERE id = 1').run()
      expect(h.prepare('SELECT count(*) AS n FROM children').get()).toEqual({ n: 196 })
    })
    expect(diffSchemas(await introspect(config), target)).toEqual([])
  })

  test('control: the same SQL with foreign keys on inside the transaction deletes the children', async () => {
    const { config, changes, live, target } = await setUp()
    const rendered = renderSchemaSql(changes, { from: live, to: target })
    await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
      const h = (conn as SqliteConnection).handle
      h.exec('BEGIN')
      h.pragma('foreign_keys = OFF') // inside a transaction: does nothing
      h.exec(formatSqlStatements(rendered))
      h.exec('COMMIT')
      expect(h.prepare('SELECT count(*) AS n FROM children').get()).toEqual({ n: 0 })
    })
  })
})
