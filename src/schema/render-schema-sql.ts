/**
 * Changes → SQL for the schemas' dialect, as steps (each with the changes it makes and their
 * severity), and the steps as a script. The dialects' renderers live beside this file.
 */
import type { DatabaseSchema, SchemaDialect } from './normalised-schema.js'
import { renderPostgresSql } from './render-postgres-sql.js'
import { renderSqliteSql } from './render-sqlite-sql.js'
import type { Severity } from '../sql/severity.js'
import type { SchemaChange } from './schema-change.js'
import { summariseChange } from './schema-change.js'

/** Statements that make one or more changes together. */
export interface SqlStep {
  statements: string[]
  changes: SchemaChange[]
  severity: Severity
  /** Something the reader must know (a rebuild, a step left to do by hand). */
  note?: string
}

/** The SQL of a list of changes. */
export interface RenderedSql {
  dialect: SchemaDialect
  steps: SqlStep[]
  /**
   * SQLite only: the statements must run with foreign keys OFF, switched before the
   * transaction, with `PRAGMA foreign_key_check` before the commit (a table rebuild, or
   * dropping tables that others reference).
   */
  foreignKeysOff: boolean
}

/**
 * Renders changes as SQL for the schemas' dialect. `from` is the schema the changes apply
 * to and `to` the one they produce (the diff's two arguments).
 *
 * @example
 * const changes = diffSchemas(live, target)
 * const sql = renderSchemaSql(changes, { from: live, to: target })
 * console.log(formatSqlScript(sql))
 */
export function renderSchemaSql(changes: readonly SchemaChange[], context: { from: DatabaseSchema; to: DatabaseSchema }): RenderedSql {
  const dialect = context.to.dialect
  if (dialect === 'postgres') return { dialect, steps: renderPostgresSql(changes, context), foreignKeysOff: false }
  const { steps, foreignKeysOff } = renderSqliteSql(changes, context)
  return { dialect, steps, foreignKeysOff }
}

/** Options of {@link formatSqlStatements}. */
export interface FormatSqlOptions {
  /**
   * Write data-loss steps as comments, to be uncommented on purpose (migration files).
   * Default false: the SQL runs as shown.
   */
  commentDataLoss?: boolean
}

/**
 * The steps' statements as text: each step preceded by comments naming its changes, data
 * loss marked; with `commentDataLoss` those steps are commented out.
 */
export function formatSqlStatements(rendered: RenderedSql, options: FormatSqlOptions = {}): string {
  const blocks = rendered.steps.map((s) => {
    const lines: string[] = []
    const disabled = options.commentDataLoss === true && s.severity === 'data_loss'
    for (const change of s.changes)
      lines.push(`-- ${summariseChange(change)}${change.severity === 'safe' ? '' : ` [${change.severity.replace('_', ' ')}]`}`)
    if (s.note) lines.push(`-- note: ${s.note}`)
    if (disabled) lines.push('-- DATA LOSS: commented out; uncomment to apply')
    for (const statement of s.statements) {
      lines.push(
        disabled
          ? statement
              .split('\n')
              .map((l) => `-- ${l}`)
              .join('\n')
          : statement,
      )
    }
    return lines.join('\n')
  })
  return blocks.join('\n\n')
}

/**
 * The SQL as a script to run by hand (`schema diff --sql`). On SQLite with
 * `foreignKeysOff`, wrapped in the pragmas and the transaction it needs.
 */
export function formatSqlScript(rendered: RenderedSql, options: FormatSqlOptions = {}): string {
  const body = formatSqlStatements(rendered, options)
  if (rendered.steps.length === 0) return ''
  if (rendered.dialect === 'sqlite' && rendered.foreignKeysOff) {
    return [
      '-- foreign keys off outside the transaction: a rebuilt parent must not cascade to its children',
      'PRAGMA foreign_keys = OFF;',
      'BEGIN;',
      '',
      body,
      '',
      '-- must return no rows before COMMIT',
      'PRAGMA foreign_key_check;',
      'COMMIT;',
      'PRAGMA foreign_keys = ON;',
      '',
    ].join('\n')
  }
  return `${body}\n`
}
