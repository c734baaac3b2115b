/**
 * The model DSL: what it becomes per dialect, the errors for bad models (each naming the
 * file, table and column), and the Kysely types `InferDatabase` gives (checked by
 * `npm run typecheck`, which compiles this file).
 */
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { type InferDatabase, col, defineModels, modelsToSchema, raw, table } from 'dbops'

const users = table(
  'users',
  {
    id: col.bigint().primaryKey().identity(),
    email: col.varchar(255).unique(),
    bio: col.text().nullable(),
    created_at: col.timestamptz().defaultNow(),
    status: col.enum(['active', 'disabled']).default('active'),
    mood: col.enum(['happy', 'sad'], { name: 'mood' }).nullable(),
    visits: col.integer().default(0),
    settings: col.jsonb<{ theme: 'dark' | 'light' }>().nullable(),
    is_admin: col.boolean().default(false),
    ref: col.uuid().$type<`ref_${string}`>(),
  },
  {
    indexes: [
      { columns: [raw('lower(email)')], unique: true, name: 'users_email_lower_key' },
      { columns: ['status', { column: 'created_at', descending: true }] },
    ],
  },
)
const posts = table('posts', {
  id: col.integer().primaryKey().serial(),
  author_id: col.bigint().references('users', 'id', { onDelete: 'cascade' }),
  title: col.text(),
})
const tickets = table('tickets', { serial_no: col.integer().primaryKey().identity({ always: true }), note: col.text() })
const models = defineModels({ users, posts, tickets })

describe('InferDatabase (type tests)', () => {
  type Pg = InferDatabase<typeof models, 'postgres'>
  type Lite = InferDatabase<typeof models, 'sqlite'>
  type Any = InferDatabase<typeof models>

  test('tables under their SQL names', () => {
    expectTypeOf<keyof Pg>().toEqualTypeOf<'users' | 'posts' | 'tickets'>()
  })

  test('plain, nullable, defaulted and generated columns', () => {
    expectTypeOf<Pg['users']['email']>().toEqualTypeOf<string>()
    expectTypeOf<Pg['users']['bio']>().toEqualTypeOf<string | null>()
    expectTypeOf<Pg['users']['visits']>().toEqualTypeOf<Generated<number>>()
    expectTypeOf<Pg['users']['status']>().toEqualTypeOf<Generated<'active' | 'disabled'>>()
    expectTypeOf<Pg['users']['mood']>().toEqualTypeOf<'happy' | 'sad' | null>()
    expectTypeOf<Pg['tickets']['serial_no']>().toEqualTypeOf<ColumnType<number, never, never>>()
    expectTypeOf<Pg['posts']['id']>().toEqualTypeOf<Generated<number>>()
    expectTypeOf<Pg['users']['ref']>().toEqualTypeOf<`ref_${string}`>()
  })

  test('driver types per dialect', () => {
    expectTypeOf<Selectable<Pg['users']>['created_at']>().toEqualTypeOf<Date>()
    expectTypeOf<Selectable<Lite['users']>['created_at']>().toEqualTypeOf<string>()
    expectTypeOf<Selectable<Pg['users']>['id']>().toEqualTypeOf<string>()
    expectTypeOf<Selectable<Lite['users']>['id']>().toEqualTypeOf<number>()
    expectTypeOf<Selectable<Lite['users']>['is_admin']>().toEqualTypeOf<number>()
    expectTypeOf<Selectable<Pg['users']>['is_admin']>().toEqualTypeOf<boolean>()
    expectTypeOf<Selectable<Any['users']>['created_at']>().toEqualTypeOf<Date | string>()
    expectTypeOf<Selectable<Pg['users']>['settings']>().toEqualTypeOf<{ theme: 'dark' | 'light' } | null>()
  })

  test('insert: generated and defaulted optional, nullable optional, required ones required', () => {
    type NewUser = Insertable<Lite['users']>
    expectTypeOf<NewUser>().toHaveProperty('email').toEqualTypeOf<string>()
    expectTypeOf<{ email: string; ref: `ref_${string}` }>().toExtend<NewUser>()
    expectTypeOf<{ email: string; ref: `ref_${string}`; bio: null; visits: 3 }>().toExtend<NewUser>()
    expectTypeOf<{ ref: `ref_${string}` }>().not.toExtend<NewUser>()
    // identity ALWAYS cannot be inserted or updated
    expectTypeOf<Insertable<Lite['tickets']>>().not.toHaveProperty('serial_no')
    expectTypeOf<Updateable<Lite['tickets']>>().not.toHaveProperty('serial_no')
  })

  test('typed queries compile', () => {
    // never called: the point is that these lines type-check (and the @ts-expect-error ones do not)
    async function queries(db: Kysely<InferDatabase<typeof models, 'sqlite'>>) {
      await db.insertInto('users').values({ email: 'a@b.c', ref: 'ref_1' }).execute()
      const rows = await db.selectFrom('users').select(['id', 'email', 'bio']).execute()
      expectTypeOf(rows).toEqualTypeOf<Array<{ id: number; email: string; bio: string | null }>>()
      // @ts-expect-error email is required
      await db.insertInto('users').values({ ref: 'ref_1' }).execute()
      // @ts-expect-error no such column
      await db.selectFrom('posts').select(['nope']).execute()
      // @ts-expect-error serial_no is GENERATED ALWAYS
      await db.updateTable('tickets').set({ serial_no: 3 }).execute()
    }
    expect(typeof queries).toBe('function')
  })

  test('options name only columns the table has', () => {
    // @ts-expect-error 'nope' is not a column of t
    table('t', { a: col.text() }, { primaryKey: ['nope'] })
    expect(true).toBe(true)
  })
})

describe('modelsToSchema', () => {
  test('PostgreSQL: identity, serial, named enum type, check enum, defaults, indexes, foreign keys', () => {
    const s = modelsToSchema(models, 'postgres')
    expect(s.enums).toEqual([{ name: 'mood', values: ['happy', 'sad'] }])
    const u = s.tables.find((t) => t.name === 'users')!
    expect(u.columns.find((c) => c.name === 'id')).toEqual({
      name: 'id',
      type: 'bigint',
      nullable: false,
      default: undefined,
      generated: 'identity',
      collation: undefined,
    })
    expect(s.tables.find((t) => t.name === 'tickets')!.columns[0]!.generated).toBe('identity-always')
    expect(u.columns.find((c) => c.name === 'mood')!.type).toBe('enum:mood')
    expect(u.columns.find((c) => c.name === 'created_at')!.default).toBe('now()')
    expect(u.columns.find((c) => c.name === 'is_admin')!.default).toBe('false')
    expect(u.checks).toEqual([{ name: 'users_status_check', expression: "status IN ('active', 'disabled')" }])
    expect(u.uniques).toEqual([{ name: 'users_email_key', columns: ['email'] }])
    expect(u.indexes.map((i) => i.name)).toEqual(['users_email_lower_key', 'users_status_created_at_idx'])
    const p = s.tables.find((t) => t.name === 'posts')!
    expect(p.columns[0]!.generated).toBe('serial')
    expect(p.foreignKeys).toEqual([
      {
        name: 'posts_author_id_fkey',
        columns: ['author_id'],
        referencedTable: 'users',
        referencedColumns: ['id'],
        onDelete: 'cascade',
        onUpdate: 'no action',
      },
    ])
  })

  test('SQLite: identity is the rowid alias, enums are checks, now() is CURRENT_TIMESTAMP, booleans are 0/1', () => {
    const s = modelsToSchema(models, 'sqlite')
    expect(s.enums).toEqual([])
    const u = s.tables.find((t) => t.name === 'users')!
    expect(u.columns.find((c) => c.name === 'id')).toMatchObject({ type: 'integer', generated: undefined })
    expect(u.columns.find((c) => c.name === 'mood')!.type).toBe('text')
    expect(u.checks.map((c) => c.name)).toEqual(['users_status_check', 'users_mood_check'])
    expect(u.columns.find((c) => c.name === 'created_at')!.default).toBe('CURRENT_TIMESTAMP')
    expect(u.columns.find((c) => c.name === 'is_admin')!.default).toBe('0')
  })

  test('per-dialect SQL', () => {
    const t = table('t', {
      id: col
        .uuid()
        .primaryKey()
        .default(raw({ postgres: 'gen_random_uuid()', sqlite: 'lower(hex(randomblob(16)))' })),
    })
    expect(modelsToSchema([t], 'postgres').tables[0]!.columns[0]!.default).toBe('gen_random_uuid()')
    expect(modelsToSchema([t], 'sqlite').tables[0]!.columns[0]!.default).toBe('lower(hex(randomblob(16)))')
    const only = table('t', { id: col.uuid().default(raw({ postgres: 'gen_random_uuid()' })) })
    expect(() => modelsToSchema([only], 'sqlite', { source: 'models.ts' })).toThrow('models.ts: t.id: default has no SQL for sqlite')
  })

  test.each([
    {
      name: 'two tables with one name',
      tables: () => [table('users', { id: col.integer() }), table('users', { id: col.integer() })],
      message: 'models.ts: two tables are named users',
    },
    {
      name: 'foreign key to a missing table',
      tables: () => [table('posts', { user_id: col.integer().references('people', 'id') })],
      message: 'models.ts: posts(user_id) references table people, which the models do not have',
    },
    {
      name: 'foreign key to a missing column',
      tables: () => [table('users', { id: col.integer() }), table('posts', { user_id: col.integer().references('users', 'uid') })],
      message: 'models.ts: posts(user_id) references users.uid, which does not exist',
    },
    {
      name: 'unknown column type',
      tables: () => [table('users', { balance: col.type('money') })],
      message: 'models.ts: users.balance: unknown column type money',
    },
    {
      name: 'a column that is not a column',
      tables: () => [table('users', { id: 'integer' as never })],
      message: 'models.ts: users.id is not a column',
    },
    {
      name: 'index on a missing column',
      tables: () => [table('users', { id: col.integer() }, { indexes: [{ columns: ['nope' as 'id'] }] })],
      message: 'models.ts: users: an index names column nope, which the table does not have',
    },
    {
      name: 'two primary keys',
      tables: () => [table('users', { a: col.integer().primaryKey(), b: col.integer().primaryKey() })],
      message: 'composite key goes in the table',
    },
    {
      name: 'identity on text',
      tables: () => [table('users', { a: col.text().identity() })],
      message: 'models.ts: users.a: .identity() needs an integer type, not text',
    },
  ])('error: $name', ({ tables, message }) => {
    let error: unknown
    try {
      modelsToSchema(tables(), 'postgres', { source: 'models.ts' })
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'MODELS_INVALID', exitCode: 2 })
    expect((error as Error).message).toContain(message)
  })

  test('SQLite: a generated column must be the single-column primary key', () => {
    expect(() => modelsToSchema([table('t', { a: col.integer().identity(), b: col.text() })], 'sqlite')).toThrow(
      "t.a: on SQLite a generated column must be the table's single-column primary key",
    )
  })

  test('col.custom() keeps a type dbops does not know', () => {
    expect(modelsToSchema([table('t', { ip: col.custom('INET') })], 'postgres').tables[0]!.columns[0]!.type).toBe('inet')
  })
})
