/** What SQLite is known by without its driver: names, schema traits, schema SQL, SQL syntax, backup names. */
import path from 'node:path'
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
  schemaTraits: { enumTypes: false, rowidPrimaryKey: true, currentTimestamp: 'CURRENT_TIMESTAMP', indexMethods: false },
  sqlSyntax: sqliteSqlSyntax,
  createSchemaSql: () => new SqliteSchemaSql(),
  backupBaseName(target) {
    if (target.dialect !== 'sqlite' || target.path === ':memory:') return undefined
    const base = path.basename(target.path)
    const dot = base.lastIndexOf('.')
    return dot > 0 ? base.slice(0, dot) : base
  },
}
