/** How PostgreSQL spells `dbops_migrations`' SQL (see `migrate/migration-store.ts`). */
import { delimitIdentifier } from '../../sql/sql-text.js'
import type { MigrationTableSyntax } from '../migration-port.js'

function qualify(schema: string, name: string): string {
  return `${delimitIdentifier(schema)}.${delimitIdentifier(name)}`
}

/** PostgreSQL: the table in `DATABASE_SCHEMA`, `$n` parameters, a real timestamp defaulting to now. */
export const postgresMigrationTable: MigrationTableSyntax = {
  qualify,
  parameter: (n) => `$${n}`,
  timestampColumn: 'timestamptz NOT NULL DEFAULT now()',
  tableExists: (schema, name) => ({ sql: 'SELECT 1 AS found WHERE to_regclass($1) IS NOT NULL', parameters: [qualify(schema, name)] }),
}
