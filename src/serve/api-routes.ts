/**
 * The read-only REST API under `/api/v1/db/`: the same core functions as the commands
 * (`inspect tables | table | rows`, `migrate status`, `backup list`, `pool`'s server view),
 * read through the server's shared read-only session. Names typed in a request are checked
 * against the catalog by the core (unknown table: 404 with the nearest name; unknown column:
 * 400) and every value is a bound parameter: nothing from a URL reaches SQL as text.
 */
import type { FastifyInstance } from 'fastify'
import { resolveBackupDirectory } from '../backup/backup-directory.js'
import { listBackups } from '../backup/list-backups.js'
import { describeTarget } from '../config/database-url.js'
import { UsageError, isDbopsError } from '../errors.js'
import { inspectRows, MAX_ROW_LIMIT, MAX_ROW_OFFSET, DEFAULT_ROW_LIMIT } from '../inspect/inspect-rows.js'
import { inspectTable } from '../inspect/inspect-table.js'
import { inspectTables } from '../inspect/inspect-tables.js'
import { getMigrationStatus } from '../migrate/migration-status.js'
import { errorJson } from '../ui/output.js'
import { errorResponses } from './http-errors.js'
import type { ServerContext } from './server-context.js'

const anyObject = { type: 'object', additionalProperties: true } as const
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 300 } } } as const

/** The query of `GET /api/v1/db/tables/{name}`. */
export interface RowsQuery {
  page: number
  page_size: number
  sort_by?: string
  sort_desc: boolean
  filter_column?: string[]
  filter_value?: string[]
}

const rowsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page: { type: 'integer', minimum: 1, default: 1 },
    page_size: { type: 'integer', minimum: 1, maximum: MAX_ROW_LIMIT, default: DEFAULT_ROW_LIMIT },
    sort_by: { type: 'string', minLength: 1, maxLength: 300 },
    sort_desc: { type: 'boolean', default: false },
    filter_column: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 300 } },
    filter_value: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 10_000 } },
  },
} as const

const rowsResponseSchema = {
  type: 'object',
  required: ['table', 'columns', 'rows', 'page', 'page_size', 'has_more', 'next_page', 'filters', 'order'],
  properties: {
    table: { type: 'string' },
    columns: { type: 'array', items: { type: 'string' } },
    rows: { type: 'array', items: anyObject },
    page: { type: 'integer' },
    page_size: { type: 'integer' },
    has_more: { type: 'boolean' },
    next_page: { type: ['integer', 'null'] },
    filters: {
      type: 'array',
      items: { type: 'object', required: ['column', 'value'], properties: { column: { type: 'string' }, value: { type: 'string' } } },
    },
    order: {
      type: ['array', 'null'],
      items: { type: 'object', properties: { column: { type: 'string' }, direction: { enum: ['asc', 'desc'] } } },
    },
  },
} as const

/** The filters of a rows query: `filter_column` and `filter_value` in pairs. */
export function rowFilters(query: RowsQuery): Array<{ column: string; value: string }> {
  const columns = query.filter_column ?? []
  const values = query.filter_value ?? []
  if (columns.length !== values.length) {
    throw new UsageError(`filter_column given ${columns.length} time(s), filter_value ${values.length}: expected pairs`, {
      code: 'WHERE_INVALID',
      hint: 'One filter_value per filter_column, in the same order: ?filter_column=status&filter_value=open',
    })
  }
  return columns.map((column, i) => ({ column, value: values[i]! }))
}

/** Registers the read routes. */
export function registerApiRoutes(app: FastifyInstance, context: ServerContext): void {
  const { config, connect, shared } = context
  const api = '/api/v1/db'

  app.get(
    `${api}/status`,
    {
      schema: {
        response: {
          ...errorResponses,
          200: {
            type: 'object',
            required: ['database', 'dialect', 'ready', 'server_version', 'latency_ms', 'migrations'],
            properties: {
              database: { type: 'string' },
              dialect: { type: 'string' },
              ready: { type: 'boolean' },
              server_version: { type: 'string' },
              latency_ms: { type: 'number' },
              migrations: anyObject,
            },
          },
        },
      },
    },
    async () => {
      const ready = await context.ready()
      const status = await getMigrationStatus(config, { connect })
      return {
        database: describeTarget(config.target),
        dialect: config.target.dialect,
        ready: true,
        server_version: ready.server_version,
        latency_ms: ready.latency_ms,
        migrations: { head: status.head, ...status.summary },
      }
    },
  )

  app.get(
    `${api}/is-ready`,
    {
      schema: {
        response: {
          ...errorResponses,
          200: {
            type: 'object',
            required: ['ready'],
            properties: { ready: { type: 'boolean' }, latency_ms: { type: 'number' }, error: anyObject },
          },
        },
      },
    },
    async () => {
      try {
        const ready = await context.ready()
        return { ready: true, latency_ms: ready.latency_ms }
      } catch (err) {
        if (!isDbopsError(err)) throw err
        return { ready: false, error: errorJson(err).error }
      }
    },
  )

  app.get(`${api}/tables`, { schema: { response: { ...errorResponses, 200: anyObject } } }, async () =>
    inspectTables(config, { connect, shared }),
  )

  app.get<{ Params: { name: string } }>(
    `${api}/tables/:name/schema`,
    { schema: { params: nameParams, response: { ...errorResponses, 200: anyObject } } },
    async (request) => inspectTable(config, request.params.name, { connect, shared }),
  )

  app.get<{ Params: { name: string }; Querystring: RowsQuery }>(
    `${api}/tables/:name`,
    { schema: { params: nameParams, querystring: rowsQuerySchema, response: { ...errorResponses, 200: rowsResponseSchema } } },
    async (request) => {
      const query = request.query
      const offset = (query.page - 1) * query.page_size
      if (!Number.isSafeInteger(offset) || offset > MAX_ROW_OFFSET) {
        throw new UsageError(`page ${query.page}: past the last row any table can have`, { code: 'PAGE_INVALID' })
      }
      const report = await inspectRows(
        config,
        {
          table: request.params.name,
          limit: query.page_size,
          offset,
          where: rowFilters(query),
          order: query.sort_by === undefined ? undefined : { column: query.sort_by, direction: query.sort_desc ? 'desc' : 'asc' },
        },
        { connect, shared },
      )
      return {
        table: report.table,
        columns: report.columns,
        rows: report.rows,
        page: query.page,
        page_size: query.page_size,
        has_more: report.has_more,
        next_page: report.has_more ? query.page + 1 : null,
        filters: report.where,
        order: report.order,
      }
    },
  )

  app.get(`${api}/migrations/status`, { schema: { response: { ...errorResponses, 200: anyObject } } }, async () =>
    getMigrationStatus(config, { connect }),
  )

  app.get(`${api}/backups`, { schema: { response: { ...errorResponses, 200: anyObject } } }, async () => {
    const { dir } = resolveBackupDirectory(config, undefined)
    const entries = await listBackups(config)
    // the file's name, not where it lives on the server, and no manifest internals
    return { dir, backups: entries.map(({ manifest: _manifest, path: _path, ...rest }) => rest) }
  })

  app.get(`${api}/pool`, { schema: { response: { ...errorResponses, 200: anyObject } } }, async () => ({
    dialect: config.target.dialect,
    client: shared.poolStats() ?? null,
    server: await context.connections(),
  }))
}
