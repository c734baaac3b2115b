/** What PostgreSQL is known by without its driver: names, schema traits, schema SQL. */
import type { DialectTraits } from '../dialect.js'
import { PostgresSchemaSql } from './postgres-schema-sql.js'

/** PostgreSQL: enum types, identity columns, `now()`, index methods. */
export const postgresTraits: DialectTraits = {
  name: 'postgres',
  displayName: 'PostgreSQL',
  schemaTraits: { enumTypes: true, rowidPrimaryKey: false, currentTimestamp: 'now()', indexMethods: true },
  createSchemaSql: () => new PostgresSchemaSql(),
}
