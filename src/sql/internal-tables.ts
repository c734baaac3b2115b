/**
 * Tables dbops never manages or reports: its own bookkeeping (`dbops_migrations` and
 * anything else starting `dbops_`, and the history table under the name
 * `DBOPS_MIGRATIONS_TABLE` gives it, `historyTable`) and dbmate's `schema_migrations`.
 */
export function isInternalTable(name: string, historyTable?: string): boolean {
  return name.startsWith('dbops_') || name === 'schema_migrations' || name === historyTable
}
