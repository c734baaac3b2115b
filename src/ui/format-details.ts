/**
 * One-line summaries of snake_case detail records for tables: `size_bytes: 7340032` reads
 * `size 7.0 MB`, `idle_seconds: 75` reads `idle 75 s`, nulls are left out. Pure.
 */
import { printable } from '../printable-text.js'

/** `1536` → `1.5 kB`; binary multiples with the usual short names. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** Seconds as `42 s`, `3.5 min`, `2.1 h`, `3.0 d`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds * 10) / 10} s`
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86_400).toFixed(1)} d`
}

/** Cuts `text` to `max` characters with an ellipsis, on one line. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`
}

function formatValue(key: string, value: unknown): [string, string] {
  if (typeof value === 'number') {
    if (key.endsWith('_bytes')) return [key.slice(0, -'_bytes'.length), formatBytes(value)]
    if (key.endsWith('_seconds')) return [key.slice(0, -'_seconds'.length), formatSeconds(value)]
    if (key.endsWith('_ms')) return [key.slice(0, -'_ms'.length), `${value} ms`]
    if (key.endsWith('_pct')) return [key.slice(0, -'_pct'.length), `${value}%`]
    if (key.endsWith('_hours')) return [key.slice(0, -'_hours'.length), `${value} h`]
  }
  if (Array.isArray(value))
    return [key, value.length === 0 ? 'none' : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')]
  if (typeof value === 'object' && value !== null) {
    return [
      key,
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(', '),
    ]
  }
  return [key, String(value)]
}

/** `key value · key value`, keys with spaces for underscores, nulls skipped, control characters escaped. */
export function formatDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => {
      const [label, text] = formatValue(key, value)
      return `${label.replaceAll('_', ' ')} ${printable(text)}`
    })
    .join(' · ')
}
