/** How SQLite spells `dbops_migrations`' SQL (see `migrate/migration-store.ts`). */
import { quoteIdentifier } from '../../sql/sql-text.js'
import type { MigrationTableSyntax } from '../migration-port.js'

/** SQLite: no schemas (the table is in the file), `?` parameters, times as ISO-8601 text. */
export const sqliteMigrationTable: MigrationTableSyntax = {
  qualify: (_schema, name) => quoteIdentifier(name),
  parameter: () => '?',
  timestampColumn: 'TEXT NOT NULL',
  existingTables: (_schema, names) => ({
    sql: `SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN (${names.map(() => '?').join(', ')})`,
    parameters: [...names],
  }),
  historyTables: (names) => ({
    sql: `SELECT 'main' AS schema, s.name FROM sqlite_schema s
           WHERE s.type = 'table'
             AND (s.name IN (${names.map(() => '?').join(', ')})
                  OR (SELECT count(*) FROM pragma_table_info(s.name) WHERE name IN ('checksum', 'dbops_version')) = 2)
           ORDER BY s.name`,
    parameters: [...names],
  }),
  label: (table) => table.name,
}
