/** How PostgreSQL spells `dbops_migrations`' SQL (see `migrate/migration-store.ts`). */
import { delimitIdentifier } from '../../sql/sql-text.js'
import type { MigrationTableSyntax } from '../migration-port.js'

function qualify(schema: string, name: string): string {
  return `${delimitIdentifier(schema)}.${delimitIdentifier(name)}`
}

/** PostgreSQL: the table in its schema, `$n` parameters, a real timestamp defaulting to now. */
export const postgresMigrationTable: MigrationTableSyntax = {
  qualify,
  parameter: (n) => `$${n}`,
  timestampColumn: 'timestamptz NOT NULL DEFAULT now()',
  existingTables: (schema, names) => ({
    sql: 'SELECT w.name FROM unnest($1::text[], $2::text[]) AS w(qualified, name) WHERE to_regclass(w.qualified) IS NOT NULL',
    parameters: [names.map((name) => qualify(schema, name)), [...names]],
  }),
  historyTables: (names) => ({
    sql: `SELECT n.nspname AS schema, c.relname AS name
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p')
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
             AND (c.relname = ANY($1::text[])
                  OR (SELECT count(*) FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.attname IN ('checksum', 'dbops_version')) = 2)
           ORDER BY 1, 2`,
    parameters: [[...names]],
  }),
  label: (table) => `${table.schema}.${table.name}`,
}
