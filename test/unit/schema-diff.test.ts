/**
 * The diff engine, table-driven: (before, after, expected changes) for every change kind,
 * severities, renames declared and undeclared, dialect spellings that are not changes, and
 * the order of the list.
 */
import { Chalk } from 'chalk'
import { describe, expect, test } from 'vitest'
import type { SchemaComparison } from '../../src/drift/compare-schemas.js'
import { renderSchemaSql } from '../../src/schema/render-schema-sql.js'
import { renderSchemaDiffText, schemaDiffJson } from '../../src/ui/render-schema-diff.js'
import { diffSchemas, parseRenameDecision } from '../../src/schema/diff-schemas.js'
import type { ColumnSchema, DatabaseSchema, IndexSchema, TableSchema } from '../../src/schema/normalised-schema.js'
import { invertChange, type SchemaChange } from '../../src/schema/schema-change.js'

function column(name: string, type = 'integer', extra: Partial<ColumnSchema> = {}): ColumnSchema {
  return { name, type, nullable: false, default: undefined, generated: undefined, collation: undefined, ...extra }
}

function tbl(name: string, columns: ColumnSchema[], extra: Partial<TableSchema> = {}): TableSchema {
  return { name, columns, primaryKey: [], primaryKeyName: undefined, indexes: [], uniques: [], checks: [], foreignKeys: [], ...extra }
}

function schema(tables: TableSchema[], extra: Partial<DatabaseSchema> = {}): DatabaseSchema {
  return { dialect: 'postgres', tables, enums: [], unmanaged: [], ...extra }
}

function idx(name: string, columns: string[], extra: Partial<IndexSchema> = {}): IndexSchema {
  return {
    name,
    unique: false,
    columns: columns.map((value) => ({ kind: 'column', value, descending: false })),
    where: undefined,
    method: undefined,
    ...extra,
  }
}

const users = (extra: Partial<TableSchema> = {}, columns: ColumnSchema[] = [column('id'), column('email', 'text')]) =>
  tbl('users', columns, { primaryKey: ['id'], primaryKeyName: 'users_pkey', ...extra })
const posts = (extra: Partial<TableSchema> = {}) => tbl('posts', [column('id'), column('user_id')], { primaryKey: ['id'], ...extra })
const fk = {
  name: 'posts_user_id_fkey',
  columns: ['user_id'],
  referencedTable: 'users',
  referencedColumns: ['id'],
  onDelete: 'cascade' as const,
  onUpdate: 'no action' as const,
}

/** kind and severity (and the subject) of each change, for compact expectations. */
function brief(changes: SchemaChange[]): string[] {
  return changes.map((c) => `${c.kind}:${c.severity}`)
}

describe('diffSchemas: every change kind', () => {
  test.each<{ name: string; before: DatabaseSchema; after: DatabaseSchema; expected: string[] }>([
    { name: 'create table', before: schema([users()]), after: schema([users(), posts()]), expected: ['create_table:safe'] },
    {
      name: 'drop table',
      before: schema([users(), tbl('legacy', [column('x', 'text')])]),
      after: schema([users()]),
      expected: ['drop_table:data_loss'],
    },
    {
      name: 'add nullable column',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text'), column('bio', 'text', { nullable: true })])]),
      expected: ['add_column:safe'],
    },
    {
      name: 'add NOT NULL column with a default',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text'), column('n', 'integer', { default: '0' })])]),
      expected: ['add_column:safe'],
    },
    {
      name: 'add NOT NULL column without a default',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text'), column('n', 'bigint')])]),
      expected: ['add_column:destructive'],
    },
    { name: 'drop column', before: schema([users()]), after: schema([users({}, [column('id')])]), expected: ['drop_column:data_loss'] },
    {
      name: 'widen a type',
      before: schema([users()]),
      after: schema([users({}, [column('id', 'bigint'), column('email', 'text')])]),
      expected: ['alter_column:safe'],
    },
    {
      name: 'narrow a type',
      before: schema([users({}, [column('id'), column('email', 'varchar(255)')])]),
      after: schema([users({}, [column('id'), column('email', 'varchar(50)')])]),
      expected: ['alter_column:data_loss'],
    },
    {
      name: 'set NOT NULL',
      before: schema([users({}, [column('id'), column('email', 'text', { nullable: true })])]),
      after: schema([users()]),
      expected: ['alter_column:destructive'],
    },
    {
      name: 'drop NOT NULL',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text', { nullable: true })])]),
      expected: ['alter_column:safe'],
    },
    {
      name: 'change a default',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text', { default: "''" })])]),
      expected: ['alter_column:safe'],
    },
    {
      name: 'add identity',
      before: schema([users()]),
      after: schema([users({}, [column('id', 'integer', { generated: 'identity' }), column('email', 'text')])]),
      expected: ['alter_column:destructive'],
    },
    {
      name: 'change collation',
      before: schema([users()]),
      after: schema([users({}, [column('id'), column('email', 'text', { collation: 'C' })])]),
      expected: ['alter_column:destructive'],
    },
    {
      name: 'change primary key',
      before: schema([users()]),
      after: schema([users({ primaryKey: ['id', 'email'] })]),
      expected: ['alter_primary_key:destructive'],
    },
    {
      name: 'add index',
      before: schema([users()]),
      after: schema([users({ indexes: [idx('users_email_idx', ['email'])] })]),
      expected: ['add_index:safe'],
    },
    {
      name: 'add unique index',
      before: schema([users()]),
      after: schema([users({ indexes: [idx('users_email_idx', ['email'], { unique: true })] })]),
      expected: ['add_index:destructive'],
    },
    {
      name: 'drop index',
      before: schema([users({ indexes: [idx('users_email_idx', ['email'])] })]),
      after: schema([users()]),
      expected: ['drop_index:safe'],
    },
    {
      name: 'rename index (same definition)',
      before: schema([users({ indexes: [idx('old_idx', ['email'])] })]),
      after: schema([users({ indexes: [idx('users_email_idx', ['email'])] })]),
      expected: ['rename_index:safe'],
    },
    {
      name: 'index definition changed',
      before: schema([users({ indexes: [idx('users_email_idx', ['email'])] })]),
      after: schema([users({ indexes: [idx('users_email_idx', ['email'], { where: 'email IS NOT NULL' })] })]),
      expected: ['drop_index:safe', 'add_index:safe'],
    },
    {
      name: 'add unique',
      before: schema([users()]),
      after: schema([users({ uniques: [{ name: 'users_email_key', columns: ['email'] }] })]),
      expected: ['add_unique:destructive'],
    },
    {
      name: 'drop unique',
      before: schema([users({ uniques: [{ name: 'users_email_key', columns: ['email'] }] })]),
      after: schema([users()]),
      expected: ['drop_unique:safe'],
    },
    {
      name: 'add check',
      before: schema([users()]),
      after: schema([users({ checks: [{ name: 'c', expression: "email LIKE '%@%'" }] })]),
      expected: ['add_check:destructive'],
    },
    {
      name: 'drop check',
      before: schema([users({ checks: [{ name: 'c', expression: "email LIKE '%@%'" }] })]),
      after: schema([users()]),
      expected: ['drop_check:safe'],
    },
    {
      name: 'add foreign key',
      before: schema([users(), posts()]),
      after: schema([users(), posts({ foreignKeys: [fk] })]),
      expected: ['add_foreign_key:destructive'],
    },
    {
      name: 'drop foreign key',
      before: schema([users(), posts({ foreignKeys: [fk] })]),
      after: schema([users(), posts()]),
      expected: ['drop_foreign_key:safe'],
    },
    {
      name: 'foreign key action changed',
      before: schema([users(), posts({ foreignKeys: [fk] })]),
      after: schema([users(), posts({ foreignKeys: [{ ...fk, onDelete: 'restrict' }] })]),
      expected: ['drop_foreign_key:safe', 'add_foreign_key:destructive'],
    },
    {
      name: 'create enum',
      before: schema([]),
      after: schema([], { enums: [{ name: 'mood', values: ['a'] }] }),
      expected: ['create_enum:safe'],
    },
    {
      name: 'drop enum',
      before: schema([], { enums: [{ name: 'mood', values: ['a'] }] }),
      after: schema([]),
      expected: ['drop_enum:safe'],
    },
    {
      name: 'add enum values',
      before: schema([], { enums: [{ name: 'mood', values: ['a'] }] }),
      after: schema([], { enums: [{ name: 'mood', values: ['a', 'b'] }] }),
      expected: ['alter_enum:safe'],
    },
    {
      name: 'remove an enum value',
      before: schema([], { enums: [{ name: 'mood', values: ['a', 'b'] }] }),
      after: schema([], { enums: [{ name: 'mood', values: ['a'] }] }),
      expected: ['alter_enum:destructive'],
    },
  ])('$name', ({ before, after, expected }) => {
    const changes = diffSchemas(before, after)
    expect(brief(changes)).toEqual(expected)
    // every change has an inverse that undoes it: diffing back gives the inverse kinds
    const back = diffSchemas(after, before)
    expect(back.map((c) => c.kind).sort()).toEqual(changes.map((c) => invertChange(c).kind).sort())
  })
})

describe('diffSchemas: what is not a change', () => {
  test.each<{ name: string; a: TableSchema; b: TableSchema }>([
    {
      name: 'dialect spellings of types, defaults and checks',
      a: users({ checks: [{ name: 'users_email_check', expression: "((email)::text ~~ '%@%'::text)" }] }, [
        column('id', 'integer', { default: "'-1'::integer" }),
        column('email', 'varchar(255)', { default: "'x'::character varying" }),
      ]),
      b: users({ checks: [{ name: undefined, expression: "email LIKE '%@%'" }] }, [
        column('id', 'integer', { default: '-1' }),
        column('email', 'varchar(255)', { default: "'x'" }),
      ]),
    },
    {
      name: 'constraint names (matched by definition)',
      a: users({ uniques: [{ name: 'users_email_key', columns: ['email'] }], primaryKeyName: 'users_pkey' }),
      b: users({ uniques: [{ name: 'something_else', columns: ['email'] }], primaryKeyName: 'pk_users' }),
    },
    {
      name: 'index expressions as PostgreSQL deparses them',
      a: users({
        indexes: [
          {
            name: 'i',
            unique: true,
            columns: [{ kind: 'expression', value: 'lower(email::text)', descending: false }],
            where: '(email IS NOT NULL)',
            method: undefined,
          },
        ],
      }),
      b: users({
        indexes: [
          {
            name: 'i',
            unique: true,
            columns: [{ kind: 'expression', value: 'lower(email)', descending: false }],
            where: 'email IS NOT NULL',
            method: undefined,
          },
        ],
      }),
    },
    {
      name: 'now() and CURRENT_TIMESTAMP',
      a: users({}, [column('id'), column('email', 'timestamptz', { default: 'now()' })]),
      b: users({}, [column('id'), column('email', 'timestamptz', { default: 'CURRENT_TIMESTAMP' })]),
    },
    {
      name: 'boolean defaults 0 and false',
      a: users({}, [column('id'), column('email', 'boolean', { default: '0' })]),
      b: users({}, [column('id'), column('email', 'boolean', { default: 'false' })]),
    },
  ])('$name', ({ a, b }) => {
    expect(diffSchemas(schema([a]), schema([b]))).toEqual([])
  })

  test('unmanaged objects never count', () => {
    const a = schema([users()], {
      unmanaged: [
        { kind: 'view', name: 'v' },
        { kind: 'trigger', name: 't', table: 'users' },
        { kind: 'function', name: 'f()' },
      ],
    })
    expect(diffSchemas(a, schema([users()]))).toEqual([])
  })
})

describe('diffSchemas: renames', () => {
  const before = schema([users({}, [column('id'), column('name', 'text')])])
  const after = schema([users({}, [column('id'), column('full_name', 'text')])])

  test('an undeclared likely rename is a drop and an add, each with a warning', () => {
    const changes = diffSchemas(before, after)
    expect(brief(changes)).toEqual(['add_column:destructive', 'drop_column:data_loss'])
    for (const c of changes)
      expect(c.warning).toMatch(
        /looks like a rename of users\.name to full_name; declare \.renamedFrom\('name'\).*--rename users\.name=full_name/,
      )
  })

  test('--rename decides', () => {
    const changes = diffSchemas(before, after, { renames: [parseRenameDecision('users.name=full_name')] })
    expect(changes).toMatchObject([{ kind: 'rename_column', table: 'users', from: 'name', to: 'full_name', severity: 'destructive' }])
    expect(changes[0]!.warning).toBeUndefined()
  })

  test('renamedFrom in the models decides, and a type change comes with it', () => {
    const declared = schema([users({}, [column('id'), column('full_name', 'varchar(100)', { renamedFrom: ['name'] })])])
    expect(brief(diffSchemas(before, declared))).toEqual(['rename_column:destructive', 'alter_column:data_loss'])
    // once applied, the declaration is harmless
    expect(diffSchemas(schema([users({}, [column('id'), column('full_name', 'varchar(100)')])]), declared)).toEqual([])
  })

  test('tables: undeclared → warnings; declared → rename; indexes and keys follow the new names', () => {
    const people = tbl('people', [column('id'), column('email', 'text')], {
      primaryKey: ['id'],
      indexes: [idx('people_email_idx', ['email'])],
    })
    const renamed = users({ indexes: [idx('people_email_idx', ['email'])] })
    const guessed = diffSchemas(schema([people]), schema([renamed]))
    expect(brief(guessed)).toEqual(['create_table:safe', 'drop_table:data_loss'])
    expect(guessed[0]!.warning).toContain('--rename people=users')
    expect(brief(diffSchemas(schema([people]), schema([{ ...renamed, renamedFrom: ['people'] }])))).toEqual(['rename_table:destructive'])
    expect(brief(diffSchemas(schema([people]), schema([renamed]), { renames: [parseRenameDecision('people=users')] }))).toEqual([
      'rename_table:destructive',
    ])
  })

  test('a foreign key to a renamed table is not dropped and re-added', () => {
    const people = tbl('people', [column('id')], { primaryKey: ['id'] })
    const a = schema([people, posts({ foreignKeys: [{ ...fk, referencedTable: 'people' }] })])
    const b = schema([tbl('users', [column('id')], { primaryKey: ['id'], renamedFrom: ['people'] }), posts({ foreignKeys: [fk] })])
    expect(brief(diffSchemas(a, b))).toEqual(['rename_table:destructive'])
  })

  test.each(['users', 'a.b.c=d', '=x', 'users.name='])('--rename %s is a usage error', (text) => {
    expect(() => parseRenameDecision(text)).toThrow(/expected old=new/)
  })
})

describe('diffSchemas: order', () => {
  test('drops of foreign keys come first, new foreign keys last, dropped tables children first', () => {
    const a = schema([
      users(),
      posts({ foreignKeys: [fk] }),
      tbl('comments', [column('post_id')], { foreignKeys: [{ ...fk, name: 'c_fk', columns: ['post_id'], referencedTable: 'posts' }] }),
    ])
    const b = schema([
      users({}, [column('id'), column('email', 'text'), column('x', 'text', { nullable: true })]),
      tbl('tags', [column('id')], { foreignKeys: [{ ...fk, name: 't_fk', columns: ['id'] }] }),
    ])
    const kinds = diffSchemas(a, b).map((c) => `${c.kind} ${c.table}`)
    expect(kinds).toEqual(['create_table tags', 'add_column users', 'drop_table comments', 'drop_table posts'])
    const c = schema([users(), posts()])
    const d = schema([users({ indexes: [idx('i', ['email'])] }), posts({ foreignKeys: [fk] })])
    expect(diffSchemas(c, d).map((x) => x.kind)).toEqual(['add_index', 'add_foreign_key'])
  })
})

describe('rendering a comparison', () => {
  const before = schema([users(), posts({ foreignKeys: [fk] }), tbl('legacy', [column('x', 'text')])])
  const after = schema([
    users({}, [column('id'), column('email', 'varchar(100)'), column('bio', 'text', { nullable: true })]),
    posts({ foreignKeys: [{ ...fk, onDelete: 'restrict' }] }),
  ])
  const changes = diffSchemas(before, after)
  const result: SchemaComparison = {
    against: 'live',
    dialect: 'postgres',
    modelsFile: 'models.ts',
    changes,
    warnings: [],
    unmanaged: [{ kind: 'trigger', name: 't', table: 'users', definition: 'CREATE TRIGGER …' }],
    notCompared: [],
    sql: renderSchemaSql(changes, { from: before, to: after }),
    from: before,
    to: after,
  }

  test('text: added green, removed red, changed yellow, severity marked', () => {
    const c = new Chalk({ level: 1 })
    const lines = renderSchemaDiffText(result, c)
    expect(lines).toContain(c.green('+ add column users.bio text null'))
    expect(lines).toContain(`${c.red('- drop table legacy')} ${c.red.bold('[data loss]')}`)
    expect(lines).toContain(`${c.yellow('~ alter column users.email: type text → varchar(100)')} ${c.red.bold('[data loss]')}`)
    expect(lines).toContain(
      `${c.green('+ add foreign key posts(user_id) → users(id) on delete restrict')} ${c.yellow.bold('[destructive]')}`,
    )
    expect(lines.at(-1)).toBe('5 changes from the database to models.ts, 2 with data loss, 1 destructive')
    expect(renderSchemaDiffText({ ...result, changes: [] }, c)).toEqual(['No differences: the database matches models.ts.'])
  })

  test('JSON: snake_case keys, a summary per change, SQL, unmanaged without definitions', () => {
    const doc = schemaDiffJson(result) as any
    expect(doc).toMatchObject({ differs: true, summary: { changes: 5, safe: 2, destructive: 1, data_loss: 2 } })
    expect(doc.changes.find((c: any) => c.kind === 'add_foreign_key')).toMatchObject({
      table: 'posts',
      severity: 'destructive',
      foreign_key: { referenced_table: 'users', referenced_columns: ['id'], on_delete: 'restrict', on_update: 'no action' },
      summary: 'add foreign key posts(user_id) → users(id) on delete restrict',
    })
    expect(doc.unmanaged).toEqual([{ kind: 'trigger', name: 't', table: 'users' }])
    expect(doc.sql).toContain(
      'ALTER TABLE posts ADD CONSTRAINT posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT;',
    )
    expect(doc.sql).toContain('DROP TABLE legacy;')
  })
})
