/**
 * A table's checksum: each row's canonical text (`convert-value.ts`) hashed with SHA-1 and
 * 96 bits of each hash summed (per 32-bit part, modulo 2^32), so the result does not depend on
 * the order the rows are read in, while a row missing, added, repeated or changed changes it.
 * SHA-1 guards a copy against mistakes, not against an adversary; Node's one-shot
 * `crypto.hash` with a hex result is the cheapest native hash per row (a `createHash` per row,
 * or a hash written in JavaScript, cost a copy two to five times as much CPU). Both sides of
 * a copy compute it the same way.
 */
import { hash } from 'node:crypto'
import type { CopyValue } from '../dialects/copy-port.js'
import { canonicalText } from './convert-value.js'

/** Accumulates rows; `digest()` gives the checksum as 24 hex digits. */
export class TableChecksum {
  rows = 0
  private a = 0
  private b = 0
  private c = 0

  constructor(private readonly logicalTypes: readonly (string | undefined)[]) {}

  /** Adds one converted row. */
  add(row: readonly CopyValue[]): void {
    let text = ''
    for (let i = 0; i < row.length; i++) text += `${canonicalText(row[i]!, this.logicalTypes[i])}\u001f`
    const hex = hash('sha1', text)
    this.a = (this.a + parseInt(hex.slice(0, 8), 16)) >>> 0
    this.b = (this.b + parseInt(hex.slice(8, 16), 16)) >>> 0
    this.c = (this.c + parseInt(hex.slice(16, 24), 16)) >>> 0
    this.rows++
  }

  /** The checksum so far. */
  digest(): string {
    return [this.a, this.b, this.c].map((n) => n.toString(16).padStart(8, '0')).join('')
  }
}
