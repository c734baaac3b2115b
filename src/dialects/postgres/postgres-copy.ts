/**
 * PostgreSQL's side of `dbops copy`. The reader reads in one REPEATABLE READ, READ ONLY
 * transaction through cursors (bounded memory), with values in their text form where pg's
 * parsers would lose something (timestamps, dates, json, int8). The writer loads everything
 * in one transaction on one connection: tables created bare, data through `COPY … FROM STDIN`
 * (pg-copy-streams, with backpressure), then primary keys and unique constraints (built once,
 * not row by row), defaults, checks and indexes (each in a savepoint,
 * so one the target refuses is reported, not fatal), foreign keys, identity values past the
 * data. Nothing is visible until `finish()` commits; `abort()` rolls back.
 */
import { once } from 'node:events'
import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import type { DatabaseSchema, TableSchema } from '../../schema/normalised-schema.js'
import { quoteIdentifier, quoteString } from '../../sql/sql-text.js'
import type { CopyReader, CopyValue, CopyWriter, CopyWriterOptions, NotCopied, TargetTable } from '../copy-port.js'
import { ForeignKeyViolation, LoadRejected } from '../copy-port.js'
import type { IntrospectOptions } from '../dialect.js'
import type { PostgresConnection } from './postgres-connection.js'
import { introspectPostgres } from './postgres-introspector.js'
import { PostgresSchemaSql } from './postgres-schema-sql.js'

const FETCH = 2000
const identity = (value: string) => value
/**
 * How values are read: booleans, integers (int8 as bigint), floats and bytea parsed; every
 * other type as PostgreSQL's text form (timestamps, dates, numerics, json, arrays, ranges…),
 * which the copy converts by the target column's type without losing anything to a JS Date.
 */
const PARSERS: Record<number, (value: string) => unknown> = {
  16: (v) => v === 't',
  17: pg.types.getTypeParser(17, 'text') as (value: string) => unknown,
  20: (v) => BigInt(v),
  21: Number,
  23: Number,
  26: Number,
  700: Number.parseFloat,
  701: Number.parseFloat,
}
const types = {
  getTypeParser: (oid: number): ((value: string) => unknown) => PARSERS[oid] ?? identity,
}

async function* cursorBatches(client: pg.PoolClient, sql: string, name: string): AsyncGenerator<unknown[][]> {
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`)
  try {
    for (;;) {
      const result = await client.query({ text: `FETCH ${FETCH} FROM ${name}`, rowMode: 'array', types } as pg.QueryConfig)
      if (result.rows.length === 0) break
      yield result.rows as unknown[][]
    }
  } finally {
    await client.query(`CLOSE ${name}`).catch(() => undefined)
  }
}

let cursorCount = 0
function selectSql(table: TableSchema, columns: readonly string[]): string {
  return `SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${quoteIdentifier(table.name)}`
}

/** Opens the snapshot transaction on a pinned connection of `conn` and reads the schema. */
export async function openPostgresCopyReader(conn: PostgresConnection, options: IntrospectOptions): Promise<CopyReader> {
  const client = await conn.pool.connect()
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  await client.query(`SET LOCAL search_path = ${quoteIdentifier(options.defaultSchema)}`)
  await client.query("SET LOCAL TIME ZONE 'UTC'")
  const schema = await introspectPostgres(conn, options)
  let released = false
  return {
    schema,
    notCopied(): NotCopied[] {
      return schema.unmanaged.map((u) => ({
        kind: u.kind === 'other' ? 'other' : u.kind,
        name: u.name,
        reason: `a ${u.kind} is not copied: recreate it by hand`,
      }))
    },
    profile: async () => new Map(),
    rows: (table, columns) => cursorBatches(client, selectSql(table, columns), `dbops_copy_${++cursorCount}`),
    async countRows(table) {
      const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(table.name)}`)
      return Number(result.rows[0]?.n ?? 0)
    },
    async close() {
      if (released) return
      released = true
      await client.query('COMMIT').catch(() => undefined)
      client.release()
    },
  }
}

/** One value in COPY's text format. */
function copyText(value: CopyValue): string {
  if (value === null) return '\\N'
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number')
    return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : String(value)
  if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString('hex')}`
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

/** A writer over a pinned connection of `conn`, in one transaction. */
export function openPostgresCopyWriter(conn: PostgresConnection, options: CopyWriterOptions): CopyWriter {
  const render = new PostgresSchemaSql()
  const schema = options.schema
  let client: pg.PoolClient | undefined
  let finished = false
  let savepoints = 0
  const run = async (sql: string) => {
    const started = performance.now()
    const result = await client!.query(sql)
    options.onQuery?.(sql, performance.now() - started)
    return result
  }
  /** Runs `sql` in a savepoint; the reason when PostgreSQL refuses it. */
  const attempt = async (sql: string): Promise<string | undefined> => {
    const name = `dbops_copy_${++savepoints}`
    await run(`SAVEPOINT ${name}`)
    try {
      await run(sql)
      await run(`RELEASE SAVEPOINT ${name}`)
      return undefined
    } catch (err) {
      await run(`ROLLBACK TO SAVEPOINT ${name}`)
      return (err as Error).message
    }
  }
  const qualified = (table: TableSchema) => quoteIdentifier(table.name)
  /** Identity and serial sequences restart after the greatest value loaded. */
  const resetIdentities = async (table: TableSchema) => {
    const t = qualified(table)
    for (const column of table.columns) {
      if (column.generated !== 'identity' && column.generated !== 'identity-always' && column.generated !== 'serial') continue
      const c = quoteIdentifier(column.name)
      await run(
        `SELECT setval(pg_get_serial_sequence(${quoteString(`${quoteIdentifier(schema)}.${t}`)}, ${quoteString(column.name)}), COALESCE(MAX(${c}), 0) + 1, false) FROM ${t}`,
      )
    }
  }
  return {
    storesNaN: true,
    async existingTables() {
      const result = await conn.pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1`,
        [schema],
      )
      return result.rows.map((r) => r.name)
    },
    async introspect(): Promise<DatabaseSchema> {
      return introspectPostgres(conn, { schemas: [schema], defaultSchema: schema })
    },
    async begin() {
      client = await conn.pool.connect()
      await run('BEGIN')
      await run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
      await run(`SET LOCAL search_path = ${quoteIdentifier(schema)}`)
      await run("SET LOCAL TIME ZONE 'UTC'")
    },
    async emptyTables(targets) {
      // one statement: foreign keys among them do not get in the way; one from a table not copied does (no CASCADE)
      if (targets.length > 0) await run(`TRUNCATE ${targets.map((t) => qualified(t.table)).join(', ')}`)
    },
    async prepareTable(target: TargetTable) {
      const { table } = target
      if (target.existing) return []
      const bare: TableSchema = {
        ...table,
        columns: table.columns.map((c) => ({ ...c, default: undefined })),
        // keys and unique constraints are built once, after the load: cheaper than row by row
        primaryKey: [],
        uniques: [],
        checks: [],
        foreignKeys: [],
        indexes: [],
      }
      await run(render.createTableSql(bare, { withForeignKeys: false }))
      return []
    },
    async load(table, columns, batches) {
      const list = columns.map((c) => quoteIdentifier(c.name)).join(', ')
      const stream = client!.query(copyStreams.from(`COPY ${qualified(table)} (${list}) FROM STDIN`))
      let failed: Error | undefined
      stream.on('error', (err: Error) => {
        failed = err
      })
      try {
        for await (const batch of batches) {
          if (failed) break
          let chunk = ''
          for (const row of batch) chunk += `${row.map(copyText).join('\t')}\n`
          if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'error')])
        }
      } catch (err) {
        // the source failed (or a value did not convert): end COPY with an error so the connection stays usable
        stream.destroy(err as Error)
        await once(stream, 'close').catch(() => undefined)
        throw err
      }
      if (!failed) {
        stream.end()
        await Promise.race([once(stream, 'finish'), once(stream, 'error')]).catch(() => undefined)
      }
      if (failed) throw new LoadRejected(table.name, failed.message, { cause: failed })
    },
    async completeTable(target) {
      const { table } = target
      const refused: NotCopied[] = []
      const t = qualified(table)
      await resetIdentities(table)
      if (target.existing) return []
      if (table.primaryKey.length > 0)
        await run(
          `ALTER TABLE ${t} ADD ${render.constraintPrefix(table.primaryKeyName)}PRIMARY KEY (${render.columnList(table.primaryKey)})`,
        )
      for (const u of table.uniques)
        await run(`ALTER TABLE ${t} ADD ${render.constraintPrefix(u.name)}UNIQUE (${render.columnList(u.columns)})`)
      for (const column of table.columns) {
        if (column.default === undefined || column.generated !== undefined) continue
        const reason = await attempt(
          `ALTER TABLE ${t} ALTER COLUMN ${quoteIdentifier(column.name)} SET ${render.defaultClause(column.default)}`,
        )
        if (reason) refused.push({ kind: 'default', name: `${table.name}.${column.name}`, reason: `${column.default}: ${reason}` })
      }
      for (const check of table.checks) {
        const reason = await attempt(`ALTER TABLE ${t} ADD ${render.constraintPrefix(check.name)}CHECK (${check.expression})`)
        if (reason) refused.push({ kind: 'check', name: `${table.name}: ${check.name ?? check.expression}`, reason })
      }
      for (const index of table.indexes) {
        const reason = await attempt(render.createIndexSql(table.name, index))
        if (reason) refused.push({ kind: 'index', name: index.name, reason })
      }
      return refused
    },
    async completeForeignKeys(targets) {
      for (const { table, existing } of targets) {
        if (existing) continue
        for (const fk of table.foreignKeys) {
          try {
            await run(`ALTER TABLE ${qualified(table)} ADD ${render.constraintPrefix(fk.name)}${render.foreignKeyClause(fk)}`)
          } catch (err) {
            if ((err as { code?: string }).code === '23503')
              throw new ForeignKeyViolation(table.name, fk.referencedTable, (err as Error).message)
            throw err
          }
        }
      }
    },
    rows: (table, columns) => cursorBatches(client!, selectSql(table, columns), `dbops_copy_${++cursorCount}`),
    async finish() {
      await run('COMMIT')
      finished = true
      client!.release()
      client = undefined
    },
    async abort() {
      if (finished) return
      finished = true
      if (!client) return
      await client.query('ROLLBACK').catch(() => undefined)
      client.release()
      client = undefined
    },
    async close() {},
  }
}
