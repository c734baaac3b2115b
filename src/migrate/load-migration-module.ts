/**
 * Loading `.ts` / `.js` migrations with jiti: no build step, TypeScript transpiled on the
 * fly (types are not checked), line numbers kept, and `import … from 'dbops'` or `'kysely'`
 * resolving to this copy of dbops and its Kysely. A module exports `up(db: Kysely<any>)`, optionally `down(db)`, and
 * optionally `transaction = false` or `foreignKeys = 'off'` (the `.sql` options).
 *
 * @example
 * // migrations/20250101120000_backfill.ts
 * import { sql, type Kysely } from 'kysely'
 * export async function up(db: Kysely<any>) { await sql`UPDATE users SET name = lower(name)`.execute(db) }
 * export async function down() {}
 */
import path from 'node:path'
import type { Kysely } from 'kysely'
import { importUserModule } from '../config/import-user-module.js'
import { kyselyModule } from '../kysely-runtime.js'
import { ExitCode, messageOf } from '../errors.js'
import type { MigrationFile } from './discover-migrations.js'
import { MigrationFailedError, describeLocation, locationInStack } from './migration-failed-error.js'

/** A loaded module migration. */
export interface MigrationModule {
  up: (db: Kysely<any>) => Promise<unknown>
  down: ((db: Kysely<any>) => Promise<unknown>) | undefined
  transaction: boolean
  foreignKeysOff: boolean
}

/**
 * Loads a module migration. A syntax error, an error thrown while loading, or a missing
 * `up` export is a {@link MigrationFailedError} (exit 1) naming the file and, when known,
 * the line.
 *
 * @param label the file as shown in messages (relative to the working directory)
 */
export async function loadMigrationModule(file: MigrationFile, label: string): Promise<MigrationModule> {
  let mod: Record<string, unknown>
  try {
    // `'kysely'` is the very module the migration's `db` comes from, even when the project
    // has not installed it (npx)
    const kysely = kyselyModule()
    mod = await importUserModule(file.path, { entry: 'full', interopDefault: true, virtualModules: { kysely } })
  } catch (err) {
    const where = locationInStack(err, file.path)
    const message = messageOf(err).replace(`${file.path}: `, '')
    throw new MigrationFailedError(
      'MIGRATION_LOAD_FAILED',
      ExitCode.failed,
      `Migration ${label} could not be loaded${describeLocation(where ?? {})}: ${message}`,
      { file: file.path, ...where },
      {
        hint: `Fix ${path.basename(file.path)}; nothing was applied.`,
        cause: err,
      },
    )
  }
  const exports = (mod.default && typeof mod.default === 'object' && typeof mod.up !== 'function' ? mod.default : mod) as Record<
    string,
    unknown
  >
  const up = exports.up
  const down = exports.down
  if (typeof up !== 'function') {
    throw new MigrationFailedError(
      'MIGRATION_INVALID',
      ExitCode.failed,
      `Migration ${label} does not export an up(db) function`,
      { file: file.path },
      {
        hint: 'Export `async function up(db: Kysely<any>)` (and `down(db)` to allow rolling back).',
      },
    )
  }
  if (down !== undefined && typeof down !== 'function') {
    throw new MigrationFailedError('MIGRATION_INVALID', ExitCode.failed, `Migration ${label} exports a down that is not a function`, {
      file: file.path,
    })
  }
  return {
    up: up as MigrationModule['up'],
    down: down as MigrationModule['down'],
    transaction: exports.transaction !== false,
    foreignKeysOff: exports.foreignKeys === 'off',
  }
}
