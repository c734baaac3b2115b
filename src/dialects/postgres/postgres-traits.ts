/** What PostgreSQL is known by without its driver: names, schema traits, schema SQL, SQL syntax, presentation, backup names. */
import { describeTarget } from '../../config/database-url.js'
import { asciiLowerCase, parseTypedIdentifier } from '../../sql/sql-text.js'
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
  schemaTraits: { enumTypes: true, rowidPrimaryKey: false, currentTimestamp: 'now()', indexMethods: true, schemas: true },
  sqlSyntax: postgresSqlSyntax,
  createSchemaSql: () => new PostgresSchemaSql(),
  hasServerSessions: true,
  // lock_not_available: what lock_timeout raises
  lockNotAvailableSqlstates: ['55P03'],
  backupProgressUnit: 'bytes',
  versionDetail: 'server_version',
  corruption: {
    // data_corrupted, index_corrupted
    codes: /^(XX001|XX002)$/,
    describe: (target) => `Database ${describeTarget(target)} has corrupt data`,
    hint: 'Check the server log and the storage; `amcheck` (bt_index_check) finds damaged indexes, which REINDEX rebuilds. For damaged table data, restore the newest verified backup (`dbops backup list`, `dbops backup restore --latest`).',
  },
  // an unquoted identifier is folded to lower case, a quoted one is taken as written
  resolveTypedName(input, known) {
    const { name, quoted } = parseTypedIdentifier(input)
    const wanted = quoted ? name : asciiLowerCase(name)
    return known.find((k) => k === wanted)
  },
  backupBaseName: (target) => (target.dialect === 'postgres' ? target.database : undefined),
  loadLinter: async () => (await import('./lint/postgres-linter.js')).loadPostgresLinter(),
}
