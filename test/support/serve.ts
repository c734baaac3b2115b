/**
 * Helpers of the `dbops serve` tests: a database with a `tracks` table of known rows, a
 * server on it (in-process), and a log stream whose lines the test can read.
 */
import { Writable } from 'node:stream'
import { sql } from 'kysely'
import type { FastifyInstance } from 'fastify'
import { type ResolvedConfig, resolveConfig } from '../../src/config/resolve-config.js'
import { usingDatabase } from '../../src/dialects/index.js'
import { type ServeOptions, buildServer } from '../../src/serve/build-server.js'

/** Creates `tracks(id, title, plays)` with `rows` rows: title `track NN`, plays `(id * 7) % 10`. */
export async function seedTracks(config: ResolvedConfig, rows: number): Promise<void> {
  await usingDatabase(config, { mode: 'write', command: 'test' }, async (conn) => {
    await sql`CREATE TABLE tracks (id integer PRIMARY KEY, title text NOT NULL, plays integer NOT NULL)`.execute(conn.db)
    for (let id = 1; id <= rows; id++) {
      await sql`INSERT INTO tracks (id, title, plays) VALUES (${id}, ${`track ${String(id).padStart(2, '0')}`}, ${(id * 7) % 10})`.execute(
        conn.db,
      )
    }
  })
}

/** A writable stream that keeps what is written, for the request log. */
export function logCapture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString()
      done()
    },
  })
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}

/** The config of `url`, working in `dir`, with extra environment. */
export function configOf(url: string, dir: string, env: Record<string, string> = {}): Promise<ResolvedConfig> {
  return resolveConfig({ cwd: dir, env: { DATABASE_URL: url, ...env } })
}

/** A server (not listening) on `config`, closed by `onClose`. */
export async function serverOn(
  config: ResolvedConfig,
  options: Partial<ServeOptions>,
  defer: (cleanup: () => Promise<void>) => void,
): Promise<FastifyInstance> {
  const app = await buildServer(config, { host: '127.0.0.1', env: {}, logStream: logCapture().stream, ...options })
  defer(async () => {
    await app.close()
  })
  return app
}
