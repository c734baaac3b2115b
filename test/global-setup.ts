import type { TestProject } from 'vitest/node'
import { startPgCluster } from './support/pg-cluster.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * Superuser URL of the PostgreSQL server the tests use: `TEST_DATABASE_URL` when
     * set, else a private cluster started for this run. Tests create their own
     * databases on it with `createTestDatabase(inject('pgAdminUrl'))`.
     */
    pgAdminUrl: string
    /** The private cluster's Unix socket directory and port; undefined with `TEST_DATABASE_URL`. */
    pgSocket: { dir: string; port: number } | undefined
  }
}

/**
 * vitest globalSetup: provides `pgAdminUrl` to every test file and returns the
 * teardown. `TEST_DATABASE_URL` (a role that may CREATE DATABASE) wins, so a
 * developer or a CI service container can bring their own server; otherwise a
 * throwaway cluster is started once per run, because one server with a database
 * per test is far cheaper than a server per file. One line on stderr names the
 * server, without its password.
 */
export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const externalUrl = process.env.TEST_DATABASE_URL
  if (externalUrl) {
    provide('pgAdminUrl', externalUrl)
    provide('pgSocket', undefined)
    process.stderr.write(`[global-setup] PostgreSQL: TEST_DATABASE_URL (${describeUrl(externalUrl)})\n`)
    return async () => {}
  }

  const startedAt = performance.now()
  const cluster = await startPgCluster()
  provide('pgAdminUrl', cluster.url)
  provide('pgSocket', { dir: cluster.socketDir, port: cluster.port })
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
  process.stderr.write(
    `[global-setup] PostgreSQL: temporary cluster (${describeUrl(cluster.url)}, data ${cluster.dataDir}, started in ${seconds}s)\n`,
  )
  return () => cluster.stop()
}

/** `user@host:port/database`: enough to know which server, never the password. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''
    const port = parsed.port ? `:${parsed.port}` : ''
    return `${user}${parsed.hostname}${port}${parsed.pathname}`
  } catch {
    return 'an unparsable URL'
  }
}
