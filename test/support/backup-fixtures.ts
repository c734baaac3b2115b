/**
 * Helpers of the backup tests: run SQL on a test database (SQLite file or PostgreSQL URL),
 * fingerprint every table (row count and a content digest), and run a writer in another
 * process that commits continuously.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'

/** The file of a `sqlite:///…` URL, or undefined for PostgreSQL. */
export function sqlitePathOf(url: string): string | undefined {
  return url.startsWith('sqlite:') ? url.replace(/^sqlite:\/\/\//, '') : undefined
}

/** Runs `statements` (several, separated by `;`) on the database. */
export async function execSql(url: string, statements: string): Promise<void> {
  const file = sqlitePathOf(url)
  if (file) {
    const db = new Database(file)
    try {
      db.pragma('journal_mode = WAL')
      db.exec(statements)
    } finally {
      db.close()
    }
    return
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(statements)
  } finally {
    await client.end()
  }
}

/** Runs one query and returns its rows. */
export async function querySql<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const file = sqlitePathOf(url)
  if (file) {
    const db = new Database(file, { fileMustExist: true })
    try {
      return db.prepare(sql).all() as T[]
    } finally {
      db.close()
    }
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows as T[]
  } finally {
    await client.end()
  }
}

/** Row count and content digest of one table. */
export interface TableFingerprint {
  rows: number
  digest: string
}

/**
 * Every user table's row count and a sha256 of its rows in primary-key order (values as
 * text, blobs as hex), keyed by table name: equal fingerprints mean equal contents.
 */
export async function fingerprintTables(url: string): Promise<Record<string, TableFingerprint>> {
  const result: Record<string, TableFingerprint> = {}
  const file = sqlitePathOf(url)
  if (file) {
    const db = new Database(file, { fileMustExist: true, readonly: true })
    try {
      const tables = db
        .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
        .all() as Array<{ name: string }>
      for (const { name } of tables) {
        const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).raw().all() as unknown[][]
        const hash = createHash('sha256')
        for (const row of rows) hash.update(JSON.stringify(row.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))) + '\n')
        result[name] = { rows: rows.length, digest: hash.digest('hex') }
      }
    } finally {
      db.close()
    }
    return result
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const tables = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
    for (const { name } of tables.rows) {
      const { rows } = await client.query<{ rows: string; digest: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM "${name}" t`,
      )
      result[name] = { rows: Number(rows[0]!.rows), digest: rows[0]!.digest ?? '' }
    }
  } finally {
    await client.end()
  }
  return result
}

/** A writer process committing continuously (see constant-writer.mjs). */
export interface ConstantWriter {
  /** Resolves once it has committed a few transactions. */
  ready: Promise<void>
  /** Kills it and waits for it to exit. */
  stop(): Promise<void>
}

/** Starts `constant-writer.mjs` against the database; `a`, `b` and `counter` must exist. */
export function startConstantWriter(url: string): ConstantWriter {
  const script = path.join(import.meta.dirname, 'constant-writer.mjs')
  const child = spawn(process.execPath, [script, sqlitePathOf(url) ?? url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready: ${stderr}`)))
  })
  return {
    ready,
    async stop() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** Creates the writer's tables: `a(n)`, `b(n)`, `counter(n)` starting at 0. */
export function writerSchema(dialect: 'sqlite' | 'postgres'): string {
  const key = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'bigint PRIMARY KEY'
  return `CREATE TABLE a (n ${key}); CREATE TABLE b (n ${key}); CREATE TABLE counter (n bigint NOT NULL); INSERT INTO counter VALUES (0);`
}

/** `dbops_migrations` as the migrations engine writes it, with two applied rows and one started. */
export function migrationsTable(dialect: 'sqlite' | 'postgres'): string {
  const ts = dialect === 'sqlite' ? 'TEXT' : 'timestamptz'
  return (
    `CREATE TABLE dbops_migrations (version text PRIMARY KEY, name text, checksum text, status text, applied_at ${ts}, duration_ms integer, dbops_version text);` +
    `INSERT INTO dbops_migrations VALUES ('20250101000000', 'init', 'c1', 'applied', '2025-01-01 00:00:00', 5, '0.1.0');` +
    `INSERT INTO dbops_migrations VALUES ('20250102000000', 'users', 'c2', 'applied', '2025-01-02 00:00:00', 5, '0.1.0');` +
    `INSERT INTO dbops_migrations VALUES ('20250103000000', 'big', 'c3', 'started', '2025-01-03 00:00:00', 5, '0.1.0');`
  )
}

/** Some data of several kinds: integers, text, NULLs, binary, a foreign key, an index. */
export function sampleData(dialect: 'sqlite' | 'postgres', rows = 500): string {
  const blob = dialect === 'sqlite' ? 'BLOB' : 'bytea'
  const blobValue = (i: number) =>
    dialect === 'sqlite' ? `X'${Buffer.from(`blob-${i}`).toString('hex')}'` : `'\\x${Buffer.from(`blob-${i}`).toString('hex')}'`
  const values: string[] = []
  for (let i = 1; i <= rows; i++) values.push(`(${i}, 'user ${i} ''quoted''', ${i % 7 === 0 ? 'NULL' : i * 3}, ${blobValue(i)})`)
  return (
    `CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, score integer, avatar ${blob});` +
    `CREATE INDEX users_score ON users (score);` +
    `CREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id), body text);` +
    `INSERT INTO users VALUES ${values.join(', ')};` +
    `INSERT INTO posts SELECT id, id, 'post ' || id FROM users WHERE id % 3 = 0;`
  )
}

/** Fills a table `pad` with about `megabytes` of random, incompressible bytes. */
export function paddingData(dialect: 'sqlite' | 'postgres', megabytes: number): string {
  const rows = Math.ceil((megabytes * 1024 * 1024) / 8192)
  if (dialect === 'sqlite') {
    return `CREATE TABLE IF NOT EXISTS pad (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO pad (data) SELECT randomblob(8192) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) SELECT x FROM c);`
  }
  // pgcrypto only while generating, so dumps do not depend on the extension
  return (
    `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE IF NOT EXISTS pad (id serial PRIMARY KEY, data bytea);` +
    `INSERT INTO pad (data) SELECT gen_random_bytes(1024) FROM generate_series(1, ${Math.ceil(megabytes * 1024)}); DROP EXTENSION pgcrypto;`
  )
}
