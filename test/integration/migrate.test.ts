import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { usingDatabase } from '../../src/dialects/index.js'
import { DbopsError } from '../../src/errors.js'
import { baselineMigrations } from '../../src/migrate/baseline-migrations.js'
import { checksumOf } from '../../src/migrate/discover-migrations.js'
import { generateMigration } from '../../src/migrate/generate-migration.js'
import { importDbmate } from '../../src/migrate/import-dbmate.js'
import { migrateDown } from '../../src/migrate/migrate-down.js'
import { migrateUp } from '../../src/migrate/migrate-up.js'
import { MigrationFailedError } from '../../src/migrate/migration-failed-error.js'
import { getMigrationStatus } from '../../src/migrate/migration-status.js'
import { readMigrationHead } from '../../src/migrate/migration-store.js'
import { repairMigrations } from '../../src/migrate/repair-migrations.js'
import { testDialects } from '../support/dialects.js'
import { withUrl } from '../support/postgres.js'
import { type MigrationProject, createMigrationProject, sqlMigration } from '../support/migrations.js'

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<DbopsError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof DbopsError) return err
    throw err
  }
  throw new Error('expected a failure')
}

for (const dialect of testDialects()) {
  describe(`${dialect.name}: migrations`, () => {
    let p: MigrationProject
    beforeEach(async () => {
      p = await createMigrationProject(dialect)
    })
    afterEach(async () => {
      await p.cleanup()
    })

    test('up applies pending migrations in order and records each with its checksum; status and the head agree', async () => {
      const a = p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer PRIMARY KEY);', 'DROP TABLE a;'))
      p.write('20250101000002_b.sql', sqlMigration("CREATE TABLE b (id integer PRIMARY KEY, note text DEFAULT 'x;y');", 'DROP TABLE b;'))
      p.write('README.md', 'not a migration')
      const config = await p.config()
      const result = await migrateUp(config)
      expect(result.error).toBeUndefined()
      expect(result.results.map((r) => [r.name, r.status])).toEqual([
        ['20250101000001_a.sql', 'applied'],
        ['20250101000002_b.sql', 'applied'],
      ])
      expect(result.head).toBe('20250101000002')
      expect(await p.tables()).toEqual(['a', 'b'])
      const rows = await p.rows()
      expect(rows.map((r) => [r.version, r.name, r.status])).toEqual([
        ['20250101000001', '20250101000001_a.sql', 'applied'],
        ['20250101000002', '20250101000002_b.sql', 'applied'],
      ])
      expect(rows[0]!.checksum).toBe(checksumOf(fs.readFileSync(a)))
      expect(rows[0]!.dbops_version).toMatch(/^\d+\.\d+\.\d+/)
      expect(Number(rows[0]!.duration_ms)).toBeGreaterThanOrEqual(0)

      const status = await getMigrationStatus(config)
      expect(status.summary).toMatchObject({ applied: 2, pending: 0 })
      expect(status.exit_code).toBe(0)
      expect(status.ignored_files).toEqual(['README.md'])
      expect(status.migrations[0]!.applied_at).toMatch(/^\d{4}-\d\d-\d\dT/)
      const head = await usingDatabase(config, { mode: 'read', command: 'test' }, (conn) =>
        readMigrationHead(conn.db, conn.dialect, config.migrationsTable),
      )
      expect(head).toBe('20250101000002')

      const again = await migrateUp(config)
      expect(again.results).toEqual([])
    })

    test('readMigrationHead is undefined when dbops_migrations does not exist; status creates nothing', async () => {
      const config = await p.config()
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      const status = await getMigrationStatus(config)
      expect(status.summary.pending).toBe(1)
      expect(status.exit_code).toBe(3)
      if (dialect.name === 'sqlite') expect(fs.existsSync(config.target.dialect === 'sqlite' ? config.target.path : '')).toBe(false)
      const head = await usingDatabase(config, { mode: 'write', command: 'test' }, (conn) =>
        readMigrationHead(conn.db, conn.dialect, config.migrationsTable),
      )
      expect(head).toBeUndefined()
      expect(await p.rows()).toEqual([])
    })

    test('a SQL error in the third statement names the file, the line and the database message; nothing of it remains; earlier migrations stay', async () => {
      p.write('20250101000001_ok.sql', sqlMigration('CREATE TABLE ok (id integer);'))
      p.write(
        '20250101000002_broken.sql',
        '-- migrate:up\nCREATE TABLE first (id integer);\nCREATE TABLE second (id integer);\n\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE fourth (id integer);\n',
      )
      p.write('20250101000003_later.sql', sqlMigration('CREATE TABLE later (id integer);'))
      const result = await migrateUp(await p.config())
      expect(result.error).toBeInstanceOf(MigrationFailedError)
      const error = result.error as MigrationFailedError
      expect(error.exitCode).toBe(1)
      expect(error.message).toContain('Migration migrations/20250101000002_broken.sql (up) failed at line 5')
      expect(error.message).toMatch(/no_such_table/)
      expect(error.location).toMatchObject({ line: 5 })
      expect(error.hint).toContain('Nothing of it was applied')
      expect(error.hint).toContain('The migration before it in this run stays applied')
      expect(result.results.map((r) => r.status)).toEqual(['applied', 'failed', 'not_run'])
      expect(await p.tables()).toEqual(['ok'])
      expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
    })

    test('an error the database gives no position for is located by its statement', async () => {
      p.write(
        '20250101000001_runtime.sql',
        '-- migrate:up\nCREATE TABLE r (id integer PRIMARY KEY);\nINSERT INTO r VALUES (1);\n  INSERT INTO r VALUES (1);\n',
      )
      const error = (await migrateUp(await p.config())).error as MigrationFailedError
      expect(error.message).toMatch(
        /^Migration migrations\/20250101000001_runtime\.sql \(up\) failed at line 4, column 3: .*(unique|UNIQUE)/,
      )
      expect(await p.tables()).toEqual([])
    })

    test('an edited applied file stops up (exit 6); a CRLF-only change is not a change; repair accepts the edit', async () => {
      const file = p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);', 'DROP TABLE a;'))
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      const config = await p.config()
      await migrateUp(config, { step: 1 })

      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('\n', '\r\n'))
      expect((await getMigrationStatus(config)).summary.changed).toBe(0)

      fs.writeFileSync(file, sqlMigration('CREATE TABLE a (id integer, extra text);', 'DROP TABLE a;'))
      const error = await failure(migrateUp(config))
      expect(error.exitCode).toBe(6)
      expect(error.code).toBe('MIGRATION_CHANGED')
      expect(error.message).toContain('changed since they were applied: 20250101000001_a.sql')
      expect(error.hint).toContain('dbops migrate repair')
      expect(await p.tables()).toEqual(['a'])
      const status = await getMigrationStatus(config)
      expect(status.exit_code).toBe(6)
      expect(status.migrations[0]!.status).toBe('changed')

      const repaired = await repairMigrations(config)
      expect(repaired.changes).toEqual([expect.objectContaining({ action: 'accepted_checksum', name: '20250101000001_a.sql' })])
      expect(repaired.changes[0]!.detail).toContain('nothing was run')
      expect((await migrateUp(config)).results.map((r) => r.name)).toEqual(['20250101000002_b.sql'])
    })

    test('a deleted applied file stops up (exit 6) until repair forgets it', async () => {
      const file = p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      const config = await p.config()
      await migrateUp(config)
      fs.rmSync(file)
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      const error = await failure(migrateUp(config))
      expect(error).toMatchObject({ exitCode: 6, code: 'MIGRATION_MISSING' })
      expect(error.message).toContain('applied but missing from migrations: 20250101000001_a.sql')
      const repaired = await repairMigrations(config, { name: '20250101000001' })
      expect(repaired.changes[0]).toMatchObject({ action: 'forgot_missing' })
      expect((await migrateUp(config)).results.map((r) => r.status)).toEqual(['applied'])
    })

    test('two files with one version are an integrity error naming both', async () => {
      p.write('20250101000001_a.sql', sqlMigration('SELECT 1;'))
      p.write('20250101000001_b.sql', sqlMigration('SELECT 2;'))
      const error = await failure(migrateUp(await p.config()))
      expect(error).toMatchObject({ exitCode: 6, code: 'DUPLICATE_VERSION' })
      expect(error.message).toContain('20250101000001 (20250101000001_a.sql, 20250101000001_b.sql)')
      expect(await p.rows()).toEqual([])
    })

    test('an out-of-order pending file is refused (exit 6) unless allowed', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      p.write('20250101000003_c.sql', sqlMigration('CREATE TABLE c (id integer);'))
      const config = await p.config()
      await migrateUp(config)
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      const error = await failure(migrateUp(config))
      expect(error).toMatchObject({ exitCode: 6, code: 'MIGRATION_OUT_OF_ORDER' })
      expect(error.message).toContain('20250101000002_b.sql')
      expect(error.hint).toContain('--allow-out-of-order')
      expect((await getMigrationStatus(config)).migrations[1]).toMatchObject({
        status: 'pending',
        out_of_order: true,
      })
      const result = await migrateUp(config, { allowOutOfOrder: true })
      expect(result.results.map((r) => r.status)).toEqual(['applied'])
      expect(await p.tables()).toEqual(['a', 'b', 'c'])
    })

    test('a .ts migration that throws fails with the file and line; its transaction rolls back', async () => {
      p.write(
        '20250101000001_throws.ts',
        [
          "import { sql, type Kysely } from 'kysely'",
          '',
          'export async function up(db: Kysely<any>): Promise<void> {',
          '  await sql`CREATE TABLE from_ts (id integer)`.execute(db)',
          "  throw new Error('backfill went wrong')",
          '}',
          '',
        ].join('\n'),
      )
      const result = await migrateUp(await p.config())
      const error = result.error as MigrationFailedError
      expect(error.exitCode).toBe(1)
      expect(error.message).toBe('Migration migrations/20250101000001_throws.ts (up) failed at line 5, column 9: backfill went wrong')
      expect(await p.tables()).toEqual([])
      expect(await p.rows()).toEqual([])
    })

    test('a .ts migration that does not compile stops the run before anything is applied', async () => {
      p.write('20250101000001_fine.sql', sqlMigration('CREATE TABLE fine (id integer);'))
      p.write('20250101000002_broken.ts', 'export async function up(db) {\n  const x = {\n  return 1\n}\n')
      const error = await failure(migrateUp(await p.config()))
      expect(error).toBeInstanceOf(MigrationFailedError)
      expect(error.code).toBe('MIGRATION_LOAD_FAILED')
      expect(error.message).toMatch(/^Migration migrations\/20250101000002_broken\.ts could not be loaded at line 3, column \d+: /)
      expect(await p.tables()).toEqual([])
    })

    test('a .ts migration runs up and down with Kysely, importing kysely without installing it', async () => {
      p.write(
        '20250101000001_kysely.ts',
        [
          "import type { Kysely } from 'kysely'",
          'export async function up(db: Kysely<any>) {',
          "  await db.schema.createTable('from_ts').addColumn('id', 'integer').execute()",
          "  await db.insertInto('from_ts').values({ id: 1 }).execute()",
          '}',
          'export async function down(db: Kysely<any>) {',
          "  await db.schema.dropTable('from_ts').execute()",
          '}',
        ].join('\n'),
      )
      const config = await p.config()
      expect((await migrateUp(config)).error).toBeUndefined()
      expect(await p.query('SELECT id FROM from_ts')).toEqual([{ id: 1 }])
      expect((await migrateDown(config)).results.map((r) => r.status)).toEqual(['reverted'])
      expect(await p.tables()).toEqual([])
    })

    test('a missing migrations directory is a usage error (exit 2) naming it', async () => {
      fs.rmSync(p.migrationsDir, { recursive: true })
      const error = await failure(migrateUp(await p.config()))
      expect(error).toMatchObject({ exitCode: 2, code: 'MIGRATIONS_DIR_MISSING' })
      expect(error.message).toBe('Migrations directory migrations does not exist')
    })

    test('a dbmate-managed database: up refuses and names import-dbmate, which adopts the history', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      await p.query('CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)')
      await p.query("INSERT INTO schema_migrations (version) VALUES ('20250101000001')")
      await p.query('CREATE TABLE a (id integer)')
      const config = await p.config()
      const error = await failure(migrateUp(config))
      expect(error).toMatchObject({ exitCode: 6, code: 'DBMATE_MANAGED' })
      expect(error.hint).toContain('dbops migrate import-dbmate')
      expect((await getMigrationStatus(config)).exit_code).toBe(6)

      const imported = await importDbmate(config)
      expect(imported.imported).toEqual([{ version: '20250101000001', name: '20250101000001_a.sql' }])
      const result = await migrateUp(config)
      expect(result.results.map((r) => r.name)).toEqual(['20250101000002_b.sql'])
      expect(await p.tables()).toEqual(['a', 'b'])
    })

    test('down rolls back one step by default, --to stays at a migration, --to 0 rolls back all', async () => {
      for (const name of ['a', 'b', 'c'])
        p.write(
          `2025010100000${name.charCodeAt(0) - 96}_${name}.sql`,
          sqlMigration(`CREATE TABLE ${name} (id integer);`, `DROP TABLE ${name};`),
        )
      const config = await p.config()
      await migrateUp(config)
      expect((await migrateDown(config)).results.map((r) => [r.name, r.status])).toEqual([['20250101000003_c.sql', 'reverted']])
      expect(await p.tables()).toEqual(['a', 'b'])
      await migrateUp(config)
      const toA = await migrateDown(config, { to: '20250101000001_a' })
      expect(toA.results.map((r) => r.name)).toEqual(['20250101000003_c.sql', '20250101000002_b.sql'])
      expect(toA.head).toBe('20250101000001')
      await migrateDown(config, { to: '0' })
      expect(await p.tables()).toEqual([])
      expect(await p.rows()).toEqual([])
    })

    test('down refuses before rolling anything back when a migration has no down section', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);', 'DROP TABLE a;'))
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      p.write('20250101000003_c.sql', sqlMigration('CREATE TABLE c (id integer);', 'DROP TABLE c;'))
      const config = await p.config()
      await migrateUp(config)
      const error = await failure(migrateDown(config, { step: 3 }))
      expect(error).toMatchObject({ exitCode: 1, code: 'MIGRATION_NO_DOWN' })
      expect(error.message).toBe(
        'Migration migrations/20250101000002_b.sql cannot be rolled back: its `-- migrate:down` section is missing or empty',
      )
      expect(await p.tables()).toEqual(['a', 'b', 'c'])
    })

    test('down is guarded in production', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);', 'DROP TABLE a;'))
      await migrateUp(await p.config())
      const production = await p.config({ NODE_ENV: 'production' })
      expect(await failure(migrateDown(production))).toMatchObject({
        exitCode: 2,
        code: 'PRODUCTION_GUARD',
      })
      expect(await failure(repairMigrations(production))).toMatchObject({
        code: 'PRODUCTION_GUARD',
      })
      expect((await migrateDown(production, { yes: true })).results.map((r) => r.status)).toEqual(['reverted'])
    })

    test('a transaction:false migration that fails midway is dirty: up exits 6, repair clears it', async () => {
      p.write(
        '20250101000001_nontx.sql',
        sqlMigration(
          'CREATE TABLE part_one (id integer);\nINSERT INTO missing_table VALUES (1);\nCREATE TABLE part_two (id integer);',
          undefined,
          'transaction:false',
        ),
      )
      const config = await p.config()
      const result = await migrateUp(config)
      expect(result.error).toMatchObject({ exitCode: 1 })
      expect(result.error!.message).toContain('failed at line 3')
      expect(result.error!.message).toContain('is now dirty')
      expect(await p.tables()).toEqual(['part_one'])
      expect((await p.rows()).map((r) => r.status)).toEqual(['started'])
      const refused = await failure(migrateUp(config))
      expect(refused).toMatchObject({ exitCode: 6, code: 'MIGRATION_DIRTY' })
      expect((await getMigrationStatus(config)).summary.dirty).toBe(1)

      await p.query('DROP TABLE part_one')
      p.write(
        '20250101000001_nontx.sql',
        sqlMigration('CREATE TABLE part_one (id integer);\nCREATE TABLE part_two (id integer);', undefined, 'transaction:false'),
      )
      const repaired = await repairMigrations(config, { name: '20250101000001_nontx.sql' })
      expect(repaired.changes[0]).toMatchObject({ action: 'cleared_dirty' })
      expect(repaired.changes[0]!.detail).toContain('pending again')
      const rerun = await migrateUp(config)
      expect(rerun.error).toBeUndefined()
      expect(rerun.results.map((r) => r.status)).toEqual(['applied'])
      expect((await p.rows()).map((r) => r.status)).toEqual(['applied'])
    })

    test('baseline records migrations as applied without running them', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
      p.write('20250101000002_b.sql', sqlMigration('CREATE TABLE b (id integer);'))
      p.write('20250101000003_c.sql', sqlMigration('CREATE TABLE c (id integer);'))
      await p.query('CREATE TABLE a (id integer)')
      await p.query('CREATE TABLE b (id integer)')
      const config = await p.config()
      const result = await baselineMigrations(config, { to: '20250101000002' })
      expect(result.recorded.map((m) => m.name)).toEqual(['20250101000001_a.sql', '20250101000002_b.sql'])
      expect((await migrateUp(config)).results.map((r) => r.name)).toEqual(['20250101000003_c.sql'])
    })

    test('dry run prints the plan and statements and changes nothing', async () => {
      p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);\nINSERT INTO a VALUES (1);'))
      const config = await p.config()
      const result = await migrateUp(config, { dryRun: true })
      expect(result.results).toEqual([
        {
          version: '20250101000001',
          name: '20250101000001_a.sql',
          status: 'planned',
          duration_ms: null,
          transaction: true,
          statements: ['CREATE TABLE a (id integer)', 'INSERT INTO a VALUES (1)'],
        },
      ])
      expect(await p.rows()).toEqual([])
      expect(await p.tables()).toEqual([])
    })

    test('up --to and --step select the pending migrations', async () => {
      for (const n of [1, 2, 3, 4]) p.write(`2025010100000${n}_m${n}.sql`, sqlMigration(`CREATE TABLE m${n} (id integer);`))
      const config = await p.config()
      expect((await migrateUp(config, { step: 1 })).results.map((r) => r.version)).toEqual(['20250101000001'])
      expect((await migrateUp(config, { to: '20250101000003_m3.sql' })).results.map((r) => r.version)).toEqual([
        '20250101000002',
        '20250101000003',
      ])
      expect(await failure(migrateUp(config, { to: 'nope' }))).toMatchObject({
        exitCode: 2,
        code: 'MIGRATION_NOT_FOUND',
      })
    })

    test('generate writes an empty, correctly versioned migration that applies', async () => {
      p.write('20990101000000_future.sql', sqlMigration('SELECT 1;'))
      const config = await p.config()
      const sqlFile = await generateMigration(config, {
        name: 'Add users',
        now: new Date('2025-01-01T12:00:00Z'),
      })
      expect(sqlFile).toEqual({
        version: '20990101000001',
        name: '20990101000001_add_users.sql',
        path: path.join('migrations', '20990101000001_add_users.sql'),
      })
      fs.rmSync(path.join(p.migrationsDir, '20990101000000_future.sql'))
      fs.rmSync(path.join(p.migrationsDir, sqlFile.name))
      const ts = await generateMigration(config, {
        name: 'backfill',
        kind: 'ts',
        now: new Date('2025-01-01T12:00:00Z'),
      })
      expect(ts.name).toBe('20250101120000_backfill.ts')
      const again = await generateMigration(config, {
        name: 'second',
        now: new Date('2025-01-01T12:00:00Z'),
      })
      expect(again.version).toBe('20250101120001')
      expect((await migrateUp(config)).results.map((r) => r.status)).toEqual(['applied', 'applied'])
      expect(await failure(generateMigration(config, { name: '!!!' }))).toMatchObject({
        exitCode: 2,
      })
    })

    if (dialect.name === 'sqlite') {
      test('SQLite: trigger bodies with BEGIN … END run as one statement', async () => {
        p.write(
          '20250101000001_trigger.sql',
          sqlMigration(
            "CREATE TABLE t (id integer PRIMARY KEY, n integer);\nCREATE TABLE log (msg text);\nCREATE TRIGGER t_log AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (CASE WHEN new.n > 0 THEN 'pos;' ELSE 'neg' END);\nEND;\nINSERT INTO t (n) VALUES (1);",
          ),
        )
        expect((await migrateUp(await p.config())).error).toBeUndefined()
        expect(await p.query('SELECT msg FROM log')).toEqual([{ msg: 'pos;' }])
      })

      test('SQLite: foreign_keys:off rebuilds a parent table without cascading to its children', async () => {
        p.write(
          '20250101000001_schema.sql',
          sqlMigration(
            "CREATE TABLE parent (id integer PRIMARY KEY, name text);\nCREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id) ON DELETE CASCADE);\nINSERT INTO parent VALUES (1, 'p');\nINSERT INTO child VALUES (10, 1);",
          ),
        )
        p.write(
          '20250101000002_rebuild.sql',
          sqlMigration(
            "CREATE TABLE parent_new (id integer PRIMARY KEY, name text NOT NULL DEFAULT '');\nINSERT INTO parent_new SELECT id, name FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;",
            undefined,
            'foreign_keys:off',
          ),
        )
        const config = await p.config()
        expect((await migrateUp(config)).error).toBeUndefined()
        expect(await p.query('SELECT id, parent_id FROM child')).toEqual([{ id: 10, parent_id: 1 }])
        expect(await p.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }])

        p.write(
          '20250101000003_orphan.sql',
          sqlMigration(
            'CREATE TABLE parent_new (id integer PRIMARY KEY, name text);\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;',
            undefined,
            'foreign_keys:off',
          ),
        )
        const result = await migrateUp(config)
        expect(result.error?.message).toContain('foreign_key_check failed: child (1 row referencing a missing parent row)')
        expect(await p.query('SELECT count(*) AS n FROM parent')).toEqual([{ n: 1 }])
        expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001', '20250101000002'])
      })
    }

    if (dialect.name === 'postgres') {
      test('PostgreSQL: dollar-quoted functions, BEGIN ATOMIC and CREATE INDEX CONCURRENTLY (transaction:false)', async () => {
        p.write(
          '20250101000001_functions.sql',
          sqlMigration(
            "CREATE TABLE t (id integer PRIMARY KEY, note text);\nCREATE FUNCTION plus_one(i integer) RETURNS integer AS $$ BEGIN RETURN i + 1; END; $$ LANGUAGE plpgsql;\nCREATE FUNCTION two() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nINSERT INTO t VALUES (1, E'a\\';b');",
          ),
        )
        p.write(
          '20250101000002_index.sql',
          '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_note_idx ON t (note);\nCREATE INDEX CONCURRENTLY t_id_note_idx ON t (id, note);\n\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY t_note_idx;\nDROP INDEX CONCURRENTLY t_id_note_idx;\n',
        )
        const config = await p.config()
        const result = await migrateUp(config)
        expect(result.error).toBeUndefined()
        expect(await p.query('SELECT plus_one(1) AS a, two() AS b, note FROM t')).toEqual([{ a: 2, b: 2, note: "a';b" }])
        expect(
          (await p.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 't' ORDER BY 1")).map(
            (r) => r.indexname,
          ),
        ).toEqual(['t_id_note_idx', 't_note_idx', 't_pkey'])
        expect((await migrateDown(config)).error).toBeUndefined()
      })

      test('PostgreSQL: a statement waiting on a busy table fails after lock_timeout (exit 5), leaving nothing', async () => {
        p.write('20250101000001_t.sql', sqlMigration('CREATE TABLE busy (id integer);'))
        const config = await p.config()
        await migrateUp(config)
        p.write('20250101000002_alter.sql', sqlMigration('ALTER TABLE busy ADD COLUMN note text;'))
        const pg = (await import('pg')).default
        const holder = new pg.Client({ connectionString: p.url })
        await holder.connect()
        try {
          await holder.query('BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE')
          const started = Date.now()
          const result = await migrateUp(config, { statementLockTimeoutMs: 300 })
          expect(Date.now() - started).toBeLessThan(10_000)
          expect(result.error).toMatchObject({ exitCode: 5, code: 'STATEMENT_LOCK_TIMEOUT' })
          expect(result.error!.message).toContain('migrations/20250101000002_alter.sql (up) waited longer than lock_timeout')
          expect(result.error!.message).toContain('at line 2')
        } finally {
          await holder.end()
        }
        expect((await p.rows()).map((r) => r.version)).toEqual(['20250101000001'])
      })

      test('PostgreSQL: a user who may not create dbops_migrations gets exit 7 and what to grant', async () => {
        const role = `dbops_limited_${Math.random().toString(16).slice(2, 10)}`
        await p.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited-pw'`)
        try {
          p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
          const config = await p.config({
            DATABASE_URL: withUrl(p.url, { user: role, password: 'limited-pw' }),
          })
          const error = await failure(migrateUp(config))
          expect(error).toMatchObject({ exitCode: 7, code: 'MIGRATION_TABLE_DENIED' })
          expect(error.message).toBe('Cannot create public.dbops_migrations: permission denied for schema public')
          expect(error.hint).toContain('Grant the user CREATE on schema public')
        } finally {
          await p.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`)
        }
      })

      test('PostgreSQL: up runs on one connection: the lock, the history, the gate asking the catalog and the migrations share it', async () => {
        p.write('20250101000001_orders.sql', sqlMigration('CREATE TABLE orders (id integer PRIMARY KEY, total integer);'))
        const config = await p.config()
        expect((await migrateUp(config)).error).toBeUndefined()
        // a plain CREATE INDEX on an existing table: the gate asks the catalog how big it is
        const seen = `CREATE TABLE seen AS SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'dbops/migrate up';`
        p.write('20250101000002_index.sql', sqlMigration(`CREATE INDEX orders_total ON orders (total);\n${seen}`))
        const result = await migrateUp(config)
        expect(result.error).toBeUndefined()
        expect(result.lint?.findings.filter((f) => f.downgraded !== undefined).length).toBeGreaterThan(0)
        expect(await p.query('SELECT n FROM seen')).toEqual([{ n: 1 }])
      })

      test('PostgreSQL: DATABASE_SCHEMA holds dbops_migrations and receives unqualified tables', async () => {
        p.write('20250101000001_a.sql', sqlMigration('CREATE TABLE a (id integer);'))
        const config = await p.config({ DATABASE_SCHEMA: 'app' })
        expect((await migrateUp(config)).error).toBeUndefined()
        expect(
          await p.query("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 2"),
        ).toEqual([
          { table_schema: 'app', table_name: 'a' },
          { table_schema: 'app', table_name: 'dbops_migrations' },
        ])
        expect((await getMigrationStatus(config)).head).toBe('20250101000001')
      })
    }
  })
}
