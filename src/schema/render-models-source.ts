/**
 * Normalised schema → a TypeScript models module (`dbops schema pull`). The module loads back
 * into the same schema: pull, then `schema diff`, shows no changes. Names the database chose
 * (constraints, indexes) are written only where they differ from the DSL's defaults. A table
 * outside the default schema gets `{ schema: 'app' }`, and names it references elsewhere are
 * qualified (`auth.users`), so a one-schema module reads as it always did.
 */
import { qualifiedName, splitQualifiedName } from '../sql/qualified-name.js'
import { dialectTraits } from '../dialects/index.js'
import type { SchemaTraits } from '../dialects/schema-traits.js'
import { parseColumnType } from '../sql/column-type.js'
import { canonicalExpression } from './canonical-expression.js'
import { defaultName } from './models-to-schema.js'
import type { ColumnSchema, DatabaseSchema, IndexSchema, TableSchema } from './normalised-schema.js'

/** Options of {@link renderModelsSource}. */
export interface RenderModelsOptions {
  /** A line for the header comment (where the schema came from). */
  origin?: string
  /** The schema objects without a `schema` are in (`DATABASE_SCHEMA`); default `public`. */
  defaultSchema?: string
}

/**
 * How a table in `tableSchema` names an object in `schema`: bare in its own schema, else
 * qualified (the default schema by its name).
 */
function nameFrom(tableSchema: string | undefined, schema: string | undefined, name: string, defaultSchema: string): string {
  return schema === tableSchema ? name : `${schema ?? defaultSchema}.${name}`
}

const JS_RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await'.split(
    ' ',
  ),
)

/** A single-quoted JavaScript string literal. */
function q(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
}

/** An object key: bare when it is an identifier. */
function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : q(name)
}

/** A variable name for a table: camelCase, valid, not reserved, unique. */
function variableName(table: string, used: Set<string>): string {
  let name = table
    .replace(/[^A-Za-z0-9_$]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))
    .replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  if (name === '' || /^[0-9]/.test(name)) name = `t${name}`
  if (JS_RESERVED.has(name)) name = `${name}Table`
  let candidate = name
  for (let n = 2; used.has(candidate); n++) candidate = `${name}${n}`
  used.add(candidate)
  return candidate
}

/** What a table is rendered with: the dialect, the enums by qualified name, the default schema. */
interface RenderContext {
  traits: SchemaTraits
  enums: Map<string, string[]>
  defaultSchema: string
}

/** `col.…()` for a column's type. */
function typeCall(column: ColumnSchema, table: TableSchema, context: RenderContext, checkEnum: string[] | undefined): string {
  if (checkEnum) return `col.enum([${checkEnum.map(q).join(', ')}])`
  const parsed = parseColumnType(column.type)
  if (parsed.logical === 'enum') {
    const key = column.type.slice('enum:'.length)
    const { schema, name } = splitQualifiedName(key)
    const written = nameFrom(table.schema, schema, name, context.defaultSchema)
    return `col.enum([${(context.enums.get(key) ?? []).map(q).join(', ')}], { name: ${q(written)} })`
  }
  if (parsed.logical === undefined) return `col.custom(${q(column.type)})`
  switch (parsed.logical) {
    case 'varchar':
      return `col.varchar(${parsed.params[0] ?? ''})`
    case 'char':
      return `col.char(${parsed.params[0] ?? 1})`
    case 'numeric':
      return parsed.params.length > 0 ? `col.numeric(${parsed.params[0]}, ${parsed.params[1] ?? 0})` : 'col.numeric()'
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      return parsed.params.length > 0 ? `col.type(${q(parsed.canonical)})` : `col.${parsed.logical}()`
    default:
      return `col.${parsed.logical}()`
  }
}

/** `.default(…)` / `.defaultNow()` for a default expression, literal when it is one. */
function defaultCall(column: ColumnSchema): string {
  const expression = column.default
  if (expression === undefined) return ''
  const canonical = canonicalExpression(expression)
  if (canonical === 'null') return ''
  const logical = parseColumnType(column.type).logical
  const now =
    logical === 'date'
      ? 'current_date'
      : logical === 'time'
        ? 'current_time'
        : logical === 'timestamp' || logical === 'timestamptz'
          ? 'current_timestamp'
          : undefined
  if (now !== undefined && canonical === now) return '.defaultNow()'
  if (logical === 'boolean') {
    if (canonical === 'true' || canonical === '1') return '.default(true)'
    if (canonical === 'false' || canonical === '0') return '.default(false)'
  }
  const str = /^'((?:[^']|'')*)'$/.exec(canonical)
  if (str && logical !== undefined && logical !== 'enum' && logical !== 'boolean' && logical !== 'blob')
    return `.default(${q(str[1]!.replace(/''/g, "'"))})`
  if (str && logical === 'enum') return `.default(${q(str[1]!.replace(/''/g, "'"))})`
  const isNumericType =
    logical === 'smallint' ||
    logical === 'integer' ||
    logical === 'bigint' ||
    logical === 'real' ||
    logical === 'double' ||
    logical === 'numeric'
  if (isNumericType && /^-?\d+(\.\d+)?$/.test(canonical) && String(Number(canonical)) === canonical) return `.default(${canonical})`
  return `.default(raw(${q(expression)}))`
}

/** The values of a `col IN ('a', 'b')` check on a text column, or undefined. */
function enumCheckValues(check: string, column: string): string[] | undefined {
  const canonical = canonicalExpression(check)
  const match = /^(.+?) in \(((?:'(?:[^']|'')*'(?:, )?)+)\)$/.exec(canonical)
  if (!match || canonicalExpression(column) !== match[1]) return undefined
  return [...match[2]!.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"))
}

function indexElement(e: IndexSchema['columns'][number]): string {
  if (e.kind === 'column') return e.descending ? `{ column: ${q(e.value)}, descending: true }` : q(e.value)
  return e.descending ? `{ expression: ${q(e.value)}, descending: true }` : `raw(${q(e.value)})`
}

function renderTable(table: TableSchema, context: RenderContext, variable: string): string {
  const traits = context.traits
  const referenced = (fk: TableSchema['foreignKeys'][number]) =>
    nameFrom(table.schema, fk.referencedSchema, fk.referencedTable, context.defaultSchema)
  const single = table.primaryKey.length === 1 ? table.primaryKey[0] : undefined
  const checks = [...table.checks]
  const columnLines = table.columns.map((column) => {
    // a text column with a `col IN (…)` check is an enum
    let checkEnum: string[] | undefined
    if (column.type === 'text') {
      const at = checks.findIndex((c) => enumCheckValues(c.expression, column.name) !== undefined)
      if (at !== -1) {
        checkEnum = enumCheckValues(checks[at]!.expression, column.name)
        checks.splice(at, 1)
      }
    }
    let call = typeCall(column, table, context, checkEnum)
    const isPk = column.name === single
    if (column.nullable && !table.primaryKey.includes(column.name)) call += '.nullable()'
    if (isPk) call += '.primaryKey()'
    if (column.generated === 'identity') call += '.identity()'
    else if (column.generated === 'identity-always') call += '.identity({ always: true })'
    else if (column.generated === 'serial') call += '.serial()'
    else if (column.generated === 'autoincrement') call += '.autoincrement()'
    else if (traits.rowidPrimaryKey && isPk && column.type === 'integer') call += '.identity()' // the rowid alias
    call += defaultCall(column)
    if (column.collation) call += `.collate(${q(column.collation)})`
    const unique = table.uniques.find((u) => u.columns.length === 1 && u.columns[0] === column.name)
    if (unique)
      call +=
        unique.name === undefined || unique.name === defaultName(table.name, [column.name], 'key')
          ? '.unique()'
          : `.unique(${q(unique.name)})`
    const fk = table.foreignKeys.find((f) => f.columns.length === 1 && f.columns[0] === column.name)
    if (fk) {
      const options = [
        fk.onDelete !== 'no action' ? `onDelete: ${q(fk.onDelete)}` : '',
        fk.onUpdate !== 'no action' ? `onUpdate: ${q(fk.onUpdate)}` : '',
        fk.name !== undefined && fk.name !== defaultName(table.name, [column.name], 'fkey') ? `name: ${q(fk.name)}` : '',
      ].filter(Boolean)
      call += `.references(${q(referenced(fk))}, ${q(fk.referencedColumns[0]!)}${options.length > 0 ? `, { ${options.join(', ')} }` : ''})`
    }
    return `    ${key(column.name)}: ${call},`
  })

  const options: string[] = []
  if (table.schema !== undefined) options.push(`schema: ${q(table.schema)},`)
  if (table.primaryKey.length > 1) {
    const name = table.primaryKeyName && table.primaryKeyName !== `${table.name}_pkey` ? `, name: ${q(table.primaryKeyName)}` : ''
    options.push(
      name
        ? `primaryKey: { columns: [${table.primaryKey.map(q).join(', ')}]${name} },`
        : `primaryKey: [${table.primaryKey.map(q).join(', ')}],`,
    )
  }
  const uniques = table.uniques.filter((u) => u.columns.length > 1)
  if (uniques.length > 0) {
    const items = uniques.map((u) =>
      u.name === undefined || u.name === defaultName(table.name, u.columns, 'key')
        ? `[${u.columns.map(q).join(', ')}]`
        : `{ columns: [${u.columns.map(q).join(', ')}], name: ${q(u.name)} }`,
    )
    options.push(`uniques: [${items.join(', ')}],`)
  }
  if (checks.length > 0) {
    options.push(
      `checks: [\n${checks.map((c) => `      ${c.name ? `{ name: ${q(c.name)}, expression: ${q(c.expression)} }` : q(c.expression)},`).join('\n')}\n    ],`,
    )
  }
  const fks = table.foreignKeys.filter((f) => f.columns.length > 1)
  if (fks.length > 0) {
    const items = fks.map((fk) => {
      const parts = [
        `columns: [${fk.columns.map(q).join(', ')}]`,
        `references: { table: ${q(referenced(fk))}, columns: [${fk.referencedColumns.map(q).join(', ')}] }`,
        fk.onDelete !== 'no action' ? `onDelete: ${q(fk.onDelete)}` : '',
        fk.onUpdate !== 'no action' ? `onUpdate: ${q(fk.onUpdate)}` : '',
        fk.name !== undefined && fk.name !== defaultName(table.name, fk.columns, 'fkey') ? `name: ${q(fk.name)}` : '',
      ].filter(Boolean)
      return `      { ${parts.join(', ')} },`
    })
    options.push(`foreignKeys: [\n${items.join('\n')}\n    ],`)
  }
  if (table.indexes.length > 0) {
    const items = table.indexes.map((index) => {
      const parts = [
        `columns: [${index.columns.map(indexElement).join(', ')}]`,
        index.unique ? 'unique: true' : '',
        `name: ${q(index.name)}`,
        index.where !== undefined ? `where: ${q(index.where)}` : '',
        index.method !== undefined ? `method: ${q(index.method)}` : '',
      ].filter(Boolean)
      return `      { ${parts.join(', ')} },`
    })
    options.push(`indexes: [\n${items.join('\n')}\n    ],`)
  }
  const optionsText = options.length > 0 ? `,\n  {\n    ${options.join('\n    ')}\n  }` : ''
  return `export const ${variable} = table(\n  ${q(table.name)},\n  {\n${columnLines.join('\n')}\n  }${optionsText},\n)`
}

/**
 * Writes `schema` as a models module: one `export const … = table(…)` per table and a
 * default `defineModels({ … })`. Objects dbops does not manage are listed in the header.
 *
 * @example
 * fs.writeFileSync('models.ts', renderModelsSource(await introspect(conn), { origin: 'postgres app@db/app' }))
 */
export function renderModelsSource(schema: DatabaseSchema, options: RenderModelsOptions = {}): string {
  const dialect = dialectTraits(schema.dialect)
  const enums = new Map(schema.enums.map((e) => [qualifiedName(e.schema, e.name), e.values]))
  const context: RenderContext = { traits: dialect.schemaTraits, enums, defaultSchema: options.defaultSchema ?? 'public' }
  const used = new Set<string>(['col', 'defineModels', 'raw', 'table'])
  const variables = schema.tables.map((t) => variableName(t.schema === undefined ? t.name : `${t.schema}_${t.name}`, used))
  const bodies = schema.tables.map((t, i) => renderTable(t, context, variables[i]!))
  const needsRaw = bodies.some((b) => b.includes('raw('))
  const header = [
    `// Models of the ${dialect.displayName} database${options.origin ? ` ${options.origin}` : ''}, written by \`dbops schema pull\`.`,
  ]
  header.push('// From now on this file is the source of truth: change it, then `dbops migrate generate NAME --from-models`.')
  const usedEnums = new Set(schema.tables.flatMap((t) => t.columns.map((c) => c.type)))
  const unusedEnums = schema.enums
    .filter((e) => !usedEnums.has(`enum:${qualifiedName(e.schema, e.name)}`))
    .map((e) => `type ${qualifiedName(e.schema, e.name)}`)
  const unmanaged = [...schema.unmanaged.map((u) => `${u.kind} ${qualifiedName(u.schema, u.name)}`), ...unusedEnums]
  if (unmanaged.length > 0) header.push(`// Not managed by dbops (left as they are): ${unmanaged.join(', ')}.`)
  const imports = `import { col, defineModels, ${needsRaw ? 'raw, ' : ''}table } from 'dbops'`
  const models = `export default defineModels({${variables.length > 0 ? ` ${variables.join(', ')} ` : ''}})`
  return `${header.join('\n')}\n${imports}\n\n${bodies.map((b) => `${b}\n`).join('\n')}${bodies.length > 0 ? '\n' : ''}${models}\n`
}
