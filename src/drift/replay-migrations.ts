/**
 * The third schema: the migrations directory replayed into a throwaway database (a temporary
 * SQLite file; a temporary PostgreSQL database dbops creates and drops, or
 * `SHADOW_DATABASE_URL`). What `schema diff --against migrations` compares the models with,
 * and what `migrate generate --from-models` starts from, so neither depends on the state of
 * anyone's development database.
 *
 * Applying the migrations is the runner's job: a {@link MigrationApplier}, by default
 * {@link applyMigrationsWithRunner}.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { ShadowOptions } from '../dialects/dialect.js'
import { loadDialect, usingDatabase } from '../dialects/index.js'
import type { DatabaseSchema } from '../schema/normalised-schema.js'
import { resolveSchemaScope } from './compared-schemas.js'

/**
 * Applies every migration of `migrationsDir` to the database `shadow` points at (a fresh,
 * empty one), as `migrate up` would.
 */
export type MigrationApplier = (shadow: ResolvedConfig, options: { migrationsDir: string; signal?: AbortSignal }) => Promise<void>

/**
 * The product's applier: the migration runner (`migrate up`, with its `dbops_migrations`
 * table, `.sql` sections, `transaction:false` and `foreign_keys:off`), run on the shadow
 * database. A failing migration throws its error, naming the file and line.
 */
export const applyMigrationsWithRunner: MigrationApplier = async (shadow, { migrationsDir, signal }) => {
  const { migrateUp } = await import('../migrate/migrate-up.js')
  const result = await migrateUp({ ...shadow, migrationsDir }, { signal })
  if (result.error) throw result.error
}

/**
 * Runs `fn` with the config of a fresh, empty database of the configured dialect, and
 * removes that database afterwards, whatever happens.
 */
export async function usingShadowDatabase<T>(
  config: ResolvedConfig,
  options: ShadowOptions,
  fn: (shadow: ResolvedConfig) => Promise<T>,
): Promise<T> {
  const dialect = await loadDialect(config.target.dialect)
  const shadow = await dialect.createShadowDatabase(config, options)
  try {
    return await fn(shadow.config)
  } finally {
    await shadow.dispose()
  }
}

/**
 * Replays the migrations into a shadow database with `apply` and introspects the result.
 *
 * @example
 * const replayed = await replayMigrations(config, { apply: applyMigrationsWithRunner, connect })
 * const changes = diffSchemas(replayed, modelsToSchema(models, config.target.dialect))
 */
export async function replayMigrations(
  config: ResolvedConfig,
  options: ShadowOptions & { apply: MigrationApplier },
): Promise<DatabaseSchema> {
  return usingShadowDatabase(config, options, async (shadow) => {
    await options.apply(shadow, { migrationsDir: config.migrationsDir, signal: options.connect.signal })
    // the compared schemas as the replay left them: a schema the migrations did not make is simply empty
    return usingDatabase(shadow, { ...options.connect, mode: 'write' }, async (conn) =>
      conn.dialect.introspect(conn, {
        ...(await resolveSchemaScope(conn, shadow, { allowMissing: true })),
        historyTable: shadow.migrationsTable,
      }),
    )
  })
}
