/**
 * Changes → SQL for the schemas' dialect, as steps (each with the changes it makes and their
 * severity), and the steps as a script. The dialect's schema-SQL renderer writes the
 * statements (see `dialects/schema-sql.ts`).
 */
import { dialectTraits } from '../dialects/index.js'
import type { RenderedSql, SchemaTransition } from '../dialects/schema-sql.js'
import { type SchemaChange, summariseChange } from './schema-change.js'

/**
 * Renders changes as SQL for the schemas' dialect. `from` is the schema the changes apply
 * to and `to` the one they produce (the diff's two arguments).
 *
 * @example
 * const changes = diffSchemas(live, target)
 * const sql = renderSchemaSql(changes, { from: live, to: target })
 * console.log(formatSqlScript(sql))
 */
export function renderSchemaSql(changes: readonly SchemaChange[], context: SchemaTransition): RenderedSql {
  const dialect = context.to.dialect
  const { steps, foreignKeysOff } = dialectTraits(dialect).createSchemaSql().renderChanges(changes, context)
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
 * The SQL as a script to run by hand (`schema diff --sql`), wrapped in what its steps need
 * (on SQLite with `foreignKeysOff`: the pragmas and the transaction).
 */
export function formatSqlScript(rendered: RenderedSql, options: FormatSqlOptions = {}): string {
  const body = formatSqlStatements(rendered, options)
  if (rendered.steps.length === 0) return ''
  return dialectTraits(rendered.dialect).createSchemaSql().script(body, rendered)
}
