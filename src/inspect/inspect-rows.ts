/**
 * `dbops inspect rows NAME`: a page of a table's rows, filtered by `--where COL=VALUE`
 * (equality, repeatable, ANDed) and ordered by `--order COL` or `--order -COL`, then by the
 * primary key (stable pages).
 *
 * No input reaches SQL as text: the table and column names are checked against the
 * catalog (unknown: exit 2) and then quoted as identifiers, and every value is a bound
 * parameter, compared as data whatever it contains. The session is the on-call one
 * (read-only, 5 s statement timeout), so a page can neither change the database nor run long.
 */
import { sql } from '../kysely-runtime.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { OperationError, UsageError, errorCodeOf, messageOf } from '../errors.js'
import { ON_CALL_STATEMENT_TIMEOUT_MS } from '../health/on-call-session.js'
import { type InspectOptions, usingInspectSession } from './using-inspect-session.js'
import { checkName } from './check-name.js'
import { findTable } from './inspect-table.js'

/** Rows per page unless `--limit` says otherwise: one screen. */
export const DEFAULT_ROW_LIMIT = 20
/** The largest page: an on-call look, not an export (use `pg_dump` / `.dump` for that). */
export const MAX_ROW_LIMIT = 1000
/**
 * The largest offset: the largest integer a JavaScript number holds exactly (2^53 - 1). Past
 * it, `9007199254740993` would silently become `…992`; no table has that many rows, so a
 * larger offset is refused rather than carried as a BigInt.
 */
export const MAX_ROW_OFFSET = Number.MAX_SAFE_INTEGER

/** `--limit`: a whole number from 1 to {@link MAX_ROW_LIMIT}, else a UsageError saying so. */
export function parseRowLimit(text: string): number {
  return parseWholeNumber(text, '--limit', 1, MAX_ROW_LIMIT)
}

/** `--offset`: a whole number from 0 to {@link MAX_ROW_OFFSET}, else a UsageError saying so. */
export function parseRowOffset(text: string): number {
  return parseWholeNumber(text, '--offset', 0, MAX_ROW_OFFSET)
}

/** Decimal digits only, compared as text first: `Number()` would round a long one into range. */
function parseWholeNumber(text: string, flag: string, min: number, max: number): number {
  const digits = text
    .trim()
    .replace(/^\+/, '')
    .replace(/^0+(?=\d)/, '')
  const maxText = String(max)
  const inRange =
    /^\d+$/.test(digits) &&
    (digits.length < maxText.length || (digits.length === maxText.length && digits <= maxText)) &&
    Number(digits) >= min
  if (!inRange) throw new UsageError(`${flag} ${text}: expected a whole number from ${min} to ${max}`)
  return Number(digits)
}

/** One `--where COL=VALUE`. */
export interface RowFilter {
  column: string
  value: string
}

/** One `--order COL` (ascending) or `--order -COL` (descending). */
export interface RowOrder {
  column: string
  direction: 'asc' | 'desc'
}

/** What to read. */
export interface RowsRequest {
  table: string
  limit?: number
  offset?: number
  where?: RowFilter[]
  order?: RowOrder | undefined
}

/** The JSON document of `dbops inspect rows`. */
export interface RowsReport {
  table: string
  columns: string[]
  rows: Array<Record<string, unknown>>
  limit: number
  offset: number
  where: RowFilter[]
  /** The order used: the `--order` given, then the primary key; null when unordered. */
  order: Array<{ column: string; direction: 'asc' | 'desc' }> | null
  has_more: boolean
  /** `--offset` of the next page, or null on the last one. */
  next_offset: number | null
}

/** Parses `COL=VALUE` (split at the first `=`; the value may contain more). */
export function parseRowFilter(text: string): RowFilter {
  const eq = text.indexOf('=')
  if (eq <= 0) {
    throw new UsageError(`--where ${text}: expected COLUMN=VALUE`, {
      code: 'WHERE_INVALID',
      hint: 'For example --where email=ann@example.com (equality only).',
    })
  }
  return { column: text.slice(0, eq), value: text.slice(eq + 1) }
}

/** Parses `COL` or `-COL`. */
export function parseRowOrder(text: string): RowOrder {
  const descending = text.startsWith('-')
  const column = descending ? text.slice(1) : text
  if (column === '') throw new UsageError(`--order ${text}: expected COLUMN or -COLUMN`, { code: 'ORDER_INVALID' })
  return { column, direction: descending ? 'desc' : 'asc' }
}

/** A value as JSON can carry it: bytes as `\x` hex, big integers as strings. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString()
  return value
}

/** Reads one page of rows. */
export async function inspectRows(config: ResolvedConfig, request: RowsRequest, options: InspectOptions): Promise<RowsReport> {
  const limit = request.limit ?? DEFAULT_ROW_LIMIT
  const offset = request.offset ?? 0
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROW_LIMIT)
    throw new UsageError(`--limit ${limit}: expected a whole number from 1 to ${MAX_ROW_LIMIT}`)
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new UsageError(`--offset ${offset}: expected a whole number from 0 to ${MAX_ROW_OFFSET}`)
  return usingInspectSession(config, options, async (conn) => {
    const catalog = conn.dialect.createCatalog(conn)
    const { schema, table } = await findTable(conn, config, request.table)
    const resolve = conn.dialect.resolveTypedName
    const columns = await catalog.listColumns({ schema, table })
    const columnNames = columns.map((c) => c.name)
    const inTable = `in table ${table}`
    // names as the database spells them: they are quoted (exact) in the query below
    const filters = (request.where ?? []).map((f) => ({ ...f, column: checkName(f.column, columnNames, 'column', inTable, resolve) }))
    const primaryKey = columns
      .filter((c) => c.primaryKeyPosition > 0)
      .sort((a, b) => a.primaryKeyPosition - b.primaryKeyPosition)
      .map((c) => ({ column: c.name, direction: 'asc' as const }))
    const requested = request.order
      ? [{ column: checkName(request.order.column, columnNames, 'column', inTable, resolve), direction: request.order.direction }]
      : []
    // the primary key breaks ties, so pages neither overlap nor skip rows
    const order: RowOrder[] = [...requested, ...primaryKey.filter((pk) => !requested.some((o) => o.column === pk.column))]

    // identifiers: checked above, then quoted by sql.id; values: bound parameters only
    const from = conn.dialect.supportsSchemas ? sql.id(schema, table) : sql.id(table)
    const conditions = filters.map((f) => sql`${sql.id(f.column)} = ${f.value}`)
    const whereClause = conditions.length > 0 ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``
    const orderClause =
      order.length > 0
        ? sql`ORDER BY ${sql.join(order.map((o) => sql`${sql.id(o.column)} ${o.direction === 'desc' ? sql`DESC` : sql`ASC`}`))}`
        : sql``
    let rows: Array<Record<string, unknown>>
    try {
      const result = await sql<
        Record<string, unknown>
      >`SELECT * FROM ${from} ${whereClause} ${orderClause} LIMIT ${limit + 1} OFFSET ${offset}`.execute(conn.db)
      rows = result.rows
    } catch (err) {
      throw mapRowsError(err, filters, table)
    }
    const hasMore = rows.length > limit
    const page = rows.slice(0, limit).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toJsonValue(v)])))
    return {
      table: schema === config.schema ? table : `${schema}.${table}`,
      columns: columnNames,
      rows: page,
      limit,
      offset,
      where: filters,
      order: order.length > 0 ? order : null,
      has_more: hasMore,
      next_offset: hasMore ? offset + limit : null,
    }
  })
}

function mapRowsError(err: unknown, filters: RowFilter[], table: string): Error {
  const code = errorCodeOf(err) ?? ''
  // class 22, data exception: a value that is not valid for its column's type (22P02, 22007…)
  if (code.startsWith('22')) {
    const shown = filters.map((f) => `${f.column}=${f.value}`).join(' ')
    return new UsageError(`--where ${shown}: ${messageOf(err)}`, {
      code: 'WHERE_VALUE_INVALID',
      hint: `Each value must be valid for its column's type (see \`dbops inspect table ${table}\`).`,
      cause: err,
    })
  }
  if (code === '57014') {
    return new OperationError(
      'QUERY_TIMEOUT',
      `Reading ${table} took longer than ${ON_CALL_STATEMENT_TIMEOUT_MS / 1000} s and was cancelled`,
      {
        hint: 'Filter with --where on an indexed column, or order by an indexed column.',
        cause: err,
      },
    )
  }
  return err instanceof Error ? err : new Error(String(err))
}
