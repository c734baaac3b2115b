/**
 * `schema diff` as text and as JSON: two views of one {@link SchemaComparison}. Text: one
 * line per change, added green (`+`), removed red (`-`), changed yellow (`~`), severity
 * marked; JSON: the same changes with snake_case keys.
 */
import type { ChalkInstance } from 'chalk'
import type { SchemaComparison } from '../drift/compare-schemas.js'
import { formatSqlScript } from '../schema/render-schema-sql.js'
import { type SchemaChange, changeDirection, summariseChange } from '../schema/schema-change.js'

const MARK = { added: '+', removed: '-', changed: '~' } as const

/** One coloured line per change, then a summary line. */
export function renderSchemaDiffText(result: SchemaComparison, c: ChalkInstance): string[] {
  const against = result.against === 'live' ? 'the database' : 'the migrations'
  if (result.changes.length === 0)
    return [`No differences: ${against} ${result.against === 'live' ? 'matches' : 'match'} ${result.modelsFile}.`]
  const lines = result.changes.map((change) => {
    const direction = changeDirection(change)
    const colour = direction === 'added' ? c.green : direction === 'removed' ? c.red : c.yellow
    const badge =
      change.severity === 'data_loss'
        ? ` ${c.red.bold('[data loss]')}`
        : change.severity === 'destructive'
          ? ` ${c.yellow.bold('[destructive]')}`
          : ''
    return `${colour(`${MARK[direction]} ${summariseChange(change)}`)}${badge}`
  })
  const counts = countBySeverity(result.changes)
  const parts = [`${result.changes.length} change${result.changes.length === 1 ? '' : 's'} from ${against} to ${result.modelsFile}`]
  if (counts.data_loss > 0) parts.push(`${counts.data_loss} with data loss`)
  if (counts.destructive > 0) parts.push(`${counts.destructive} destructive`)
  return [...lines, '', parts.join(', ')]
}

function countBySeverity(changes: readonly SchemaChange[]): Record<SchemaChange['severity'], number> {
  const counts = { safe: 0, destructive: 0, data_loss: 0 }
  for (const change of changes) counts[change.severity]++
  return counts
}

/** camelCase → snake_case, deeply, for the JSON document. */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), snakeCaseKeys(v)]),
  )
}

/** The JSON document of `schema diff`. */
export function schemaDiffJson(result: SchemaComparison): Record<string, unknown> {
  const counts = countBySeverity(result.changes)
  return {
    against: result.against,
    dialect: result.dialect,
    models: result.modelsFile,
    differs: result.changes.length > 0,
    summary: { changes: result.changes.length, safe: counts.safe, destructive: counts.destructive, data_loss: counts.data_loss },
    changes: result.changes.map((change) => snakeCaseKeys({ ...change, summary: summariseChange(change) })),
    warnings: result.warnings,
    unmanaged: snakeCaseKeys(result.unmanaged.map(({ definition: _definition, ...rest }) => rest)),
    not_compared: result.notCompared.map((s) => ({ schema: s.name, tables: s.tables })),
    sql: formatSqlScript(result.sql),
  }
}
