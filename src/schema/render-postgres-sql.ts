/**
 * Changes → PostgreSQL statements. Tables are created without their foreign keys, which are
 * added once every table exists (so cyclic and self references work); tables dropped
 * together go in one `DROP TABLE`, so foreign keys between them do not matter.
 */
import type { DatabaseSchema } from './normalised-schema.js'
import type { SqlStep } from './render-schema-sql.js'
import type { SchemaChange } from './schema-change.js'
import {
  columnDefinition,
  columnList,
  columnTypeSql,
  collateClause,
  constraintPrefix,
  createIndexSql,
  createTableSql,
  foreignKeyClause,
} from './schema-ddl.js'
import { quoteIdentifier, quoteString } from './sql-text.js'

/** Renders `changes` as PostgreSQL steps. `to` gives the columns that use an enum being recreated. */
export function renderPostgresSql(changes: readonly SchemaChange[], context: { from: DatabaseSchema; to: DatabaseSchema }): SqlStep[] {
  const steps: SqlStep[] = []
  const deferredForeignKeys: SqlStep[] = []
  const step = (change: SchemaChange, statements: string[], note?: string) =>
    steps.push({ statements, changes: [change], severity: change.severity, ...(note ? { note } : {}) })

  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!
    const t = 'table' in change && change.table !== undefined ? quoteIdentifier(change.table) : ''
    switch (change.kind) {
      case 'create_enum':
        step(change, [`CREATE TYPE ${quoteIdentifier(change.enum.name)} AS ENUM (${change.enum.values.map(quoteString).join(', ')});`])
        break
      case 'drop_enum':
        step(change, [`DROP TYPE ${quoteIdentifier(change.enum.name)};`])
        break
      case 'alter_enum':
        step(change, alterEnum(change.name, change.from, change.to, context.to))
        break
      case 'create_table': {
        const statements = [createTableSql(change.definition, 'postgres', { withForeignKeys: false })]
        for (const index of change.definition.indexes) statements.push(createIndexSql(change.table, index, 'postgres'))
        step(change, statements)
        for (const fk of change.definition.foreignKeys) {
          deferredForeignKeys.push({
            statements: [`ALTER TABLE ${t} ADD ${constraintPrefix(fk.name)}${foreignKeyClause(fk)};`],
            changes: [change],
            severity: 'safe',
          })
        }
        break
      }
      case 'drop_table': {
        // consecutive drops in one statement: foreign keys among them cannot get in the way
        const group: SchemaChange[] = [change]
        while (changes[i + 1]?.kind === 'drop_table') group.push(changes[++i]!)
        steps.push({
          statements: [`DROP TABLE ${group.map((c) => quoteIdentifier(c.table!)).join(', ')};`],
          changes: group,
          severity: 'data_loss',
        })
        break
      }
      case 'rename_table':
        step(change, [`ALTER TABLE ${quoteIdentifier(change.from)} RENAME TO ${t};`])
        break
      case 'add_column':
        step(change, [`ALTER TABLE ${t} ADD COLUMN ${columnDefinition(change.column, 'postgres')};`])
        break
      case 'drop_column':
        step(change, [`ALTER TABLE ${t} DROP COLUMN ${quoteIdentifier(change.column.name)};`])
        break
      case 'rename_column':
        step(change, [`ALTER TABLE ${t} RENAME COLUMN ${quoteIdentifier(change.from)} TO ${quoteIdentifier(change.to)};`])
        break
      case 'alter_column': {
        const { statements, note } = alterColumn(change)
        step(change, statements, note)
        break
      }
      case 'alter_primary_key': {
        const statements: string[] = []
        if (change.from.length > 0)
          statements.push(`ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdentifier(change.fromName ?? `${change.table}_pkey`)};`)
        if (change.to.length > 0)
          statements.push(`ALTER TABLE ${t} ADD ${constraintPrefix(change.toName)}PRIMARY KEY (${columnList(change.to)});`)
        step(change, statements)
        break
      }
      case 'add_index':
        step(change, [createIndexSql(change.table, change.index, 'postgres')])
        break
      case 'drop_index':
        step(change, [`DROP INDEX ${quoteIdentifier(change.index.name)};`])
        break
      case 'rename_index':
        step(change, [`ALTER INDEX ${quoteIdentifier(change.from)} RENAME TO ${quoteIdentifier(change.to)};`])
        break
      case 'add_unique':
        step(change, [`ALTER TABLE ${t} ADD ${constraintPrefix(change.unique.name)}UNIQUE (${columnList(change.unique.columns)});`])
        break
      case 'add_check':
        step(change, [`ALTER TABLE ${t} ADD ${constraintPrefix(change.check.name)}CHECK (${change.check.expression});`])
        break
      case 'add_foreign_key':
        step(change, [`ALTER TABLE ${t} ADD ${constraintPrefix(change.foreignKey.name)}${foreignKeyClause(change.foreignKey)};`])
        break
      case 'drop_unique':
      case 'drop_check':
      case 'drop_foreign_key': {
        const name =
          change.kind === 'drop_unique' ? change.unique.name : change.kind === 'drop_check' ? change.check.name : change.foreignKey.name
        if (name) step(change, [`ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdentifier(name)};`])
        else step(change, [], `the constraint has no name; drop it by hand (${change.kind})`)
        break
      }
    }
  }
  return [...steps, ...deferredForeignKeys]
}

function alterColumn(change: Extract<SchemaChange, { kind: 'alter_column' }>): { statements: string[]; note?: string } {
  const t = quoteIdentifier(change.table)
  const c = quoteIdentifier(change.column)
  const alter = (clause: string) => `ALTER TABLE ${t} ALTER COLUMN ${c} ${clause};`
  const statements: string[] = []
  let note: string | undefined
  const { from, to, aspects } = change
  const changesDefault = aspects.includes('default') || aspects.includes('type')
  // an old default may not cast to the new type: drop it first, set the new one after
  if (changesDefault && from.default !== undefined && from.generated === undefined) statements.push(alter('DROP DEFAULT'))
  if (aspects.includes('type') || aspects.includes('collation')) {
    const type = columnTypeSql({ ...to, generated: to.generated === 'serial' ? undefined : to.generated }, 'postgres')
    const collation = to.collation ? ` ${collateClause(to.collation, 'postgres')}` : ''
    const using = aspects.includes('type') ? ` USING ${c}::${type}` : ''
    statements.push(alter(`TYPE ${type}${collation}${using}`))
  }
  if (aspects.includes('nullable')) statements.push(alter(to.nullable ? 'DROP NOT NULL' : 'SET NOT NULL'))
  if (aspects.includes('generated')) {
    const fromIdentity = from.generated === 'identity' || from.generated === 'identity-always'
    const toIdentity = to.generated === 'identity' || to.generated === 'identity-always'
    if (fromIdentity && toIdentity) {
      statements.push(alter(to.generated === 'identity-always' ? 'SET GENERATED ALWAYS' : 'SET GENERATED BY DEFAULT'))
    } else if (fromIdentity && to.generated === undefined) {
      statements.push(alter('DROP IDENTITY'))
    } else if (from.generated === undefined && toIdentity) {
      statements.push(alter(`ADD GENERATED ${to.generated === 'identity-always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`))
      // start after the rows already there
      statements.push(
        `SELECT setval(pg_get_serial_sequence(${quoteString(change.table)}, ${quoteString(change.column)}), COALESCE(MAX(${c}), 0) + 1, false) FROM ${t};`,
      )
    } else {
      note = `change ${change.table}.${change.column} from ${from.generated ?? 'plain'} to ${to.generated ?? 'plain'} by hand (serial columns own a sequence)`
    }
  }
  if (changesDefault && to.default !== undefined && to.generated === undefined) statements.push(alter(`SET DEFAULT ${to.default}`))
  return { statements, note }
}

function alterEnum(name: string, from: string[], to: string[], target: DatabaseSchema): string[] {
  const type = quoteIdentifier(name)
  if (from.every((v) => to.includes(v)) && from.every((v, i) => i === 0 || to.indexOf(v) > to.indexOf(from[i - 1]!))) {
    // only additions, order kept: ALTER TYPE … ADD VALUE, each placed after its predecessor
    return to
      .map((value, i) => {
        if (from.includes(value)) return undefined
        const position = i > 0 ? ` AFTER ${quoteString(to[i - 1]!)}` : to.length > 1 ? ` BEFORE ${quoteString(to[1]!)}` : ''
        return `ALTER TYPE ${type} ADD VALUE ${quoteString(value)}${position};`
      })
      .filter((s): s is string => s !== undefined)
  }
  // values removed or reordered: a new type, columns cast through text (fails on rows with a removed value)
  const old = quoteIdentifier(`${name}__old`)
  const statements = [`ALTER TYPE ${type} RENAME TO ${old};`, `CREATE TYPE ${type} AS ENUM (${to.map(quoteString).join(', ')});`]
  for (const t of target.tables) {
    for (const c of t.columns) {
      if (c.type !== `enum:${name}`) continue
      const alter = (clause: string) => `ALTER TABLE ${quoteIdentifier(t.name)} ALTER COLUMN ${quoteIdentifier(c.name)} ${clause};`
      if (c.default !== undefined) statements.push(alter('DROP DEFAULT'))
      statements.push(alter(`TYPE ${type} USING ${quoteIdentifier(c.name)}::text::${type}`))
      if (c.default !== undefined) statements.push(alter(`SET DEFAULT ${c.default}`))
    }
  }
  statements.push(`DROP TYPE ${old};`)
  return statements
}
