/**
 * Text from outside dbops (file names, paths, database values) made safe to print on a
 * terminal. A migration named `1_\x1b]0;title\x07.sql` would otherwise retitle the window, and
 * one with U+202E (right-to-left override) would show its name reversed in a review or a log.
 * Control and invisible formatting characters are shown as escapes instead (`\x1b`, `\u202e`),
 * so what is printed is what is on disk. JSON output keeps the raw text: JSON.stringify
 * escapes control characters itself, and a consumer needs the exact name.
 */

// C0 controls, DEL, C1 controls; bidi controls (ALM, LRM, RLM, LRE…RLO, LRI…PDI); zero-width
// and line/paragraph separators; the BOM and interlinear annotation marks
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g

function escapeChar(char: string): string {
  const code = char.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * `text` with every control, bidi and invisible formatting character written as an escape.
 * Use it wherever a migration name, a path or other outside text reaches a terminal.
 *
 * @example
 * printable('20250101_\u001b[31mred.sql') // '20250101_\\x1b[31mred.sql'
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar)
}

/** {@link printable} line by line: line breaks kept, for multi-line messages. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n')
}

/**
 * A file name read as bytes (`readdir` with `encoding: 'buffer'`), printable: valid UTF-8 is
 * decoded, each byte that is not part of a valid sequence is shown as `\xNN`, and the result
 * goes through {@link printable}.
 *
 * @example
 * printableBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])) // 'caf\\xe9'
 */
export function printableBytes(bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let text = ''
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i]!
    const length =
      lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0
    let char: string | undefined
    if (length > 0 && i + length <= bytes.length) {
      try {
        char = decoder.decode(bytes.subarray(i, i + length))
      } catch {
        char = undefined // overlong, surrogate or truncated sequence
      }
    }
    if (char === undefined) {
      text += `\\x${lead.toString(16).padStart(2, '0')}`
      i++
    } else {
      text += printable(char)
      i += length
    }
  }
  return text
}
