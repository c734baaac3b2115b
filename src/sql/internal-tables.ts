/**
 * Tables dbops never manages or reports: its own bookkeeping (`dbops_migrations` and
 * anything else starting `dbops_`) and dbmate's `schema_migrations`.
 */
export function isInternalTable(name: string): boolean {
  return name.startsWith('dbops_') || name === 'schema_migrations'
}
