/**
 * A throwaway PostgreSQL database to replay migrations into (`schema diff --against
 * migrations`, `migrate generate --from-models`): a new database on the configured server,
 * created and dropped by dbops, or `SHADOW_DATABASE_URL`, which must be empty and is emptied
 * again afterwards.
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from '../../kysely-runtime.js'
import { type PostgresTarget, parseDatabaseUrl } from '../../config/database-url.js'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { ConfigError, DbopsError, ExitCode, errorCodeOf, messageOf } from '../../errors.js'
import type { ConnectOptions, DbConnection, Dialect, ShadowDatabase, ShadowOptions } from '../dialect.js'
import { whereOf } from './postgres-errors.js'
import { USER_SCHEMA_SQL } from './postgres-catalog.js'

function withTarget(config: ResolvedConfig, target: PostgresTarget): ResolvedConfig {
  return { ...config, target }
}

/**
 * The shadow database for `config`: `SHADOW_DATABASE_URL` when given (it must be PostgreSQL),
 * else a new database on the configured server. `dialect` is PostgreSQL's, which connects.
 */
export async function openPostgresShadow(dialect: Dialect, config: ResolvedConfig, options: ShadowOptions): Promise<ShadowDatabase> {
  if (!options.shadowUrl) return createPostgresShadow(dialect, config, options.connect)
  const target = parseDatabaseUrl(options.shadowUrl, { key: 'SHADOW_DATABASE_URL', cwd: config.cwd })
  if (target.dialect !== 'postgres') {
    throw new ConfigError('SHADOW_DATABASE_URL must be a PostgreSQL URL when the database is PostgreSQL', { code: 'SHADOW_INVALID' })
  }
  return usePostgresShadow(dialect, config, target, options.connect)
}

/**
 * Creates `dbops_shadow_<random>` on the configured server (the user needs CREATEDB),
 * connecting through the `postgres` maintenance database (`template1` when that is missing).
 */
async function createPostgresShadow(dialect: Dialect, config: ResolvedConfig, connect: ConnectOptions): Promise<ShadowDatabase> {
  if (config.target.dialect !== 'postgres') throw new TypeError('createPostgresShadow needs a PostgreSQL target')
  const target = config.target
  const name = `dbops_shadow_${randomBytes(6).toString('hex')}`
  let admin: DbConnection | undefined
  for (const maintenance of ['postgres', 'template1']) {
    try {
      admin = await dialect.connect(withTarget(config, { ...target, database: maintenance }), { ...connect, mode: 'read' })
      break
    } catch (err) {
      if (errorCodeOf((err as { cause?: unknown }).cause) !== '3D000' && (err as DbopsError).code !== 'DB_NOT_FOUND') throw err
    }
  }
  if (!admin)
    throw new DbopsError(
      'SHADOW_CREATE_FAILED',
      ExitCode.access,
      `Cannot reach a maintenance database (postgres, template1) at ${whereOf(target)} to create the shadow database`,
      { hint: 'Set SHADOW_DATABASE_URL to an empty database dbops may use.' },
    )
  try {
    await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db)
  } catch (err) {
    await admin.close()
    const code = errorCodeOf(err)
    throw new DbopsError(
      'SHADOW_CREATE_FAILED',
      code === '42501' ? ExitCode.access : ExitCode.failed,
      `Cannot create a temporary database at ${whereOf(target)} to replay the migrations: ${messageOf(err)}`,
      { hint: `Grant CREATEDB to "${target.user}", or set SHADOW_DATABASE_URL to an empty database dbops may use.`, cause: err },
    )
  }
  let disposed: Promise<void> | undefined
  return {
    config: withTarget(config, { ...target, database: name }),
    dispose() {
      disposed ??= (async () => {
        try {
          const version = Number(
            (await sql<{ v: string }>`SELECT current_setting('server_version_num') AS v`.execute(admin!.db)).rows[0]?.v,
          )
          if (version < 130000)
            await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`.execute(
              admin!.db,
            )
          await sql`DROP DATABASE IF EXISTS ${sql.id(name)}${sql.raw(version >= 130000 ? ' WITH (FORCE)' : '')}`.execute(admin!.db)
        } finally {
          await admin!.close()
        }
      })()
      return disposed
    },
  }
}

/**
 * Uses `shadowTarget` (from `SHADOW_DATABASE_URL`): refuses the configured database itself
 * and a database where any schema already holds tables or views (a wrong URL must not cost
 * data); when done, drops the schemas the replay created and empties the others, so the next
 * replay starts from the same state (without a history).
 */
async function usePostgresShadow(
  dialect: Dialect,
  config: ResolvedConfig,
  shadowTarget: PostgresTarget,
  connect: ConnectOptions,
): Promise<ShadowDatabase> {
  const main = config.target
  if (
    main.dialect === 'postgres' &&
    main.host === shadowTarget.host &&
    main.port === shadowTarget.port &&
    main.database === shadowTarget.database
  ) {
    throw new ConfigError('SHADOW_DATABASE_URL points at the configured database itself', {
      code: 'SHADOW_IS_TARGET',
      hint: 'The shadow database is emptied after each replay; give it a database of its own.',
    })
  }
  const shadowConfig = withTarget(config, shadowTarget)
  const conn = await dialect.connect(shadowConfig, { ...connect, mode: 'read' })
  let before: Set<string>
  try {
    const { rows } = await sql<{ name: string; n: string }>`
      SELECT n.nspname AS name, count(c.oid) FILTER (WHERE c.relkind IN ('r', 'p', 'v', 'm')) AS n
      FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
      WHERE ${sql.raw(USER_SCHEMA_SQL)} GROUP BY n.nspname ORDER BY n.nspname`.execute(conn.db)
    before = new Set(rows.map((row) => row.name))
    const used = rows.filter((row) => Number(row.n) > 0)
    const count = used.reduce((sum, row) => sum + Number(row.n), 0)
    if (count > 0) {
      throw new ConfigError(
        `SHADOW_DATABASE_URL: schema ${used.map((row) => row.name).join(', ')} of database "${shadowTarget.database}" is not empty (${count} tables or views)`,
        {
          code: 'SHADOW_NOT_EMPTY',
          hint: 'dbops replays the migrations into it and empties it afterwards; point it at an empty database.',
        },
      )
    }
  } finally {
    await conn.close()
  }
  let disposed: Promise<void> | undefined
  return {
    config: shadowConfig,
    dispose() {
      disposed ??= (async () => {
        const c = await dialect.connect(shadowConfig, { ...connect, mode: 'write' })
        try {
          // schemas the migrations created go, so the next replay can create them again
          for (const schema of await userSchemas(c.db)) {
            if (before.has(schema)) await emptySchema(c.db, schema)
            else await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(c.db)
          }
        } finally {
          await c.close()
        }
      })()
      return disposed
    },
  }
}

/** The database's schemas but the system's. */
async function userSchemas(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT n.nspname AS name FROM pg_namespace n WHERE ${sql.raw(USER_SCHEMA_SQL)}`.execute(db)
  return rows.map((r) => r.name)
}

/** Drops every table, view, sequence, routine and type in `schema` (the replay's leftovers). */
async function emptySchema(db: Kysely<any>, schema: string): Promise<void> {
  const literal = `'${schema.replaceAll("'", "''")}'`
  await sql
    .raw(
      `DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ${literal} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP
    EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      ${literal}, r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ${literal} LOOP
    EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.sig);
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class c ON c.oid = t.typrelid
            WHERE n.nspname = ${literal} AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c')) LOOP
    EXECUTE format('DROP TYPE IF EXISTS %I.%I CASCADE', ${literal}, r.typname);
  END LOOP;
END $$`,
    )
    .execute(db)
}
