/**
 * Runs migrations in the schema copy the way `migrate up` does (the same `search_path` and
 * `lock_timeout`; a transaction per migration unless `transaction:false`), one statement at a
 * time, and records after each what this backend holds (`pg_locks`) and what changed in the
 * catalog (see `postgres-catalog-snapshot.ts`). Migrations commit in the copy, so each sees the
 * ones before it.
 *
 * Outside a transaction a statement's locks are gone when it returns, so each is first run in
 * a transaction that is rolled back, reading its locks there; a statement that refuses to run
 * in one (`CREATE INDEX CONCURRENTLY`, `VACUUM`…) is watched while it runs from a second session
 * instead, which also holds a snapshot open so that the concurrent build waits for it (as it
 * would wait for the application's transactions) and its locks can be seen.
 */
import type { Kysely } from 'kysely'
import type pg from 'pg'
import { errorCodeOf } from '../../../errors.js'
import { delimitIdentifier } from '../../../sql/sql-text.js'
import { lineStarts, locate } from '../../../sql/text-position.js'
import { type MigrationStep, MigrationStepError, type ScriptStatement } from '../../migration-port.js'
import type { SchemaCopy } from '../../dialect.js'
import type { MigrationTrace, MigrationTracer, StatementTrace, TracerOptions } from '../../plan-port.js'
import { kyselyOverClient } from '../postgres-backup.js'
import type { PostgresConnection } from '../postgres-connection.js'
import { type CatalogSnapshot, compareSnapshots, nameLocks, readCatalogSnapshot, readRelationLocks } from './postgres-catalog-snapshot.js'

/** `25001`: the statement cannot run inside a transaction block. */
const NOT_IN_TRANSACTION = '25001'

/** Opens a tracer on the copy: one pinned session set up as `migrate up`'s. */
export async function openPostgresTracer(copy: SchemaCopy, options: TracerOptions): Promise<MigrationTracer> {
  const conn = copy.conn as PostgresConnection
  const client = await conn.pool.connect()
  client.on('error', () => undefined)
  try {
    if (options.schema !== 'public') await client.query(`SET search_path TO ${delimitIdentifier(options.schema)}, public`)
    const first = await readCatalogSnapshot(client)
    return new PostgresMigrationTracer(conn, client, first, options)
  } catch (err) {
    client.release(true)
    throw err
  }
}

type RelationRow = CatalogSnapshot['relations'] extends Map<string, infer R> ? R : never

class PostgresMigrationTracer implements MigrationTracer {
  readonly existing: ReadonlySet<string>
  /** Every relation seen in the copy, by oid, so that a dropped one's lock keeps its name. */
  private readonly known = new Map<string, RelationRow>()
  private snapshot: CatalogSnapshot
  private readonly lockTimeout: string
  private readonly pid: number
  private readonly onAbort = () => void this.cancel()

  constructor(
    private readonly conn: PostgresConnection,
    private readonly client: pg.PoolClient,
    first: CatalogSnapshot,
    private readonly options: TracerOptions,
  ) {
    this.snapshot = first
    this.remember(first)
    this.existing = new Set([...first.relations.values()].map((r) => r.name))
    this.lockTimeout = `${Math.max(0, Math.round(options.statementLockTimeoutMs))}ms`
    this.pid = (client as unknown as { processID: number }).processID
    options.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  async trace(step: MigrationStep): Promise<MigrationTrace> {
    if (step.transaction) {
      await this.client.query('BEGIN')
      try {
        await this.client.query(`SET LOCAL lock_timeout = '${this.lockTimeout}'`)
        const statements = await this.traceBody(step, (statement) => this.runInTransaction(statement))
        const commitLocks = nameLocks(await readRelationLocks(this.client, this.pid), this.known)
        await this.client.query('COMMIT')
        return { ...statements, commitLocks }
      } catch (err) {
        await this.client.query('ROLLBACK').catch(() => undefined)
        this.snapshot = await readCatalogSnapshot(this.client)
        throw err
      }
    }
    await this.client.query(`SET lock_timeout = '${this.lockTimeout}'`)
    return { ...(await this.traceBody(step, (statement) => this.runOutsideTransaction(statement))), commitLocks: undefined }
  }

  /** Each statement of a `.sql` section through `run`; a module's function as one step. */
  private async traceBody(
    step: MigrationStep,
    run: (statement: ScriptStatement) => Promise<Array<{ oid: string; mode: string }>>,
  ): Promise<Omit<MigrationTrace, 'commitLocks'>> {
    if (step.body.kind === 'function') {
      const body = step.body.run
      const trace = await this.observe({ text: `(module: ${step.direction}(db))`, line: 0, column: 0 }, async () => {
        const db: Kysely<any> = kyselyOverClient(this.client, undefined)
        await body(db)
        return step.transaction ? readRelationLocks(this.client, this.pid) : []
      })
      return { statements: [{ ...trace, line: undefined, column: undefined }], granularity: 'whole' }
    }
    const statements: StatementTrace[] = []
    for (const statement of step.body.section.statements) statements.push(await this.observe(statement, () => run(statement)))
    return { statements, granularity: 'statements' }
  }

  /** Runs `work` between two catalog snapshots and names what it locked. */
  private async observe(statement: ScriptStatement, work: () => Promise<Array<{ oid: string; mode: string }>>): Promise<StatementTrace> {
    const before = this.snapshot
    let locks: Array<{ oid: string; mode: string }>
    try {
      locks = await work()
    } catch (err) {
      throw located(err, statement)
    }
    const after = await readCatalogSnapshot(this.client)
    this.remember(after)
    this.snapshot = after
    return {
      sql: statement.text,
      line: statement.line,
      column: statement.column,
      locks: nameLocks(locks, this.known),
      ...compareSnapshots(before, after),
    }
  }

  private async runInTransaction(statement: ScriptStatement): Promise<Array<{ oid: string; mode: string }>> {
    await this.client.query(statement.text)
    return readRelationLocks(this.client, this.pid)
  }

  /** Probed in a rolled-back transaction for its locks, then run for real; or watched while it runs. */
  private async runOutsideTransaction(statement: ScriptStatement): Promise<Array<{ oid: string; mode: string }>> {
    let probed: Array<{ oid: string; mode: string }> | undefined
    await this.client.query('BEGIN')
    try {
      await this.client.query(statement.text)
      probed = await readRelationLocks(this.client, this.pid)
      this.remember(await readCatalogSnapshot(this.client))
    } catch (err) {
      if (errorCodeOf(err) !== NOT_IN_TRANSACTION) probed = [] // it fails for real below, with its own error
    } finally {
      await this.client.query('ROLLBACK')
    }
    if (probed !== undefined) {
      await this.client.query(statement.text)
      return probed
    }
    return this.watch(statement.text)
  }

  /**
   * Runs `text` while a second session holds a snapshot open and polls this backend's locks;
   * once the statement waits for that snapshot, it lets it go.
   */
  private async watch(text: string): Promise<Array<{ oid: string; mode: string }>> {
    const gate = await this.conn.pool.connect()
    const seen = new Map<string, { oid: string; mode: string }>()
    let open = true
    try {
      await gate.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await gate.query('SELECT 1')
      const gatePid = (gate as unknown as { processID: number }).processID
      let done = false
      const running = this.client.query(text).finally(() => (done = true))
      running.catch(() => undefined)
      const look = async () => {
        for (const lock of await readRelationLocks(gate, this.pid)) seen.set(`${lock.oid} ${lock.mode}`, lock)
      }
      while (!done) {
        await look()
        if (open) {
          const { rows } = await gate.query<{ waits: boolean }>('SELECT $2::int = ANY(pg_blocking_pids($1)) AS waits', [this.pid, gatePid])
          if (rows[0]?.waits) {
            await look() // it waits for the snapshot: everything it locked so far is held now
            open = false
            await gate.query('COMMIT')
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      await running
      return [...seen.values()]
    } finally {
      if (open) await gate.query('ROLLBACK').catch(() => undefined)
      gate.release(true)
    }
  }

  private remember(snapshot: CatalogSnapshot): void {
    for (const [oid, relation] of snapshot.relations) this.known.set(oid, relation)
  }

  private async cancel(): Promise<void> {
    const other = await this.conn.pool.connect().catch(() => undefined)
    if (!other) return
    try {
      await other.query('SELECT pg_cancel_backend($1)', [this.pid])
    } catch {
      // the statement may have ended meanwhile
    } finally {
      other.release(true)
    }
  }

  async close(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort)
    this.client.release(true)
  }
}

/** The failure as a step error at the statement (its `position` refined within it). */
function located(err: unknown, statement: ScriptStatement): MigrationStepError {
  if (err instanceof MigrationStepError) return err
  let line: number | undefined = statement.line || undefined
  let column: number | undefined = statement.column || undefined
  const position = Number((err as { position?: string }).position)
  if (line !== undefined && column !== undefined && Number.isFinite(position) && position >= 1) {
    const where = locate(lineStarts(statement.text), position - 1)
    column = where.line === 1 ? column + where.column - 1 : where.column
    line += where.line - 1
  }
  const code = errorCodeOf(err)
  return new MigrationStepError(err instanceof Error ? err.message : String(err), {
    line,
    column,
    code,
    sqlstate: code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined,
    dirty: false,
    cancelled: code === '57014',
    lockTimeout: code === '55P03',
    cause: err,
  })
}
