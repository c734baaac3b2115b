/**
 * A table's checksum: each row's canonical text (`convert-value.ts`) hashed to 64 bits and the
 * hashes summed (per 32-bit half, modulo 2^32), so the result does not depend on the order the
 * rows are read in, while a row missing, added, repeated or changed changes it. The row hash
 * is two independent multiplicative hashes (MurmurHash3's mixing, different seeds) over the
 * text's UTF-16 code units: this guards a copy against mistakes, not against an adversary,
 * and costs no allocation per row (a cryptographic hash per row took a third of a copy's CPU).
 * Both sides of a copy compute it the same way.
 */
import type { CopyValue } from '../dialects/copy-port.js'
import { canonicalText } from './convert-value.js'

function finalMix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Accumulates rows; `digest()` gives the checksum as 16 hex digits and the row count. */
export class TableChecksum {
  rows = 0
  private sumA = 0
  private sumB = 0
  private sumC = 0

  constructor(private readonly logicalTypes: readonly (string | undefined)[]) {}

  /** Adds one converted row. */
  add(row: readonly CopyValue[]): void {
    let a = 0x9747b28c
    let b = 0x1b873593
    for (let i = 0; i < row.length; i++) {
      const text = canonicalText(row[i]!, this.logicalTypes[i])
      for (let j = 0; j <= text.length; j++) {
        // the separator (j === length) keeps ('ab', 'c') apart from ('a', 'bc')
        const k = j < text.length ? text.charCodeAt(j) : 0x1f001f
        let ka = Math.imul(k, 0xcc9e2d51)
        ka = Math.imul((ka << 15) | (ka >>> 17), 0x1b873593)
        a ^= ka
        a = Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64
        b = Math.imul(b ^ k, 0x01000193) + (b >>> 7)
      }
    }
    const ha = finalMix(a ^ row.length)
    const hb = finalMix(b + ha)
    this.sumA = (this.sumA + ha) >>> 0
    this.sumB = (this.sumB + hb) >>> 0
    this.sumC = (this.sumC + ((ha ^ hb) >>> 0)) % 0xfffffffb
    this.rows++
  }

  /** The checksum so far: 24 hex digits. */
  digest(): string {
    return [this.sumA, this.sumB, this.sumC].map((n) => n.toString(16).padStart(8, '0')).join('')
  }
}
