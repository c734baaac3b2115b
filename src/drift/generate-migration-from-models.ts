/**
 * `migrate generate NAME --from-models`: the migration that turns the migrations directory
 * (replayed into a throwaway database) into the models, as a `.sql` file in dbmate's format.
 * Up applies the diff; down applies the inverse changes in reverse order. Data-loss steps
 * are commented out, to be uncommented on purpose, and reported as warnings (with their down
 * counterparts, so a commented step is never reversed). Nothing to do writes nothing.
 *
 * SQLite steps that rebuild a table (or drop tables others reference) need foreign keys off
 * around the transaction; the section header asks the runner for it:
 * `-- migrate:up foreign_keys:off`.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { DbopsError, ExitCode } from '../errors.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import type { RenderedSql, SqlStep } from '../dialects/schema-sql.js'
import { writeFileAtomic } from '../project/scaffold-project.js'
import { collectWarnings, loadModelsSchema } from './compare-schemas.js'
import { keepCompared } from './compared-schemas.js'
import type { Models, Table } from '../schema/define-models.js'
import { type RenameDecision, diffSchemas } from '../schema/diff-schemas.js'
import type { DatabaseSchema } from '../schema/normalised-schema.js'
import { formatSqlStatements, renderSchemaSql } from '../schema/render-schema-sql.js'
import { type MigrationApplier, applyMigrationsWithRunner, replayMigrations } from './replay-migrations.js'
import { type SchemaChange, invertChange, summariseChange } from '../schema/schema-change.js'

/** A migration rendered from a diff, before it is written anywhere. */
export interface RenderedMigration {
  /** The up changes, in order. */
  changes: SchemaChange[]
  /** The file's content; undefined when there is nothing to do. */
  content: string | undefined
  /** Likely renames, and each data-loss step left commented out. */
  warnings: string[]
  /** How many up steps were commented out for losing data. */
  commentedSteps: number
}

/**
 * Renders the migration from `from` (the replayed migrations) to `to` (the models), without
 * touching any file.
 *
 * @example
 * const { content } = renderMigrationFromModels(replayed, models, { renames: [] })
 */
export function renderMigrationFromModels(
  from: DatabaseSchema,
  to: DatabaseSchema,
  options: { renames?: readonly RenameDecision[] } = {},
): RenderedMigration {
  const changes = diffSchemas(from, to, { renames: options.renames ?? [] })
  if (changes.length === 0) return { changes, content: undefined, warnings: [], commentedSteps: 0 }

  const up = renderSchemaSql(changes, { from, to })
  const commented = new Set<SchemaChange>(up.steps.filter((s) => s.severity === 'data_loss').flatMap((s) => s.changes))
  // down: the inverse of every up change, last first; inverses of commented steps stay commented
  const inverses = changes.map((change) => ({ change, inverse: invertChange(change) })).reverse()
  const down = renderSchemaSql(
    inverses.map((x) => x.inverse),
    { from: to, to: from },
  )
  const inverseOf = new Map(inverses.map((x) => [x.inverse, x.change]))
  const downSteps: Array<SqlStep & { disabled: boolean }> = down.steps.map((s) => ({
    ...s,
    disabled: s.changes.some((c) => commented.has(inverseOf.get(c)!)),
  }))

  const warnings = collectWarnings(changes)
  for (const step of up.steps) {
    if (step.severity !== 'data_loss') continue
    warnings.push(
      `data loss, commented out in the migration (uncomment to apply): ${step.changes
        .filter((c) => c.severity === 'data_loss')
        .map(summariseChange)
        .join('; ')}`,
    )
  }
  const content = [
    `-- migrate:up${up.foreignKeysOff ? ' foreign_keys:off' : ''}`,
    formatSqlStatements(up, { commentDataLoss: true }),
    '',
    `-- migrate:down${down.foreignKeysOff ? ' foreign_keys:off' : ''}`,
    formatDown(down, downSteps),
    '',
  ].join('\n')
  return { changes, content, warnings, commentedSteps: up.steps.filter((s) => s.severity === 'data_loss').length }
}

function formatDown(down: RenderedSql, steps: Array<SqlStep & { disabled: boolean }>): string {
  // formatSqlStatements comments out data-loss steps; here the rule is "reverses a commented step"
  const blocks = steps.map((s) => {
    const one: RenderedSql = { ...down, steps: [{ ...s, severity: s.disabled ? 'data_loss' : 'safe' }] }
    const text = formatSqlStatements(one, { commentDataLoss: true })
    return s.disabled
      ? text.replace('-- DATA LOSS: commented out; uncomment to apply', '-- reverses a step commented out in up; uncomment with it')
      : text
  })
  return blocks.join('\n\n')
}

/** Options of {@link generateMigrationFromModels}. */
export interface GenerateFromModelsOptions {
  /** The migration's name (`add_users`); the file is `<version>_<name>.sql`. */
  name: string
  /** Applies the migrations to the shadow database; default the migration runner (as `migrate up`). */
  apply?: MigrationApplier
  connect: ConnectOptions
  renames?: readonly RenameDecision[]
  modelsPath?: string | undefined
  /** The models themselves, instead of a module to load (programmatic use). */
  models?: Models | readonly Table[] | undefined
  /** PostgreSQL: a database to replay into; default the config's `SHADOW_DATABASE_URL`. */
  shadowUrl?: string | undefined
  /** The version's time (default now), UTC `YYYYMMDDHHMMSS`. */
  now?: Date
}

/** What {@link generateMigrationFromModels} did. */
export interface GeneratedMigration {
  /** The file written (absolute), or undefined when there was nothing to do. */
  file: string | undefined
  changes: SchemaChange[]
  warnings: string[]
  commentedSteps: number
}

/** `YYYYMMDDHHMMSS` in UTC: dbmate's version format. */
export function migrationVersion(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/**
 * Replays the migrations, diffs them against the models, and writes the migration file
 * (atomically, never over an existing file). Writes nothing when the models and the
 * migrations agree.
 */
export async function generateMigrationFromModels(config: ResolvedConfig, options: GenerateFromModelsOptions): Promise<GeneratedMigration> {
  const slug = options.name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (slug === '')
    throw new DbopsError('USAGE', ExitCode.usage, `Migration name ${JSON.stringify(options.name)} has no letters or digits`, {
      hint: 'Example: dbops migrate generate add_users --from-models',
    })
  const models = await loadModelsSchema(config, options)
  const replayed = await replayMigrations(config, {
    apply: options.apply ?? applyMigrationsWithRunner,
    shadowUrl: options.shadowUrl ?? config.shadowUrl,
    connect: options.connect,
  })
  const rendered = renderMigrationFromModels(keepCompared(replayed, config), models.schema, { renames: options.renames ?? [] })
  if (rendered.content === undefined) return { file: undefined, changes: [], warnings: [], commentedSteps: 0 }
  fs.mkdirSync(config.migrationsDir, { recursive: true })
  const file = path.join(config.migrationsDir, `${migrationVersion(options.now ?? new Date())}_${slug}.sql`)
  if (fs.existsSync(file)) {
    throw new DbopsError('FILE_EXISTS', ExitCode.usage, `${path.relative(config.cwd, file)} already exists`, {
      hint: 'Wait a second (versions are timestamps), or choose another name.',
    })
  }
  writeFileAtomic(file, rendered.content)
  return { file, changes: rendered.changes, warnings: rendered.warnings, commentedSteps: rendered.commentedSteps }
}
