/**
 * PostgreSQL's migration planner (see `plan-port.ts`): the schema copy, the tracer, the
 * target's sizes from the catalog's estimates, and the lock-mode table.
 */
import type { MigrationPlanner } from '../../dialect.js'
import type { RelationSize } from '../../plan-port.js'
import type { PostgresConnection } from '../postgres-connection.js'
import { postgresLockEffect } from './postgres-lock-modes.js'

/** The planner; its parts load on first use. */
export const postgresPlanner: MigrationPlanner = {
  async copySchema(scope, options) {
    return (await import('./postgres-schema-copy.js')).copyPostgresSchema(scope, { ...options, shadowUrl: options.shadowUrl })
  },
  async openTracer(copy, options) {
    return (await import('./postgres-migration-tracer.js')).openPostgresTracer(copy, options)
  },
  async relationSizes(target, relations) {
    const sizes = new Map<string, RelationSize>()
    if (relations.length === 0) return sizes
    const { rows } = await (target as PostgresConnection).pool.query<{ name: string; rows: string; bytes: string }>(
      `SELECT n.nspname || '.' || c.relname AS name, greatest(c.reltuples, 0)::bigint::text AS rows,
              pg_total_relation_size(c.oid)::text AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname || '.' || c.relname = ANY($1::text[])`,
      [relations],
    )
    for (const row of rows) sizes.set(row.name, { rows: Number(row.rows), bytes: Number(row.bytes) })
    return sizes
  },
  lockEffect: postgresLockEffect,
}
