/**
 * TEST STAND-IN for the migration runner, which lives on another branch: applies the
 * `-- migrate:up` section of each `.sql` file of a directory, in file-name order, the way the
 * runner will (each file in a transaction; `foreign_keys:off` on SQLite switches foreign keys
 * off before the transaction and runs `PRAGMA foreign_key_check` before the commit). No
 * bookkeeping table, no checksums, no locking: it exists to test the replay and the
 * generated files, not to be a runner.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../../src/config/resolve-config.js'
import type { SqliteConnection } from '../../src/dialects/sqlite/sqlite-connection.js'
import type { PostgresConnection } from '../../src/dialects/postgres/postgres-connection.js'
import { usingDatabase } from '../../src/dialects/index.js'
import type { MigrationApplier } from '../../src/drift/replay-migrations.js'

/** One section of a dbmate-format file: its SQL and its options (`transaction:false`, `foreign_keys:off`). */
export interface MigrationSection {
  sql: string
  options: Set<string>
}

/** Splits a dbmate-format file into its up and down sections. */
export function parseMigrationFile(text: string): { up: MigrationSection; down: MigrationSection } {
  const sections: Record<string, MigrationSection> = { up: { sql: '', options: new Set() }, down: { sql: '', options: new Set() } }
  let current: MigrationSection | undefined
  for (const line of text.split('\n')) {
    const header = /^--\s*migrate:(up|down)\b(.*)$/.exec(line)
    if (header) {
      current = sections[header[1]!]!
      for (const option of header[2]!.trim().split(/\s+/).filter(Boolean)) current.options.add(option)
      continue
    }
    if (current) current.sql += `${line}\n`
  }
  return { up: sections.up!, down: sections.down! }
}

/** Runs one section against a connection, honouring its options. */
export async function runSection(conn: SqliteConnection | PostgresConnection, section: MigrationSection, label: string): Promise<void> {
  if ('handle' in conn) {
    const db = conn.handle
    const fkOff = section.options.has('foreign_keys:off')
    if (fkOff) db.pragma('foreign_keys = OFF')
    try {
      db.exec('BEGIN')
      try {
        db.exec(section.sql)
        if (fkOff) {
          const violations = db.pragma('foreign_key_check') as unknown[]
          if (violations.length > 0)
            throw new Error(
              `${label}: foreign_key_check found ${violations.length} violation(s): ${JSON.stringify(violations.slice(0, 3))}`,
            )
        }
        db.exec('COMMIT')
      } catch (err) {
        db.exec('ROLLBACK')
        throw err
      }
    } finally {
      if (fkOff) db.pragma('foreign_keys = ON')
    }
    return
  }
  const client = await conn.pool.connect()
  try {
    await client.query('BEGIN')
    try {
      await client.query(section.sql)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK')
      throw new Error(`${label}: ${(err as Error).message}`, { cause: err })
    }
  } finally {
    client.release()
  }
}

/** The stand-in {@link MigrationApplier}: every `.sql` file's up section, in order. */
export const applySqlMigrations: MigrationApplier = async (shadow: ResolvedConfig, { migrationsDir }) => {
  const files = fs.existsSync(migrationsDir)
    ? fs
        .readdirSync(migrationsDir)
        .filter((f) => f.endsWith('.sql'))
        .sort()
    : []
  await usingDatabase(shadow, { mode: 'write', command: 'test-apply' }, async (conn) => {
    for (const file of files) {
      const { up } = parseMigrationFile(fs.readFileSync(path.join(migrationsDir, file), 'utf8'))
      await runSection(conn as SqliteConnection | PostgresConnection, up, file)
    }
  })
}
