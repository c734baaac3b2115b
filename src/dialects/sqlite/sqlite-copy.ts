/**
 * SQLite's side of `dbops copy`. The reader holds one read transaction from before the
 * schema is read until the last row (a consistent snapshot, also under concurrent writers in
 * WAL mode) and reads rows with 64-bit integers intact. The writer builds the copy in a
 * temporary file beside the target (journal off: the file is thrown away on failure), inserts
 * with one prepared statement per table in large transactions, and renames the file into
 * place only when everything, verification included, succeeded.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import { DbopsError, ExitCode } from '../../errors.js'
import type { DatabaseSchema, TableSchema } from '../../schema/normalised-schema.js'
import { quoteIdentifier } from '../../sql/sql-text.js'
import type { ColumnProfile, CopyReader, CopyValue, CopyWriter, CopyWriterOptions, NotCopied, TargetTable } from '../copy-port.js'
import { ForeignKeyViolation } from '../copy-port.js'
import type { IntrospectOptions } from '../dialect.js'
import { openDatabase } from './open-database.js'
import type { SqliteConnection, SqliteHandle } from './sqlite-connection.js'
import { introspectSqlite } from './sqlite-introspector.js'
import { SqliteSchemaSql } from './sqlite-schema-sql.js'

const BATCH = 1000
const COMMIT_EVERY = 100_000

/** Rows of `handle`'s table in batches, integers as bigint. */
function* batchesOf(handle: SqliteHandle, table: string, columns: readonly string[]): Generator<unknown[][]> {
  const list = columns.map(quoteIdentifier).join(', ')
  const statement = handle
    .prepare(`SELECT ${list} FROM ${quoteIdentifier(table)}`)
    .raw(true)
    .safeIntegers(true)
  let batch: unknown[][] = []
  for (const row of statement.iterate() as Iterable<unknown[]>) {
    batch.push(row)
    if (batch.length === BATCH) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

async function* asyncBatches(handle: SqliteHandle, table: string, columns: readonly string[]): AsyncGenerator<unknown[][]> {
  // one batch per turn of the event loop, so a signal or a slow target gets a say
  for (const batch of batchesOf(handle, table, columns)) {
    yield batch
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Opens the read transaction on `conn` and reads the schema inside it. */
export async function openSqliteCopyReader(conn: SqliteConnection, options: Pick<IntrospectOptions, 'historyTable'>): Promise<CopyReader> {
  const handle = conn.handle
  handle.exec('BEGIN')
  handle.prepare('SELECT count(*) FROM sqlite_schema').get() // the snapshot starts here
  let open = true
  const schema = await introspectSqlite(conn, options)
  const generated = handle
    .prepare(
      `SELECT m.name AS tbl, p.name AS col FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p
       WHERE m.type = 'table' AND p.hidden IN (2, 3) ORDER BY m.name, p.cid`,
    )
    .all() as Array<{ tbl: string; col: string }>
  return {
    schema,
    notCopied(): NotCopied[] {
      const listed: NotCopied[] = schema.unmanaged
        .filter((u) => u.kind === 'view' || (u.kind === 'trigger' && schema.tables.some((t) => t.name === u.table)))
        .map((u) => ({
          kind: u.kind as 'view' | 'trigger',
          name: u.name,
          reason: `a ${u.kind} is SQL of its database: recreate it by hand`,
        }))
      for (const g of generated)
        if (schema.tables.some((t) => t.name === g.tbl))
          listed.push({
            kind: 'generated_column',
            name: `${g.tbl}.${g.col}`,
            reason: 'generated columns are computed by SQLite: add it in the target by hand',
          })
      return listed
    },
    async profile(table, columns) {
      const result = new Map<string, ColumnProfile>()
      if (columns.length === 0) return result
      const parts = columns.flatMap((c) => {
        const q = quoteIdentifier(c.name)
        return [
          `max(typeof(${q}) = 'integer')`,
          `max(typeof(${q}) = 'real')`,
          `max(typeof(${q}) = 'text')`,
          `max(typeof(${q}) = 'blob')`,
          `min(CASE WHEN typeof(${q}) = 'integer' THEN ${q} END)`,
          `max(CASE WHEN typeof(${q}) = 'integer' THEN ${q} END)`,
        ]
      })
      const row = handle
        .prepare(`SELECT ${parts.join(', ')} FROM ${quoteIdentifier(table.name)}`)
        .raw(true)
        .safeIntegers(true)
        .get() as unknown[]
      columns.forEach((c, i) => {
        const kinds = new Set<string>()
        ;['integer', 'real', 'text', 'blob'].forEach((kind, k) => {
          if (row[i * 6 + k] === 1n) kinds.add(kind)
        })
        const min = row[i * 6 + 4] as bigint | null
        const max = row[i * 6 + 5] as bigint | null
        result.set(c.name, { kinds, min: min ?? undefined, max: max ?? undefined })
      })
      return result
    },
    rows: (table, columns) => asyncBatches(handle, table.name, columns),
    async countRows(table) {
      const row = handle
        .prepare(`SELECT count(*) FROM ${quoteIdentifier(table.name)}`)
        .raw(true)
        .get() as [number]
      return row[0]
    },
    async close() {
      if (open && handle.inTransaction) handle.exec('COMMIT')
      open = false
    },
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The value as SQLite binds it: booleans as 1 and 0; NaN, which SQLite would store as NULL, as the text `NaN`. */
function bindable(value: CopyValue): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN'
  return value
}

/** A writer into a temporary file renamed to `config`'s SQLite file at `finish()`. */
export function openSqliteCopyWriter(config: ResolvedConfig, options: CopyWriterOptions): CopyWriter {
  if (config.target.dialect !== 'sqlite') throw new TypeError('openSqliteCopyWriter needs a SQLite target')
  const file = path.resolve(config.target.path)
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.copy-${process.pid}.tmp`)
  const render = new SqliteSchemaSql()
  let handle: SqliteHandle | undefined
  let done = false
  const run = (sql: string) => {
    const started = performance.now()
    handle!.exec(sql)
    options.onQuery?.(sql, performance.now() - started)
  }
  const removeTemp = () => {
    for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(`${temp}${suffix}`, { force: true })
  }
  /** Temporary files of copies whose process is gone (killed with SIGKILL, or the machine stopped). */
  const removeAbandoned = () => {
    const prefix = `.${path.basename(file)}.copy-`
    for (const name of fs.readdirSync(path.dirname(file))) {
      const pid = name.startsWith(prefix) ? Number(/^(\d+)\.tmp/.exec(name.slice(prefix.length))?.[1]) : NaN
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue
      fs.rmSync(path.join(path.dirname(file), name), { force: true })
    }
  }
  return {
    storesNaN: true,
    async existingTables() {
      if (!fs.existsSync(file) || fs.statSync(file).size === 0) return []
      const existing = openDatabase(file, { readonly: true, fileMustExist: true })
      try {
        return (
          existing
            .prepare(
              "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .all() as Array<{ name: string }>
        ).map((r) => r.name)
      } finally {
        existing.close()
      }
    },
    async introspect(): Promise<DatabaseSchema> {
      return { dialect: 'sqlite', tables: [], enums: [], unmanaged: [] }
    },
    async begin() {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      removeAbandoned()
      removeTemp()
      handle = openDatabase(temp)
      handle.pragma('journal_mode = OFF')
      handle.pragma('synchronous = OFF')
      handle.pragma('foreign_keys = OFF')
      run('BEGIN')
    },
    async emptyTables(targets) {
      if (targets.length > 0)
        throw new DbopsError('COPY_TRUNCATE_UNSUPPORTED', ExitCode.usage, '--truncate into an existing SQLite file is not supported', {
          hint: 'Copy into a new file, or remove the old one first.',
        })
    },
    async prepareTable(target: TargetTable) {
      try {
        run(render.createTableSql(target.table, { withForeignKeys: true }))
        return []
      } catch (err) {
        if (target.table.checks.length === 0) throw err
        run(render.createTableSql({ ...target.table, checks: [] }, { withForeignKeys: true }))
        return target.table.checks.map((c) => ({
          kind: 'check' as const,
          name: `${target.table.name}: ${c.name ?? c.expression}`,
          reason: `SQLite does not accept it: ${(err as Error).message}`,
        }))
      }
    },
    async load(table, columns, batches) {
      const statement = handle!.prepare(
        `INSERT INTO ${quoteIdentifier(table.name)} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      )
      let pending = 0
      for await (const batch of batches) {
        for (const row of batch) statement.run(row.map(bindable))
        pending += batch.length
        if (pending >= COMMIT_EVERY) {
          run('COMMIT')
          run('BEGIN')
          pending = 0
        }
      }
    },
    async completeTable(target) {
      const refused: NotCopied[] = []
      for (const index of target.table.indexes) {
        try {
          run(render.createIndexSql(target.table.name, index))
        } catch (err) {
          refused.push({ kind: 'index', name: index.name, reason: `SQLite does not accept it: ${(err as Error).message}` })
        }
      }
      return refused
    },
    async completeForeignKeys() {
      const broken = handle!.prepare('PRAGMA foreign_key_check').all() as Array<{ table: string; rowid: number; parent: string }>
      const first = broken[0]
      if (first)
        throw new ForeignKeyViolation(
          first.table,
          first.parent,
          `${broken.length} row${broken.length === 1 ? '' : 's'} of ${first.table} reference missing rows of ${first.parent} (first: rowid ${first.rowid})`,
        )
    },
    rows: (table: TableSchema, columns) => asyncBatches(handle!, table.name, columns),
    async finish() {
      run('COMMIT')
      handle!.pragma(`journal_mode = ${config.sqlite.journalMode}`)
      handle!.close()
      handle = undefined
      const fd = fs.openSync(temp, 'r')
      try {
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
      fs.renameSync(temp, file)
      done = true
    },
    async abort() {
      if (done) return
      try {
        handle?.close()
      } catch {
        // closing a handle mid-statement; the file goes anyway
      }
      handle = undefined
      removeTemp()
      done = true
    },
    async close() {},
  }
}
