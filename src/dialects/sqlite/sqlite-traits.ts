/** What SQLite is known by without its driver: names, schema traits, schema SQL, SQL syntax, presentation, backup names. */
import path from 'node:path'
import { describeTarget } from '../../config/database-url.js'
import { asciiLowerCase, parseTypedIdentifier } from '../../sql/sql-text.js'
import type { SqlSyntax } from '../../sql/sql-tokenizer.js'
import type { DialectTraits } from '../dialect.js'
import { SqliteSchemaSql } from './sqlite-schema-sql.js'

/** SQLite's lexical rules (tokenize.c): flat comments, `` `name` `` and `[name]` identifiers. */
export const sqliteSqlSyntax: SqlSyntax = {
  nestedBlockComments: false,
  escapeStrings: false,
  dollarQuotes: false,
  backquoteIdentifiers: true,
  bracketIdentifiers: true,
  bracketSubscripts: false,
}

/** SQLite: enums as CHECK constraints, the rowid alias, `CURRENT_TIMESTAMP`, one kind of index. */
export const sqliteTraits: DialectTraits = {
  name: 'sqlite',
  displayName: 'SQLite',
  schemaTraits: { enumTypes: false, rowidPrimaryKey: true, currentTimestamp: 'CURRENT_TIMESTAMP', indexMethods: false, schemas: false },
  sqlSyntax: sqliteSqlSyntax,
  createSchemaSql: () => new SqliteSchemaSql(),
  hasServerSessions: false,
  // SQLite's busy errors are result codes, not SQLSTATEs; its write lock is waited for before a migration starts
  lockNotAvailableSqlstates: [],
  // the online backup API reports pages copied, not bytes
  backupProgressUnit: 'pages',
  versionDetail: 'sqlite_version',
  corruption: {
    // SQLITE_CORRUPT and its extended codes, SQLITE_NOTADB
    codes: /^(SQLITE_CORRUPT\w*|SQLITE_NOTADB)$/,
    describe: (target) => `SQLite file ${target.dialect === 'sqlite' ? target.path : describeTarget(target)} is corrupt`,
    hint: 'Stop writing to it; `dbops health --deep` runs quick_check over the whole file. Restore the newest verified backup (`dbops backup list`, `dbops backup restore --latest`), or salvage rows with the sqlite3 shell’s `.recover`.',
  },
  // identifiers match without regard to ASCII case, quoted or not (an exact spelling first)
  resolveTypedName(input, known) {
    const { name } = parseTypedIdentifier(input)
    return known.find((k) => k === name) ?? known.find((k) => asciiLowerCase(k) === asciiLowerCase(name))
  },
  backupBaseName(target) {
    if (target.dialect !== 'sqlite' || target.path === ':memory:') return undefined
    const base = path.basename(target.path)
    const dot = base.lastIndexOf('.')
    return dot > 0 ? base.slice(0, dot) : base
  },
  loadLinter: async () => (await import('./sqlite-lint.js')).createSqliteLinter(sqliteSqlSyntax),
}
