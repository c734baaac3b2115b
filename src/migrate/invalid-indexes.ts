/**
 * Invalid indexes left by dbops' migrations. A `CREATE INDEX CONCURRENTLY` that fails (a
 * unique index over duplicate values, a cancelled build) leaves an INVALID index behind: the
 * database maintains it on every write but never uses it, and re-running the migration fails
 * on its name. dbops reports the ones whose names a `CREATE INDEX` of the migration files
 * gives (read with the one SQL lexer), each with the statement that clears it; which indexes
 * are invalid is the dialect's catalog query (`Catalog.invalidIndexes`).
 */
import type { InvalidIndex } from '../dialects/catalog-port.js'
import type { DbConnection } from '../dialects/dialect.js'
import type { DbopsError } from '../errors.js'
import { SqlLexer, type SqlSyntax, type SqlToken, isKeyword } from '../sql/sql-tokenizer.js'
import type { MigrationFile } from './discover-migrations.js'
import { MigrationFailedError } from './migration-failed-error.js'

/** An invalid index a migration created (snake_case: it is part of the `--json` documents). */
export interface MigrationInvalidIndex {
  schema: string | null
  name: string
  table: string
  /** The file of the migration whose `CREATE INDEX` names it. */
  migration: string
  /** The statement that drops it without blocking writes. */
  fix: string
}

/**
 * The names given by the `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name` statements
 * of `sql`, as written (a quoted name with its quotes), for the dialect's name matching. An
 * index left unnamed, or text the lexer cannot read to its end, gives what was read before.
 */
export function createdIndexNames(sql: string, syntax: SqlSyntax): string[] {
  const tokens: SqlToken[] = []
  try {
    const lexer = new SqlLexer(sql, syntax)
    for (let token = lexer.next(); token; token = lexer.next()) tokens.push(token)
  } catch {
    // an unterminated string: the migration itself reports it; keep the names before it
  }
  const names: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    if (!isKeyword(tokens[i], 'create')) continue
    let j = i + 1
    if (isKeyword(tokens[j], 'unique')) j++
    if (!isKeyword(tokens[j], 'index')) continue
    j++
    if (isKeyword(tokens[j], 'concurrently')) j++
    if (isKeyword(tokens[j], 'if') && isKeyword(tokens[j + 1], 'not') && isKeyword(tokens[j + 2], 'exists')) j += 3
    const name = tokens[j]
    if (name && (name.kind === 'word' || name.kind === 'quoted') && !isKeyword(name, 'on')) names.push(sql.slice(name.start, name.end))
  }
  return names
}

/**
 * The invalid indexes of `invalid` that a `CREATE INDEX` of `files` names, with the first such
 * migration; names are matched as the database resolves them (`resolveTypedName`).
 */
export function invalidIndexesOfMigrations(
  files: readonly MigrationFile[],
  invalid: readonly InvalidIndex[],
  dialect: Pick<DbConnection['dialect'], 'sqlSyntax' | 'resolveTypedName'>,
): MigrationInvalidIndex[] {
  if (invalid.length === 0) return []
  const known = invalid.map((index) => index.name)
  const found: MigrationInvalidIndex[] = []
  const seen = new Set<InvalidIndex>()
  for (const file of files) {
    if (file.kind !== 'sql') continue
    for (const typed of createdIndexNames(file.content, dialect.sqlSyntax)) {
      const name = dialect.resolveTypedName(typed, known)
      for (const index of invalid.filter((i) => i.name === name && !seen.has(i))) {
        seen.add(index)
        found.push({ schema: index.schema ?? null, name: index.name, table: index.table, migration: file.name, fix: index.fix })
      }
    }
  }
  return found
}

/** The invalid indexes `files` created, read over `conn`. */
export async function readMigrationInvalidIndexes(conn: DbConnection, files: readonly MigrationFile[]): Promise<MigrationInvalidIndex[]> {
  const invalid = await conn.dialect.createCatalog(conn).invalidIndexes()
  return invalidIndexesOfMigrations(files, invalid, conn.dialect)
}

/** `public.t_note_key`: an index as messages name it. */
export function invalidIndexLabel(index: { schema: string | null; name: string }): string {
  return index.schema === null ? index.name : `${index.schema}.${index.name}`
}

/**
 * `error` (a migration that failed outside a transaction) with the invalid indexes its
 * `CREATE INDEX` statements left behind named in the message and their fix in the hint;
 * `error` itself when it left none, or when they cannot be read (the failure stays the news).
 */
export async function withInvalidIndexesOf(conn: DbConnection, error: DbopsError, file: MigrationFile): Promise<DbopsError> {
  if (!(error instanceof MigrationFailedError)) return error
  let left: MigrationInvalidIndex[]
  try {
    left = await readMigrationInvalidIndexes(conn, [file])
  } catch {
    return error
  }
  if (left.length === 0) return error
  const names = left.map(invalidIndexLabel).join(', ')
  const fixes = left.map((index) => index.fix).join(' ')
  return new MigrationFailedError(
    error.code,
    error.exitCode,
    `${error.message}; it left the invalid index${left.length === 1 ? '' : 'es'} ${names} behind`,
    error.location,
    {
      hint: `${error.hint ? `${error.hint} ` : ''}Drop the invalid index${left.length === 1 ? '' : 'es'} it left with ${fixes}`,
      cause: error.cause,
      sqlstate: error.sqlstate,
    },
  )
}
