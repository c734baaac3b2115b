/**
 * `dbops serve` as a fastify application: the probes, the REST API, `/metrics` and the web
 * console, over the core library (no SQL here). {@link buildServer} makes it without
 * listening, so tests drive it in-process with `inject`.
 *
 * Safety: every route but `/live` and `/ready` needs the bearer token (`DBOPS_SERVE_TOKEN`)
 * when the server listens beyond the loopback interface; the write routes exist only with
 * `allowWrites` and always need it. Strict security headers (a content security policy
 * without inline script), no CORS headers, a 16 KiB body limit, one JSON log line per request
 * on stderr (method, path, status, time; never a header).
 */
import type { Writable } from 'node:stream'
import helmet from '@fastify/helmet'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { UsageError } from '../errors.js'
import { redact } from '../config/redact.js'
import { registerApiRoutes } from './api-routes.js'
import { bearerMatches, isLoopbackHost } from './bearer-token.js'
import { registerConsoleRoutes } from './console-routes.js'
import { HttpError, handleError, sendError } from './http-errors.js'
import { registerMetricsRoute } from './metrics.js'
import { registerProbeRoutes } from './probe-routes.js'
import { createServerContext } from './server-context.js'
import { registerWriteRoutes } from './write-routes.js'

/** Largest request body: the write routes take a name or a target, nothing more. */
export const BODY_LIMIT_BYTES = 16 * 1024

/** Options of {@link buildServer}. */
export interface ServeOptions {
  /** The interface it will listen on: anything but loopback requires `token` on every route. */
  host: string
  /** Register the write routes (`POST migrations/run`, `migrations/generate`). */
  allowWrites?: boolean
  /** `DBOPS_SERVE_TOKEN`. */
  token?: string | undefined
  /** Where the JSON request log goes (default stderr). */
  logStream?: Writable
  /** How long health, readiness and connection probes are reused, ms (default 1000). */
  cacheMs?: number
  /** SQL echo (`--verbose`, `DB_ECHO`). */
  onQuery?: ConnectOptions['onQuery']
  /** Environment for the health thresholds (default process.env). */
  env?: Record<string, string | undefined>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `never` (probes), `always` (writes), else only when listening beyond loopback. */
    auth?: 'never' | 'always'
  }
}

/**
 * Makes the server (not listening). Throws a UsageError (exit 2) when a token is required
 * (a non-loopback host, or `allowWrites`) and none is set. Closing it closes its database
 * session.
 *
 * @example
 * const app = await buildServer(config, { host: '127.0.0.1' })
 * const res = await app.inject({ url: '/api/v1/db/tables' })
 */
export async function buildServer(config: ResolvedConfig, options: ServeOptions): Promise<FastifyInstance> {
  const remote = !isLoopbackHost(options.host)
  const token = options.token === '' ? undefined : options.token
  if (token === undefined && (remote || options.allowWrites)) {
    const why = remote ? `--host ${options.host} listens beyond this machine` : '--allow-writes'
    throw new UsageError(`${why}: every request then needs a bearer token, and DBOPS_SERVE_TOKEN is not set`, {
      code: 'SERVE_TOKEN_MISSING',
      hint: 'Set DBOPS_SERVE_TOKEN to a long random secret (e.g. `openssl rand -hex 32`); clients send `Authorization: Bearer <token>`.',
    })
  }
  if (token !== undefined && token.length < 16) {
    throw new UsageError('DBOPS_SERVE_TOKEN is shorter than 16 characters', {
      code: 'SERVE_TOKEN_WEAK',
      hint: 'Use a long random secret, e.g. `openssl rand -hex 32`.',
    })
  }
  const app = Fastify({
    logger: { level: 'info', stream: options.logStream ?? process.stderr, redact: ['req.headers.authorization'] },
    // one line per request, written in onResponse below
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  })
  const context = createServerContext(config, { cacheMs: options.cacheMs ?? 1000, onQuery: options.onQuery, env: options.env })
  app.addHook('onClose', async () => context.shared.close())
  app.setErrorHandler(handleError)
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HttpError(404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, 'See docs/serve.md.')),
  )
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
  })
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth
    if (auth === 'never' || (auth !== 'always' && !remote)) return
    if (token === undefined || !bearerMatches(request.headers.authorization, token)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'A valid bearer token is required', 'Send `Authorization: Bearer <DBOPS_SERVE_TOKEN>`.')
    }
  })
  // closing (SIGTERM): a response still on its way ends its keep-alive connection, so that the
  // server can close once the requests in flight are answered
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer')
    // the same redaction as every command's output: no password, no token, whatever a message carries
    return typeof payload === 'string' ? redact(payload) : payload
  })
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        remote: request.ip,
      },
      'request',
    )
  })
  registerProbeRoutes(app, context)
  registerApiRoutes(app, context)
  registerMetricsRoute(app, context)
  registerConsoleRoutes(app)
  if (options.allowWrites) registerWriteRoutes(app, context)
  return app
}
