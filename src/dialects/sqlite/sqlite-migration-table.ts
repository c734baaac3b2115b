/** How SQLite spells `dbops_migrations`' SQL (see `migrate/migration-store.ts`). */
import { quoteIdentifier } from '../../sql/sql-text.js'
import type { MigrationTableSyntax } from '../migration-port.js'

/** SQLite: no schemas (the table is in the file), `?` parameters, times as ISO-8601 text. */
export const sqliteMigrationTable: MigrationTableSyntax = {
  qualify: (_schema, name) => quoteIdentifier(name),
  parameter: () => '?',
  timestampColumn: 'TEXT NOT NULL',
  tableExists: (_schema, name) => ({
    sql: "SELECT 1 AS found FROM sqlite_schema WHERE type = 'table' AND name = ?",
    parameters: [name],
  }),
  tablesNamed: (names) => ({
    sql: `SELECT 'main' AS schema, name FROM sqlite_schema WHERE type = 'table' AND name IN (${names.map(() => '?').join(', ')}) ORDER BY name`,
    parameters: [...names],
  }),
  label: (table) => table.name,
}
