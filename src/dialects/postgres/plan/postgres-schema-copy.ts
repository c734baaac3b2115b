/**
 * The throwaway copy `migrate plan` traces in: `pg_dump --schema-only` of the target restored
 * into a new database beside it (`dbops_plan_<random>`, `TEMPLATE template0`), or into
 * `SHADOW_DATABASE_URL` for a role that may not create databases. The target is only read
 * (pg_dump takes ACCESS SHARE locks, as any backup does). The dump file, and the database or the
 * shadow's contents, go away in `dispose`, which the caller runs whatever happens.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { PostgresTarget } from '../../../config/database-url.js'
import type { ResolvedConfig } from '../../../config/resolve-config.js'
import { ConfigError, DbopsError, errorCodeOf, messageOf } from '../../../errors.js'
import { delimitIdentifier } from '../../../sql/sql-text.js'
import type { ConnectionScope, DbConnection, SchemaCopy, ShadowDatabase } from '../../dialect.js'
import { findPgTool, majorOf } from '../find-pg-tool.js'
import { runPgTool } from '../pg-child-process.js'
import { dbnameConninfo, dropDatabase, findPgRestore, toolConnection } from '../postgres-backup.js'
import { CLUSTER_DATABASES, connectToCluster } from '../postgres-connect.js'
import type { PostgresConnection } from '../postgres-connection.js'
import { whereOf } from '../postgres-errors.js'

/** Options of {@link copyPostgresSchema}. */
export interface PostgresCopyOptions {
  config: ResolvedConfig
  shadowUrl: string | undefined
  signal?: AbortSignal | undefined
  onNote?: ((text: string) => void) | undefined
}

/** Things to undo, newest first. */
type Undo = Array<() => Promise<void> | void>

/**
 * Dumps the schema of `scope.target` and restores it into a fresh database (or the shadow).
 * A database dbops may not create, and no `SHADOW_DATABASE_URL`: exit 2 saying what to set.
 */
export async function copyPostgresSchema(scope: ConnectionScope, options: PostgresCopyOptions): Promise<SchemaCopy> {
  const target = scope.target
  if (target.dialect !== 'postgres') throw new TypeError('copyPostgresSchema needs a PostgreSQL target')
  const undo: Undo = []
  const dispose = async () => {
    for (const step of undo.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined)
  }
  try {
    const admin = await connectToCluster(scope, target, CLUSTER_DATABASES)
    undo.push(() => admin.close())
    const dumpFile = path.join(os.tmpdir(), `dbops-plan-${process.pid}-${randomBytes(6).toString('hex')}.dump`)
    fs.closeSync(fs.openSync(dumpFile, 'wx', 0o600))
    undo.push(() => fs.rmSync(dumpFile, { force: true }))
    const pgDump = await findPgTool('pg_dump', { minMajor: majorOf(admin.serverVersion), env: scope.toolEnv() })
    const fd = fs.openSync(dumpFile, 'r+')
    try {
      await runPgTool(pgDump.path, ['--schema-only', '--format=custom', '--no-password'], {
        connection: toolConnection(scope, target),
        stdoutFd: fd,
        signal: options.signal,
      })
    } finally {
      fs.closeSync(fd)
    }
    const { copyTarget, description } = await makeEmptyDatabase(scope, admin, options, undo)
    const pgRestore = await findPgRestore(scope, pgDump.version, majorOf(admin.serverVersion))
    await runPgTool(
      pgRestore.path,
      ['--exit-on-error', '--no-password', '--no-owner', '--no-privileges', `--dbname=${dbnameConninfo(copyTarget.database)}`, dumpFile],
      { connection: toolConnection(scope, copyTarget), signal: options.signal },
    )
    options.onNote?.(`schema copied into ${description} with pg_dump ${pgDump.version} / pg_restore ${pgRestore.version}`)
    const conn = await scope.connect(copyTarget)
    undo.push(() => conn.close())
    return { conn, description, dispose }
  } catch (err) {
    await dispose()
    throw err
  }
}

/** A new database beside the target, or the shadow (emptied again by its own dispose). */
async function makeEmptyDatabase(
  scope: ConnectionScope,
  admin: PostgresConnection,
  options: PostgresCopyOptions,
  undo: Undo,
): Promise<{ copyTarget: PostgresTarget; description: string }> {
  const target = admin.target as PostgresTarget
  if (options.shadowUrl !== undefined) {
    const shadow: ShadowDatabase = await admin.dialect.createShadowDatabase(options.config, {
      shadowUrl: options.shadowUrl,
      connect: { ...scope.options, mode: 'read' },
    })
    undo.push(() => shadow.dispose())
    const copyTarget = shadow.config.target as PostgresTarget
    return { copyTarget, description: `SHADOW_DATABASE_URL (database "${copyTarget.database}", emptied afterwards)` }
  }
  const name = copyDatabaseName(target.database)
  try {
    await admin.pool.query(`CREATE DATABASE ${delimitIdentifier(name)} TEMPLATE template0`)
  } catch (err) {
    const denied = errorCodeOf(err) === '42501'
    const hint = `Set SHADOW_DATABASE_URL to an empty PostgreSQL database dbops may use, or grant CREATEDB to "${target.user}".`
    if (denied)
      throw new ConfigError(`Cannot create a temporary database at ${whereOf(target)} for the schema copy: ${messageOf(err)}`, {
        code: 'PLAN_COPY_DENIED',
        hint,
        cause: err,
      })
    throw err instanceof DbopsError ? err : new ConfigError(`Cannot create the schema copy: ${messageOf(err)}`, { hint, cause: err })
  }
  undo.push(() => dropDatabase(admin, name))
  return { copyTarget: { ...target, database: name }, description: `temporary database "${name}" (dropped afterwards)` }
}

/** The copy's connection, typed as the tracer needs it. */
export function copyConnection(conn: DbConnection): PostgresConnection {
  return conn as PostgresConnection
}

/**
 * `dbops_plan_<target>_<random>`: the target's name (folded to `[a-z0-9_]`, cut to 30
 * characters, so the whole stays within PostgreSQL's 63) tells an operator whose copy a
 * leftover was, and lets concurrent plans of different databases tell their copies apart.
 */
export function copyDatabaseName(targetDatabase: string): string {
  const of = targetDatabase
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30)
  return `dbops_plan_${of}_${randomBytes(6).toString('hex')}`
}
