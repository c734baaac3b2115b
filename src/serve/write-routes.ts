/**
 * The two routes that change something, registered only with `--allow-writes` and always
 * behind the bearer token: `POST /api/v1/db/migrations/run {target?}` (`migrate up`, with its
 * lock, lint gate and integrity checks; on a production or protected database only with
 * `"yes": true`, the production guard) and `POST /api/v1/db/migrations/generate {name}` (an
 * empty migration file). Each is recorded in the request log with its outcome.
 */
import type { FastifyInstance } from 'fastify'
import { assertDestructiveAllowed } from '../config/production-guard.js'
import { ProductionGuardError } from '../errors.js'
import { generateMigration } from '../migrate/generate-migration.js'
import { migrateUp } from '../migrate/migrate-up.js'
import { errorJson } from '../ui/output.js'
import { errorResponses, httpStatusOf } from './http-errors.js'
import type { ServerContext } from './server-context.js'

const anyObject = { type: 'object', additionalProperties: true } as const

/** Registers the write routes. */
export function registerWriteRoutes(app: FastifyInstance, context: ServerContext): void {
  const { config } = context
  const api = '/api/v1/db'

  app.post<{ Body: { target?: string; yes?: boolean } }>(
    `${api}/migrations/run`,
    {
      config: { auth: 'always' },
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { target: { type: 'string', minLength: 1, maxLength: 300 }, yes: { type: 'boolean' } },
        },
        response: { ...errorResponses, 200: anyObject, 409: anyObject, 500: anyObject },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {}
      try {
        assertDestructiveAllowed(config, { yes: body.yes === true, action: 'apply migrations over HTTP' })
      } catch (err) {
        if (!(err instanceof ProductionGuardError)) throw err
        throw new ProductionGuardError(err.message, { hint: 'Send {"yes": true} in the body if you mean it.' })
      }
      const result = await migrateUp(config, {
        to: body.target,
        connect: { command: context.connect.command, onQuery: context.connect.onQuery },
      })
      const { error, ...rest } = result
      request.log.info(
        {
          write: 'migrations/run',
          target: body.target ?? null,
          applied: result.results.length,
          head: result.head,
          error: error?.code ?? null,
        },
        'migrations run',
      )
      return reply.code(error ? httpStatusOf(error) : 200).send({ ...rest, error: error ? errorJson(error).error : null })
    },
  )

  app.post<{ Body: { name: string } }>(
    `${api}/migrations/generate`,
    {
      config: { auth: 'always' },
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: {
          ...errorResponses,
          200: {
            type: 'object',
            required: ['version', 'name', 'path'],
            properties: { version: { type: 'string' }, name: { type: 'string' }, path: { type: 'string' } },
          },
        },
      },
    },
    async (request) => {
      const result = await generateMigration(config, { name: request.body.name, kind: 'sql' })
      request.log.info({ write: 'migrations/generate', path: result.path }, 'migration generated')
      return result
    },
  )
}
