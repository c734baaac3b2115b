import { describe, expect, test } from 'vitest'
import { printable, printableBytes } from '../../src/printable-text.js'

describe('printable', () => {
  test.each([
    { name: 'plain text is unchanged', input: '20250101000000_create_users.sql', expected: '20250101000000_create_users.sql' },
    { name: 'non-ASCII letters are unchanged', input: 'café_ü_日本.sql', expected: 'café_ü_日本.sql' },
    { name: 'an ANSI colour sequence', input: 'a\u001b[31mred\u001b[0m', expected: 'a\\x1b[31mred\\x1b[0m' },
    { name: 'an OSC title sequence ending in BEL', input: '\u001b]0;pwned\u0007', expected: '\\x1b]0;pwned\\x07' },
    { name: 'newline, carriage return and tab', input: 'a\nb\rc\td', expected: 'a\\x0ab\\x0dc\\x09d' },
    { name: 'DEL and a C1 control (CSI)', input: 'a\u007fb\u009bc', expected: 'a\\x7fb\\x9bc' },
    { name: 'right-to-left override', input: 'evil_\u202egpj.sql', expected: 'evil_\\u202egpj.sql' },
    {
      name: 'isolates, marks and zero-width characters',
      input: '\u2066\u200f\u200b\u061c\ufeff',
      expected: '\\u2066\\u200f\\u200b\\u061c\\ufeff',
    },
  ])('$name', ({ input, expected }) => expect(printable(input)).toBe(expected))
})

describe('printableBytes', () => {
  test.each([
    { name: 'valid UTF-8', bytes: Buffer.from('café.sql'), expected: 'café.sql' },
    { name: 'a Latin-1 byte', bytes: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e]), expected: 'caf\\xe9.' },
    { name: 'a truncated sequence at the end', bytes: Buffer.from([0x61, 0xe2, 0x80]), expected: 'a\\xe2\\x80' },
    { name: 'an overlong encoding', bytes: Buffer.from([0xc0, 0xaf]), expected: '\\xc0\\xaf' },
    { name: 'an encoded surrogate', bytes: Buffer.from([0xed, 0xa0, 0x80]), expected: '\\xed\\xa0\\x80' },
    { name: 'a four-byte character', bytes: Buffer.from('a😀b'), expected: 'a😀b' },
    { name: 'controls are escaped too', bytes: Buffer.from('a\u001bb\u202e'), expected: 'a\\x1bb\\u202e' },
  ])('$name', ({ bytes, expected }) => expect(printableBytes(bytes)).toBe(expected))
})
