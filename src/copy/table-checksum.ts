/**
 * A table's checksum: each row's canonical text (`convert-value.ts`) hashed with SHA-256 and
 * the hashes summed, so the result does not depend on the order the rows are read in, while
 * a row missing, added or repeated changes it. Both sides of a copy compute it the same way.
 */
import { createHash } from 'node:crypto'
import type { CopyValue } from '../dialects/copy-port.js'
import { canonicalText } from './convert-value.js'

/** Accumulates rows; `digest()` gives the checksum as 32 hex digits. */
export class TableChecksum {
  rows = 0
  private readonly sums = new Uint32Array(4)

  constructor(private readonly logicalTypes: readonly (string | undefined)[]) {}

  /** Adds one converted row. */
  add(row: readonly CopyValue[]): void {
    let text = ''
    for (let i = 0; i < row.length; i++) text += `${canonicalText(row[i]!, this.logicalTypes[i])}\u001f`
    const hash = createHash('sha256').update(text).digest()
    for (let i = 0; i < 4; i++) this.sums[i] = (this.sums[i]! + hash.readUInt32BE(i * 4)) >>> 0
    this.rows++
  }

  /** The checksum so far. */
  digest(): string {
    return [...this.sums].map((n) => n.toString(16).padStart(8, '0')).join('')
  }
}
