import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** A database created for one test (or one file of tests) by {@link createTestDatabase}. */
export interface TestDatabase {
  /** The admin URL with its database replaced by this one: same host, port and credentials. */
  url: string
  /** The database's name: the prefix, an underscore and 12 random hex digits. */
  name: string
  /** Ends every session on the database and drops it. Safe to call twice. */
  drop(): Promise<void>
}

/** Changes {@link withUrl} applies; each one left out keeps the URL's own value. */
export interface UrlChanges {
  user?: string
  password?: string
  database?: string
  port?: number
}

/**
 * Short, so a test against a dead server fails in seconds rather than hanging until
 * vitest's own timeout, and long enough for a loaded CI machine to answer.
 */
const CONNECT_TIMEOUT_MS = 5_000

/**
 * Creates an empty database with a unique name on the server that `adminUrl` (a role
 * allowed to CREATE DATABASE) points at, so each test starts clean and parallel test
 * files never meet. `prefix` makes leftovers easy to spot and clean up; it must be a
 * plain lower-case identifier.
 *
 * @example
 * const db = await createTestDatabase(inject('pgAdminUrl'))
 * onTestFinished(() => db.drop())
 */
export async function createTestDatabase(adminUrl: string, prefix = 'dbops_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,45}$/.test(prefix)) {
    throw new Error(`createTestDatabase: prefix must match [a-z_][a-z0-9_]{0,45}, got ${JSON.stringify(prefix)}`)
  }
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await usingAdminClient(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`)
  })

  let dropping: Promise<void> | undefined
  return {
    url: withUrl(adminUrl, { database: name }),
    name,
    drop() {
      dropping ??= usingAdminClient(adminUrl, async (client) => {
        const version = await client.query<{ server_version_num: string }>('SHOW server_version_num')
        const supportsForce = Number(version.rows[0]?.server_version_num) >= 130000
        // a pool a test forgot to close would otherwise make DROP DATABASE fail with 55006
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}${supportsForce ? ' WITH (FORCE)' : ''}`)
      })
      return dropping
    },
  }
}

/**
 * Returns `url` with some of its parts replaced, for failure-path tests: a wrong
 * password (28P01), a database that does not exist (3D000), a port nobody listens on.
 * Values are percent-encoded as a URL needs; query parameters are kept.
 *
 * @example
 * withUrl('postgres://app:secret@db:5432/app', { password: 'wrong' })
 * // 'postgres://app:wrong@db:5432/app'
 */
export function withUrl(url: string, changes: UrlChanges): string {
  const parsed = new URL(url)
  // encodeURIComponent first: the URL setters leave '%' alone, and pg decodes what it reads
  if (changes.user !== undefined) parsed.username = encodeURIComponent(changes.user)
  if (changes.password !== undefined) parsed.password = encodeURIComponent(changes.password)
  if (changes.port !== undefined) parsed.port = String(changes.port)
  if (changes.database !== undefined) parsed.pathname = `/${encodeURIComponent(changes.database)}`
  return parsed.toString()
}

async function usingAdminClient<T>(adminUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
