/**
 * SQLite's schema SQL over the default renderer: types spelt for their affinity, the rowid
 * alias declared on its column, defaults in parentheses, booleans as 1 and 0; and changes →
 * statements. What `ALTER TABLE` can do (rename a table or column, add a plain column, drop
 * an unreferenced one) and index changes are written directly; everything else rebuilds the
 * table (`sqlite-table-rebuild.ts`).
 *
 * A rebuild must run with foreign keys OFF, switched before the transaction (inside one the
 * pragma does nothing), and `PRAGMA foreign_key_check` before the commit: with foreign keys
 * on, dropping a parent table would cascade-delete its children's rows. The result says so
 * (`foreignKeysOff`), and the migration file asks the runner for it
 * (`-- migrate:up foreign_keys:off`).
 */
import type { TableSchema } from '../../schema/normalised-schema.js'
import type { SchemaChange } from '../../schema/schema-change.js'
import { parseColumnType } from '../../sql/column-type.js'
import { quoteIdentifier } from '../../sql/sql-text.js'
import { type RenderedSql, type RenderedSteps, SchemaSql, type SchemaTransition, type SqlStep } from '../schema-sql.js'
import { rebuildStep, tableNames, tablesToRebuild } from './sqlite-table-rebuild.js'

/** Whether SQLite accepts `DEFAULT <expression>` without parentheses. */
function isDefaultLiteral(expression: string): boolean {
  const text = expression.trim()
  return (
    /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ||
    /^'(?:[^']|'')*'$/.test(text) ||
    /^[xX]'[0-9a-fA-F]*'$/.test(text) ||
    /^(null|true|false|current_timestamp|current_date|current_time)$/i.test(text) ||
    /^\(.*\)$/s.test(text)
  )
}

/** The schema-SQL renderer of SQLite. */
export class SqliteSchemaSql extends SchemaSql {
  /** SQLite's collation names are not case-sensitive and are written bare. */
  override collateClause(collation: string): string {
    return `COLLATE ${collation.toUpperCase()}`
  }

  /** SQLite keeps the declared type as written; these spellings give the right affinity. Enums are text. */
  override typeSql(type: string): string {
    const parsed = parseColumnType(type)
    if (parsed.logical === 'enum') return 'TEXT'
    if (parsed.logical === undefined) return type
    return `${parsed.logical.toUpperCase()}${this.typeArguments(parsed)}`
  }

  /** Anything but a literal goes in parentheses. */
  override defaultClause(expression: string): string {
    return isDefaultLiteral(expression) ? super.defaultClause(expression) : `DEFAULT (${expression})`
  }

  override booleanLiteral(value: boolean): string {
    return value ? '1' : '0'
  }

  /** A single-column key is declared on its column: the rowid alias and AUTOINCREMENT need it there. */
  override inlinePrimaryKey(table: TableSchema): string | undefined {
    return table.primaryKey.length === 1 ? table.primaryKey[0] : undefined
  }

  /** With `foreignKeysOff`, wrapped in the pragmas and the transaction it needs. */
  override script(body: string, rendered: RenderedSql): string {
    if (!rendered.foreignKeysOff) return super.script(body, rendered)
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

  /**
   * Rebuilds tables where ALTER cannot make their changes. `from` gives the rows to copy and
   * the triggers to recreate, `to` the rebuilt tables' definitions.
   */
  renderChanges(changes: readonly SchemaChange[], context: SchemaTransition): RenderedSteps {
    const names = tableNames(changes)
    const rebuilt = tablesToRebuild(changes, names, context)
    const steps: SqlStep[] = []
    let foreignKeysOff = false
    const step = (change: SchemaChange, statements: string[]) => steps.push({ statements, changes: [change], severity: change.severity })

    const isOwn = (c: SchemaChange, table: string) =>
      c.table === table && c.kind !== 'rename_table' && c.kind !== 'create_table' && c.kind !== 'drop_table'
    // a rebuild goes where the table's last change is: after its rename, if any
    const lastChange = new Map<string, number>()
    changes.forEach((c, i) => {
      if (c.table !== undefined && rebuilt.has(c.table) && isOwn(c, c.table)) lastChange.set(c.table, i)
    })
    for (const [i, change] of changes.entries()) {
      const table = change.table
      if (table !== undefined && rebuilt.has(table) && isOwn(change, table)) {
        if (lastChange.get(table) !== i) continue
        const own = changes.filter((c) => isOwn(c, table))
        steps.push(rebuildStep(this, table, i, own, names, context))
        foreignKeysOff = true
        continue
      }
      switch (change.kind) {
        case 'create_table': {
          const statements = [this.createTableSql(change.definition, { withForeignKeys: true })]
          for (const index of change.definition.indexes) statements.push(this.createIndexSql(change.table, index))
          step(change, statements)
          break
        }
        case 'drop_table':
          // with foreign keys on, DROP TABLE deletes the rows first and may trip a child's key
          foreignKeysOff = true
          step(change, [`DROP TABLE ${quoteIdentifier(change.table)};`])
          break
        case 'rename_index':
          step(change, [`DROP INDEX ${quoteIdentifier(change.from)};`, this.createIndexSql(change.table, change.index)])
          break
        case 'rename_table':
        case 'rename_column':
        case 'add_column':
        case 'drop_column':
        case 'add_index':
        case 'drop_index':
          step(change, this.commonChangeSql(change))
          break
        default:
          // enums do not exist on SQLite; the models give it CHECK constraints instead
          break
      }
    }
    return { steps, foreignKeysOff }
  }
}
