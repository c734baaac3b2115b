/** What PostgreSQL is known by without its driver: names, schema traits, schema SQL, SQL syntax, backup names. */
import type { SqlSyntax } from '../../sql/sql-tokenizer.js'
import type { DialectTraits } from '../dialect.js'
import { PostgresSchemaSql } from './postgres-schema-sql.js'

/** PostgreSQL's lexical rules (scan.l): nested comments, `E'…'` and `$tag$…$tag$` strings, array subscripts. */
const postgresSqlSyntax: SqlSyntax = {
  nestedBlockComments: true,
  escapeStrings: true,
  dollarQuotes: true,
  backquoteIdentifiers: false,
  bracketIdentifiers: false,
  bracketSubscripts: true,
}

/** PostgreSQL: enum types, identity columns, `now()`, index methods. */
export const postgresTraits: DialectTraits = {
  name: 'postgres',
  displayName: 'PostgreSQL',
  schemaTraits: { enumTypes: true, rowidPrimaryKey: false, currentTimestamp: 'now()', indexMethods: true },
  sqlSyntax: postgresSqlSyntax,
  createSchemaSql: () => new PostgresSchemaSql(),
  backupBaseName: (target) => (target.dialect === 'postgres' ? target.database : undefined),
}
