/**
 * Errors over HTTP: every failure is `{"error": {"code", "message", "hint"}}` (the JSON shape of
 * every command), with an HTTP status from the exit-code table: 2 → 400, 3 → 409 (the lint
 * gate stopped a run), 4 → 503, 5 → 409, 6 → 409, 7 → 403 (authentication) or 404 (missing
 * database or file), 1 → 500; an unknown table is 404 (with its suggestion). Anything that is
 * not a DbopsError is a 500 whose message says nothing of the internals (it is logged).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DbopsError, ExitCode, errorCodeOf, messageOf } from '../errors.js'
import { errorJson } from '../ui/output.js'

/** The JSON schema of an error body. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'hint'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        hint: { type: ['string', 'null'] },
        sqlstate: { type: 'string' },
      },
    },
  },
} as const

/** Error responses every route may give, for its `response` schema. */
export const errorResponses = Object.fromEntries([400, 401, 403, 404, 409, 413, 500, 503].map((status) => [status, errorSchema]))

const NOT_FOUND_CODES = new Set(['UNKNOWN_TABLE', 'DB_NOT_FOUND', 'DB_FILE_MISSING'])

/** Database refusals a read can meet on a busy database, by SQLSTATE: status, code, hint. */
const DATABASE_REFUSALS: Record<string, [number, string, string]> = {
  '55P03': [
    409,
    'LOCK_NOT_AVAILABLE',
    'Another session holds a lock on it (the on-call session waits 1 s at most); /api/v1/db/pool lists the blockers.',
  ],
  '57014': [503, 'QUERY_TIMEOUT', 'The read ran past the on-call statement timeout (5 s); filter on an indexed column.'],
}

/** The HTTP status of a DbopsError. */
export function httpStatusOf(err: DbopsError): number {
  if (NOT_FOUND_CODES.has(err.code)) return 404
  switch (err.exitCode) {
    case ExitCode.usage:
      return 400
    case ExitCode.attention:
    case ExitCode.lockTimeout:
    case ExitCode.integrity:
      return 409
    case ExitCode.unreachable:
    case ExitCode.sigint:
    case ExitCode.sigterm:
      return 503
    case ExitCode.access:
      return 403
    default:
      return 500
  }
}

/** An HTTP-level refusal (401, 404 route, 413…) in the same shape. */
export class HttpError extends DbopsError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    hint?: string,
  ) {
    super(code, status >= 500 ? ExitCode.failed : ExitCode.usage, message, { hint })
  }
}

/** Sends `err` as the error document with its status. */
export function sendError(reply: FastifyReply, err: DbopsError): FastifyReply {
  const status = err instanceof HttpError ? err.status : httpStatusOf(err)
  return reply.code(status).send(errorJson(err))
}

/** fastify's error handler: validation → 400, fastify's own (413, 415…) → theirs, the rest by the table. */
export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof DbopsError) {
    if (httpStatusOf(err) >= 500 && !(err instanceof HttpError)) request.log.warn({ code: err.code, err: err.message }, 'request failed')
    return sendError(reply, err)
  }
  const fastifyError = err as FastifyError
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request'
    return sendError(
      reply,
      new HttpError(
        400,
        'USAGE',
        `${where}: ${err.message.replace(/^(querystring|params|body|headers)\/?/, '').trim()}`,
        'See docs/serve.md for the parameters of each route.',
      ),
    )
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    return sendError(reply, new HttpError(fastifyError.statusCode, fastifyError.code ?? 'BAD_REQUEST', err.message))
  }
  const sqlstate = errorCodeOf(err)
  if (sqlstate && DATABASE_REFUSALS[sqlstate]) {
    const [status, code, hint] = DATABASE_REFUSALS[sqlstate]
    return sendError(reply, new HttpError(status, code, messageOf(err), hint))
  }
  request.log.error({ err }, 'unexpected error')
  return sendError(reply, new HttpError(500, 'INTERNAL', 'Internal error', 'The server log (stderr) has the details.'))
}
