/**
 * The web console: three static files shipped in the package (`console/` beside `dist/`),
 * read once at start-up and served from memory. No external asset, no inline script (the
 * content security policy forbids both); the pages read the same REST API as everyone else.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { packageRoot } from '../package-root.js'

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
}

/** Where the console's files are: `console/` in the package. */
export function consoleDirectory(): string {
  return path.join(packageRoot(), 'console')
}

/** Registers `/`, `/console.js`, `/console.css` (and an empty `/favicon.ico`). */
export function registerConsoleRoutes(app: FastifyInstance): void {
  const dir = consoleDirectory()
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const body = fs.readFileSync(path.join(dir, file))
    app.get(route, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body))
  }
  // browsers ask for it on their own; no icon, and no 404 in their console
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send())
}
