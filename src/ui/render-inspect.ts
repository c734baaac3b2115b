/**
 * `dbops inspect` results as tables. Pure; colours come from the caller's chalk instance.
 */
import type { ChalkInstance } from 'chalk'
import type { RowsReport } from '../inspect/inspect-rows.js'
import type { TableReport } from '../inspect/inspect-table.js'
import type { TablesReport } from '../inspect/inspect-tables.js'
import { printable } from '../printable-text.js'
import { formatBytes, truncate } from './format-details.js'
import { renderTable } from './render-table.js'

/** Characters of a value shown in a cell of `inspect rows`. */
const CELL_CHARS = 40

/** `inspect tables`. */
export function renderTables(report: TablesReport): string {
  if (report.tables.length === 0)
    return `no tables${report.schema ? ` in schema ${report.schema}` : report.schemas ? ` in schemas ${report.schemas.join(', ')}` : ''}`
  const rows = report.tables.map((t) => [
    t.schema === undefined ? t.name : `${t.schema}.${t.name}`,
    t.rows === null ? '?' : `${t.rows_exact ? '' : '~'}${t.rows}`,
    t.size_bytes === null ? '?' : formatBytes(t.size_bytes),
  ])
  return (
    renderTable(['TABLE', 'ROWS', 'SIZE'], rows) +
    (report.tables.some((t) => !t.rows_exact) ? '\n~ estimate from the planner statistics' : '')
  )
}

/** `inspect table NAME`. */
export function renderTableReport(report: TableReport, colours: ChalkInstance): string {
  const pk = new Set(report.primary_key)
  const parts = [
    colours.bold(`table ${report.schema ? `${report.schema}.` : ''}${report.name}`),
    renderTable(
      ['COLUMN', 'TYPE', 'NULL', 'DEFAULT', 'NOTES'],
      report.columns.map((c) => [
        c.name,
        c.type,
        c.nullable ? 'yes' : 'no',
        c.default ?? '',
        [pk.has(c.name) ? 'primary key' : '', c.generated ?? ''].filter(Boolean).join(', '),
      ]),
    ),
  ]
  if (report.indexes.length > 0) {
    parts.push(
      `\n${colours.bold('indexes')}\n` +
        renderTable(
          ['NAME', 'UNIQUE', 'COLUMNS', 'WHERE'],
          report.indexes.map((i) => [i.name, i.unique ? 'yes' : '', i.columns.join(', '), i.where ?? '']),
        ),
    )
  }
  if (report.uniques.length > 0)
    parts.push(`\n${colours.bold('unique')}\n${report.uniques.map((u) => `  ${u.name ?? ''} (${u.columns.join(', ')})`).join('\n')}`)
  if (report.checks.length > 0)
    parts.push(`\n${colours.bold('checks')}\n${report.checks.map((c) => `  ${c.name ?? ''} ${c.expression}`).join('\n')}`)
  if (report.foreign_keys.length > 0) {
    parts.push(
      `\n${colours.bold('foreign keys')}\n` +
        renderTable(
          ['NAME', 'COLUMNS', 'REFERENCES', 'ON DELETE', 'ON UPDATE'],
          report.foreign_keys.map((f) => [
            f.name ?? '',
            f.columns.join(', '),
            `${f.references.table}(${f.references.columns.join(', ')})`,
            f.on_delete,
            f.on_update,
          ]),
        ),
    )
  }
  if (report.referenced_by.length > 0) {
    parts.push(`\n${colours.bold('referenced by')}\n${report.referenced_by.map((r) => `  ${r.table}(${r.columns.join(', ')})`).join('\n')}`)
  }
  return parts.join('\n')
}

function cell(value: unknown, colours: ChalkInstance): string {
  if (value === null || value === undefined) return colours.dim('NULL')
  if (typeof value === 'object') return truncate(JSON.stringify(value), CELL_CHARS)
  return truncate(printable(String(value)), CELL_CHARS)
}

/** `inspect rows NAME`. */
export function renderRows(report: RowsReport, colours: ChalkInstance): string {
  const table = renderTable(
    report.columns,
    report.rows.map((row) => report.columns.map((c) => cell(row[c], colours))),
  )
  const range =
    report.rows.length === 0
      ? `no rows${report.offset > 0 ? ` at offset ${report.offset}` : ''}`
      : `rows ${report.offset + 1}–${report.offset + report.rows.length}`
  const footer =
    range +
    (report.has_more ? ` · more: --offset ${report.next_offset}` : ' · end') +
    (report.order ? '' : ' · unordered (no primary key; pages may overlap: use --order)')
  return `${table}\n${colours.dim(footer)}`
}
