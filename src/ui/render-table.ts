/**
 * Plain-text tables for results on stdout: columns padded to the widest cell (ANSI colour
 * codes do not count towards the width). Pure.
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/** Visible width of a string, ignoring colour codes. */
export function visibleWidth(text: string): number {
  return text.replace(ANSI, '').length
}

/** Renders `rows` under `headers`, two spaces between columns, no trailing spaces. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell))))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
