/**
 * Orderings for names dbops sorts (backup files, tool directories). `localeCompare` is not
 * used: its first call loads ICU's collation data, 20–30 ms of a short command's run, and the
 * order it gives depends on the locale. These compare by UTF-16 code unit.
 */

/** Code-unit order: `compareText('a', 'b') < 0`. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Runs of digits compare as numbers, the rest by code unit: `9.6` < `15`, `postgresql@9` < `postgresql@16`. */
export function compareNatural(a: string, b: string): number {
  const x = a.split(/(\d+)/)
  const y = b.split(/(\d+)/)
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    // split with a capture group puts the digit runs at the odd indexes
    const order = i % 2 === 1 ? Number(x[i]) - Number(y[i]) : compareText(x[i]!, y[i]!)
    if (order !== 0) return order
  }
  return x.length - y.length
}
