/**
 * `dbops copy`: one database into another, SQLite and PostgreSQL either way, verified. The
 * source is read in one snapshot; the target is built where nothing shows until the end (one
 * PostgreSQL transaction, or a SQLite file renamed into place): tables, rows in foreign-key
 * order (converted by the target column's type, each table's checksum computed on the way),
 * then defaults, checks, indexes, foreign keys and identities. Every table is then read back
 * from the target and its count and checksum compared before the load is made visible: a
 * mismatch exits 6 and leaves the target as it was. The source's migration history, at its
 * head, is recorded in the target's history table.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import { describeTarget } from '../config/database-url.js'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { loadDialect } from '../dialects/index.js'
import type { ConnectOptions, CopyReader, CopyValue, CopyWriter, DbConnection, NotCopied } from '../dialects/dialect.js'
import { ForeignKeyViolation, LoadRejected } from '../dialects/copy-port.js'
import { DbopsError, ExitCode, IntegrityError, OperationError, UsageError } from '../errors.js'
import { MigrationStore } from '../migrate/migration-store.js'
import type { MigrationRow } from '../dialects/migration-port.js'
import { dbopsVersion } from '../package-root.js'
import { loadModels } from '../schema/load-models.js'
import { modelsToSchema } from '../schema/models-to-schema.js'
import { ValueNotConvertible } from './convert-value.js'
import { type TablePlan, planCopy } from './plan-copy.js'
import { TableChecksum } from './table-checksum.js'

/** Options of {@link copyDatabase}. */
export interface CopyOptions {
  from: ResolvedConfig
  to: ResolvedConfig
  tables?: readonly string[] | undefined
  excludeTables?: readonly string[] | undefined
  /** Empty the target's tables of the same names and load into them (production guard: `yes`). */
  truncate?: boolean
  yes?: boolean
  /** The command's connect options (application name, signal, echo). */
  connect: Omit<ConnectOptions, 'mode'>
  signal?: AbortSignal | undefined
  onProgress?: (event: CopyProgress) => void
}

/** Progress of one table. */
export interface CopyProgress {
  table: string
  phase: 'load' | 'done'
  rows: number
  /** Rows the source has (0 when unknown). */
  total: number
  elapsedMs: number
}

/** One table's outcome. */
export interface CopiedTable {
  name: string
  rows: number
  targetRows: number
  sourceChecksum: string
  targetChecksum: string
  match: boolean
  /** Loaded into a table that was there (`--truncate`). */
  existing: boolean
  ms: number
}

/** What {@link copyDatabase} did. */
export interface CopyResult {
  from: string
  to: string
  tables: CopiedTable[]
  notCopied: NotCopied[]
  /** The migration head recorded in the target, and how many history rows. */
  history: { head: string | undefined; rows: number }
  rows: number
  durationMs: number
}

const KEY_VALUE_MAX = 60

function showValue(value: unknown): string {
  let text: string
  if (value instanceof Uint8Array) text = `x'${Buffer.from(value.subarray(0, 24)).toString('hex')}${value.length > 24 ? '…' : ''}'`
  else if (typeof value === 'string') text = JSON.stringify(value.length > KEY_VALUE_MAX ? `${value.slice(0, KEY_VALUE_MAX)}…` : value)
  else text = String(value)
  return text
}

/** Source batches converted for the target, counted and checksummed on the way. */
async function* converted(
  plan: TablePlan,
  batches: AsyncIterable<unknown[][]>,
  checksum: TableChecksum,
  signal: AbortSignal | undefined,
  onRows: (rows: number) => void,
): AsyncGenerator<CopyValue[][]> {
  const { converters, columns } = plan
  for await (const batch of batches) {
    signal?.throwIfAborted()
    const out: CopyValue[][] = new Array(batch.length)
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r]!
      const values: CopyValue[] = new Array(row.length)
      for (let i = 0; i < row.length; i++) {
        try {
          values[i] = converters[i]!(row[i])
        } catch (err) {
          if (!(err instanceof ValueNotConvertible)) throw err
          const key =
            plan.keyColumns.length > 0
              ? plan.keyColumns.map((k) => `${columns[k]!.name}=${showValue(row[k])}`).join(', ')
              : `row ${checksum.rows + 1}`
          throw new DbopsError(
            'COPY_VALUE_NOT_CONVERTIBLE',
            ExitCode.failed,
            `${plan.source.name}.${columns[i]!.name} (${key}): ${showValue(row[i])} is ${err.reason} (target type ${columns[i]!.type})`,
            { hint: 'Nothing was copied. Fix the value in the source, or give the column another type in the models file.' },
          )
        }
      }
      checksum.add(values)
      out[r] = values
    }
    onRows(checksum.rows)
    yield out
  }
}

/** Reads a table back from the target: its count and checksum. */
async function targetChecksum(writer: CopyWriter, plan: TablePlan, signal: AbortSignal | undefined): Promise<TableChecksum> {
  const checksum = new TableChecksum(plan.logicalTypes)
  const names = plan.columns.map((c) => c.name)
  for await (const batch of writer.rows(plan.table, names)) {
    signal?.throwIfAborted()
    for (const row of batch) checksum.add(row.map((v, i) => plan.converters[i]!(v)))
  }
  return checksum
}

/**
 * Copies `options.from` into `options.to`. Throws a usage error (exit 2) for a target that
 * is not empty without `truncate`, an integrity error (exit 6) when a table's checksum or count
 * differs (the target is left as it was), and the connection errors of either side.
 */
export async function copyDatabase(options: CopyOptions): Promise<CopyResult> {
  const started = performance.now()
  const { from, to, signal } = options
  const [sourceDialect, targetDialect] = await Promise.all([loadDialect(from.target.dialect), loadDialect(to.target.dialect)])
  if (describeTarget(from.target) === describeTarget(to.target))
    throw new UsageError('--from and --to are the same database', { code: 'COPY_SAME_DATABASE', hint: 'Copy into another database.' })
  const models =
    from.modelsPath === undefined
      ? undefined
      : modelsToSchema(await loadModels(from.modelsPath, { cwd: from.cwd }).then((m) => m.tables), targetDialect.name, {
          source: from.modelsPath,
          defaultSchema: to.schema,
        })

  const writer = await targetDialect.openCopyWriter(to, { ...options.connect, mode: 'write', schema: to.schema })
  let sourceConn: DbConnection | undefined
  let reader: CopyReader | undefined
  try {
    const existingNames = await writer.existingTables()
    if (existingNames.length > 0 && !options.truncate) {
      const shown = existingNames.slice(0, 5).join(', ') + (existingNames.length > 5 ? `, … (${existingNames.length} in all)` : '')
      throw new UsageError(`the target ${describeTarget(to.target)} is not empty: ${shown}`, {
        code: 'COPY_TARGET_NOT_EMPTY',
        hint: 'Copy into an empty database, or add --truncate to empty the tables of the same names and load into them.',
      })
    }
    if (existingNames.length > 0) assertDestructiveAllowed(to, { yes: options.yes === true, action: 'truncate the tables of' })
    const existing = existingNames.length > 0 ? await writer.introspect() : undefined

    sourceConn = await sourceDialect.connect(from, { ...options.connect, mode: 'read' })
    reader = await sourceConn.dialect.openCopyReader(sourceConn, {
      schemas: [from.schema],
      defaultSchema: from.schema,
      historyTable: from.migrationsTable,
    })
    const sourceStore = new MigrationStore(sourceDialect.migrationTable, from.migrationsTable)
    const history = await sourceStore.readRows(sourceConn)
    const plan = await planCopy(reader, {
      from: sourceDialect,
      to: targetDialect,
      tables: options.tables,
      excludeTables: options.excludeTables,
      models,
      existing,
      storesNaN: writer.storesNaN,
    })
    const notCopied = [...plan.notCopied]

    await writer.begin()
    await writer.emptyTables(plan.tables.filter((t) => t.existing))
    const results: CopiedTable[] = []
    const sums = new Map<string, TableChecksum>()
    for (const table of plan.tables) {
      signal?.throwIfAborted()
      const tableStarted = performance.now()
      const total = await reader.countRows(table.source)
      notCopied.push(...(await writer.prepareTable(table)))
      const checksum = new TableChecksum(table.logicalTypes)
      const report = (rows: number, phase: CopyProgress['phase']) =>
        options.onProgress?.({ table: table.source.name, phase, rows, total, elapsedMs: performance.now() - tableStarted })
      const batches = reader.rows(
        table.source,
        table.source.columns.filter((c) => table.columns.some((t) => t.name === c.name)).map((c) => c.name),
      )
      try {
        await writer.load(
          table.table,
          table.columns,
          converted(table, batches, checksum, signal, (rows) => report(rows, 'load')),
        )
      } catch (err) {
        if (err instanceof LoadRejected)
          throw new OperationError('COPY_LOAD_FAILED', `${table.source.name}: the target refused a row: ${err.message}`, {
            hint: 'Nothing was copied. Fix the value in the source, or give the column another type in the models file.',
            cause: err,
          })
        throw err
      }
      notCopied.push(...(await writer.completeTable(table)))
      sums.set(table.source.name, checksum)
      report(checksum.rows, 'done')
      results.push({
        name: table.source.name,
        rows: checksum.rows,
        targetRows: 0,
        sourceChecksum: checksum.digest(),
        targetChecksum: '',
        match: false,
        existing: table.existing,
        ms: Math.round(performance.now() - tableStarted),
      })
    }
    try {
      await writer.completeForeignKeys(plan.tables)
    } catch (err) {
      if (err instanceof ForeignKeyViolation)
        throw new OperationError(
          'COPY_FOREIGN_KEY',
          `foreign key of ${err.table} to ${err.referencedTable} does not hold in the source data: ${err.message}`,
          {
            hint: 'Nothing was copied. Delete or fix the orphaned rows in the source (SQLite does not enforce foreign keys unless told to), or leave the table out with --exclude-tables.',
            cause: err,
          },
        )
      throw err
    }

    // verification: every table read back from the target, before anything is visible
    for (const [i, table] of plan.tables.entries()) {
      const back = await targetChecksum(writer, table, signal)
      const result = results[i]!
      result.targetRows = back.rows
      result.targetChecksum = back.digest()
      result.match = result.targetRows === result.rows && result.targetChecksum === result.sourceChecksum
    }
    const mismatched = results.filter((r) => !r.match)
    if (mismatched.length > 0) {
      throw new IntegrityError(
        'COPY_VERIFY_FAILED',
        `verification failed: ${mismatched.map((r) => `${r.name} (${r.rows} rows read, ${r.targetRows} in the target${r.targetRows === r.rows ? ', checksums differ' : ''})`).join('; ')}`,
        { hint: 'Nothing was copied: the target is as it was. Run with --verbose and report the table and its column types.' },
      )
    }
    await writer.finish()
    await reader.close()
    const head = history.filter((r) => r.status === 'applied').at(-1)?.version
    if (history.length > 0) await recordHistory(targetDialect, to, options.connect, history, from)
    return {
      from: describeTarget(from.target),
      to: describeTarget(to.target),
      tables: results,
      notCopied,
      history: { head, rows: history.length },
      rows: results.reduce((n, r) => n + r.rows, 0),
      durationMs: Math.round(performance.now() - started),
    }
  } catch (err) {
    await writer.abort()
    throw signal?.aborted ? signal.reason : err
  } finally {
    await reader?.close().catch(() => undefined)
    await writer.close()
    await sourceConn?.close()
  }
}

/** The source's history rows, in the target's history table; the head's row says it came by copy. */
async function recordHistory(
  dialect: Awaited<ReturnType<typeof loadDialect>>,
  to: ResolvedConfig,
  connect: Omit<ConnectOptions, 'mode'>,
  rows: MigrationRow[],
  from: ResolvedConfig,
): Promise<void> {
  const store = new MigrationStore(dialect.migrationTable, to.migrationsTable)
  const conn = await dialect.connect(to, { ...connect, mode: 'write' })
  try {
    const session = await dialect.acquireMigrationLock(conn, {
      timeoutMs: 10_000,
      schema: to.schema,
      table: to.migrationsTable,
      records: store,
    })
    try {
      await store.ensureTable(session)
      const present = new Set((await store.readRows(session)).map((r) => r.version))
      const applied = rows.filter((r) => r.status === 'applied' && !present.has(r.version))
      const last = applied.at(-1)
      await store.changeRows(
        session,
        applied.map((r) => ({
          kind: 'insert' as const,
          row: {
            version: r.version,
            name: r.name,
            checksum: r.checksum,
            dbopsVersion: r === last ? `${dbopsVersion()} (copy of ${describeTarget(from.target)})` : (r.dbopsVersion ?? dbopsVersion()),
            allowedUnsafe: r.allowedUnsafe,
          },
        })),
      )
    } finally {
      await session.release()
    }
  } finally {
    await conn.close()
  }
}
