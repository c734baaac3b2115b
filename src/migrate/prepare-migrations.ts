/**
 * Turning a plan into steps before anything runs: each `.sql` file parsed into the section
 * to run, each module loaded, so a broken file stops the run with nothing applied.
 */
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { dialectTraits } from '../dialects/index.js'
import type { MigrationStep } from '../dialects/migration-port.js'
import { ExitCode } from '../errors.js'
import { dbopsVersion } from '../package-root.js'
import type { ClassifiedMigration } from './classify-migrations.js'
import type { MigrationFile } from './discover-migrations.js'
import { loadMigrationModule } from './load-migration-module.js'
import { MigrationFailedError, invalidSqlMigrationError } from './migration-failed-error.js'
import { displayPath } from './migration-runner.js'
import { type ParsedSqlMigration, SqlMigrationFormatError, parseSqlMigration } from './parse-sql-migration.js'

/** A migration ready to run: its step, and the file for messages. */
export interface PreparedMigration {
  file: MigrationFile
  label: string
  step: MigrationStep
  /** Statements for a dry run. */
  preview: { statements: string[]; transaction: boolean }
}

/**
 * Parses (`.sql`) or loads (`.ts`/`.js`) each migration of a plan, before anything runs, so
 * a broken file stops the run with nothing applied. A missing down section, for `down`, is
 * an error naming the file (exit 1).
 */
export async function prepareMigrations(
  config: ResolvedConfig,
  plan: ClassifiedMigration[],
  direction: 'up' | 'down',
): Promise<PreparedMigration[]> {
  const prepared: PreparedMigration[] = []
  for (const entry of plan) {
    const file = entry.file!
    const label = displayPath(config, file.path)
    const { body, transaction, foreignKeysOff, statements } = await loadBody(config, file, label, direction)
    prepared.push({
      file,
      label,
      step: {
        direction,
        row: { version: file.version, name: file.name, checksum: file.checksum, dbopsVersion: dbopsVersion() },
        transaction,
        foreignKeysOff,
        body,
      },
      preview: { statements, transaction },
    })
  }
  return prepared
}

/** What a file runs in `direction`, with its options and the statements a dry run shows. */
async function loadBody(
  config: ResolvedConfig,
  file: MigrationFile,
  label: string,
  direction: 'up' | 'down',
): Promise<Pick<MigrationStep, 'body' | 'transaction' | 'foreignKeysOff'> & { statements: string[] }> {
  if (file.kind === 'sql') {
    let parsed: ParsedSqlMigration
    try {
      parsed = parseSqlMigration(file.content, dialectTraits(config.target.dialect).sqlSyntax)
    } catch (err) {
      if (err instanceof SqlMigrationFormatError) throw invalidSqlMigrationError(err, label, file.path)
      throw err
    }
    const section = direction === 'up' ? parsed.up : parsed.down
    if (!section || (direction === 'down' && section.statements.length === 0)) {
      throw noDownError(label, file.path, 'its `-- migrate:down` section is missing or empty')
    }
    return {
      body: { kind: 'sql', section },
      transaction: section.transaction,
      foreignKeysOff: section.foreignKeysOff,
      statements: section.statements.map((s) => s.text),
    }
  }
  // loaded even for a dry run: a module that does not compile fails before anything runs
  const mod = await loadMigrationModule(file, label)
  const run = direction === 'up' ? mod.up : mod.down
  if (!run) throw noDownError(label, file.path, 'it exports no down(db) function')
  return {
    body: { kind: 'function', run },
    transaction: mod.transaction,
    foreignKeysOff: mod.foreignKeysOff,
    statements: [`(${path.extname(file.name)} module: runs ${direction}(db))`],
  }
}

function noDownError(label: string, file: string, why: string): MigrationFailedError {
  return new MigrationFailedError(
    'MIGRATION_NO_DOWN',
    ExitCode.failed,
    `Migration ${label} cannot be rolled back: ${why}`,
    { file },
    {
      hint: 'Nothing was rolled back. Add a down section (or function), or roll back to a later migration with --to.',
    },
  )
}
