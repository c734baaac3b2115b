/**
 * How risky a schema change is, and so how risky the statements that make it are. Shared by
 * the diff (which grades each change) and the dialects' renderers (which grade each step by
 * the worst change it makes).
 */

/**
 * How risky a change is.
 * - `safe`: additive or relaxing; existing rows and existing queries keep working.
 * - `destructive`: nothing is deleted, but it can fail on existing rows (a new constraint,
 *   NOT NULL) or break existing queries (a rename, a new key).
 * - `data_loss`: rows or values are removed or may be cut (a dropped table or column, a
 *   narrowing type change).
 */
export type Severity = 'safe' | 'destructive' | 'data_loss'

const SEVERITY_RANK: Record<Severity, number> = { safe: 0, destructive: 1, data_loss: 2 }

/** The worse of two severities. */
export function worseSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b
}
