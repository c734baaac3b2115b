/**
 * The guard that keeps a migration history from being lost by a setting: before a migrate
 * command reads or starts the history table, a history with rows kept elsewhere in the
 * database (another schema, another name, dbmate's table) stops it, naming where that history
 * is and the setting that points there. Without it, `DATABASE_SCHEMA=app dbops migrate up` on a
 * database migrated with the defaults would start a second, empty history and re-run every
 * migration.
 */
import { IntegrityError } from '../errors.js'
import type { HistoryTable, StatementRunner } from '../dialects/migration-port.js'
import { DBMATE_TABLE, type HistoryState, type MigrationStore } from './migration-store.js'

/** How the history table is chosen, for hints. */
const SETTING = 'DBOPS_MIGRATIONS_TABLE'

/**
 * Throws {@link IntegrityError} `HISTORY_ELSEWHERE` (exit 6) when `store`'s table is missing or
 * empty while another history with rows exists in the database (see
 * `MigrationStore.findOtherHistories`). A table with rows is never second-guessed: that is the
 * history, wherever others are. `--new-history` (two applications sharing one database) skips it.
 * `siblings` (schema-per-tenant fleets: a glob such as `tenant_*`): a table of this table's name
 * in a matching schema is another tenant's own history, not this one's, and is passed over; any
 * other history (the default schema's, dbmate's) still stops the run.
 */
export async function assertHistoryHere(
  store: MigrationStore,
  runner: StatementRunner,
  siblings?: string,
  /** The history as already read (`MigrationStore.readHistory`), so it is not asked again. */
  history?: Pick<HistoryState, 'exists' | 'rows'>,
): Promise<void> {
  if (history ? history.rows.length > 0 : await store.hasRows(runner)) return
  const isSibling = siblings === undefined ? () => false : globMatcher(siblings)
  const others = (await store.findOtherHistories(runner))
    .filter((other) => !(other.name === store.table.name && isSibling(other.schema)))
    .sort((a, b) => b.rows - a.rows)
  const [found] = others
  if (!found) return
  throw historyElsewhereError(store, found, others.length - 1, history?.exists ?? (await store.exists(runner)))
}

function historyElsewhereError(store: MigrationStore, found: HistoryTable, more: number, exists: boolean): IntegrityError {
  const isDbmate = found.name === DBMATE_TABLE && store.table.name !== DBMATE_TABLE
  const where = `${store.labelOf(found)} (${found.rows} row${found.rows === 1 ? '' : 's'}${isDbmate ? ", dbmate's" : ''})`
  const also = more > 0 ? ` and ${more} other${more === 1 ? '' : 's'}` : ''
  const setting = `${SETTING}=${store.labelOf(isDbmate ? { schema: found.schema, name: store.table.name } : found)}`
  const pointThere = isDbmate ? `Adopt dbmate's history with \`${setting} dbops migrate import-dbmate\`` : `Point dbops at it: ${setting}`
  return new IntegrityError(
    'HISTORY_ELSEWHERE',
    `The migration history is in ${where}${also}, not in ${store.labelOf()}, which ${exists ? 'is empty' : 'does not exist'}`,
    {
      hint: `${pointThere} (or migrations.table in the config file). To start a separate history here on purpose (two applications in one database), run \`dbops migrate up --new-history\` (or \`migrate baseline --new-history\`).`,
    },
  )
}

/**
 * A matcher for shell-style globs over names, several separated by commas: `*` any run of
 * characters, `?` one, the rest literal; the whole name must match one of them (`tenant_*`
 * matches `tenant_1`, not `old_tenant_1`).
 */
export function globMatcher(globs: string): (name: string) => boolean {
  const one = (glob: string) =>
    glob
      .trim()
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')
  const re = new RegExp(`^(?:${globs.split(',').map(one).join('|')})$`)
  return (name) => re.test(name)
}
