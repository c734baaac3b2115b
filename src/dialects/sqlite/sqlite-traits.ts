/** What SQLite is known by without its driver: names, schema traits, schema SQL. */
import type { DialectTraits } from '../dialect.js'
import { SqliteSchemaSql } from './sqlite-schema-sql.js'

/** SQLite: enums as CHECK constraints, the rowid alias, `CURRENT_TIMESTAMP`, one kind of index. */
export const sqliteTraits: DialectTraits = {
  name: 'sqlite',
  displayName: 'SQLite',
  schemaTraits: { enumTypes: false, rowidPrimaryKey: true, currentTimestamp: 'CURRENT_TIMESTAMP', indexMethods: false },
  createSchemaSql: () => new SqliteSchemaSql(),
}
