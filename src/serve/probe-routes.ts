/**
 * The probes: `GET /live` (the process answers; no database), `GET /ready` (a real login and
 * `SELECT 1`, cached), `GET /health` (`dbops health --json`, HTTP 200 when ok or warn, 503
 * when a check failed or the database cannot be reached).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { errorJson } from '../ui/output.js'
import { errorResponses } from './http-errors.js'
import type { ServerContext } from './server-context.js'
import { isDbopsError } from '../errors.js'

/** The JSON schema of `dbops health --json`. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'checked_at', 'components'],
  properties: {
    status: { enum: ['ok', 'warn', 'fail'] },
    checked_at: { type: 'string' },
    components: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'status', 'latency_ms', 'details'],
        properties: {
          name: { type: 'string' },
          status: { enum: ['ok', 'warn', 'fail'] },
          latency_ms: { type: ['number', 'null'] },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const

const readySchema = {
  type: 'object',
  required: ['ready', 'latency_ms', 'server_version'],
  properties: { ready: { const: true }, latency_ms: { type: 'number' }, server_version: { type: 'string' } },
} as const

/** Registers /live, /ready and /health. */
export function registerProbeRoutes(app: FastifyInstance, context: ServerContext): void {
  const started = Date.now()
  app.get(
    '/live',
    {
      config: { auth: 'never' },
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['status', 'uptime_seconds'],
            properties: { status: { const: 'ok' }, uptime_seconds: { type: 'number' } },
          },
        },
      },
    },
    async () => ({ status: 'ok', uptime_seconds: Math.round((Date.now() - started) / 1000) }),
  )

  app.get(
    '/ready',
    { config: { auth: 'never' }, schema: { response: { 200: readySchema, ...errorResponses } } },
    async (_request, reply) => {
      try {
        return await context.ready()
      } catch (err) {
        if (!isDbopsError(err)) throw err
        // not ready, whatever the reason: a probe answers 503 (the body says why)
        return (reply as FastifyReply).code(503).send(errorJson(err))
      }
    },
  )

  app.get('/health', { schema: { response: { ...errorResponses, 200: healthSchema, 503: healthSchema } } }, async (_request, reply) => {
    const result = await context.health()
    return reply.code(result.report.status === 'fail' ? 503 : 200).send(result.report)
  })
}
