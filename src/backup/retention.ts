/**
 * Retention: which backups to keep and which to delete. Pure.
 *
 * Rules, per database (backups of different databases never affect each other):
 * - Only verified backups count towards the rules. The newest verified backup is always kept.
 * - `keepLast N`: the N newest verified backups.
 * - `keepDaily N` / `keepWeekly N` / `keepMonthly N`: the newest verified backup of each of
 *   the N most recent UTC days / ISO weeks (Monday to Sunday, UTC) / UTC months that have one.
 *   A backup kept by one rule still counts for the others (restic's and borg's semantics).
 * - A verified backup no rule keeps is deleted.
 * - An unverified backup (verification failed, or never ran) is kept while it is newer than
 *   the newest verified one (someone should look at it), and deleted once a newer verified
 *   backup supersedes it. With no verified backup at all, nothing is deleted.
 * - With no rule set at all, nothing is deleted.
 */
import { compareText } from '../compare-text.js'

/** Retention rules; an undefined rule does not apply, 0 keeps nothing by that rule. */
export interface RetentionPolicy {
  keepLast?: number | undefined
  keepDaily?: number | undefined
  keepWeekly?: number | undefined
  keepMonthly?: number | undefined
}

/** What retention needs to know about a backup. */
export interface RetentionCandidate {
  /** The backup's file name (unique). */
  file: string
  database: string
  createdAt: Date
  /** Verified to any level (`hash`, `read`, `restore`). */
  verified: boolean
}

/** The decision for one backup, with the reasons in words. */
export interface RetentionDecision {
  file: string
  database: string
  action: 'keep' | 'delete'
  reasons: string[]
}

/** Whether any rule of `policy` is set. */
export function hasRetentionRules(policy: RetentionPolicy): boolean {
  return [policy.keepLast, policy.keepDaily, policy.keepWeekly, policy.keepMonthly].some((n) => n !== undefined)
}

/** `2025-01-06` (UTC day). */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** `2025-01` (UTC month). */
export function utcMonth(date: Date): string {
  return date.toISOString().slice(0, 7)
}

/** `2025-W02`: the ISO 8601 week (weeks start on Monday; week 1 holds the first Thursday), in UTC. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay()
  day.setUTCDate(day.getUTCDate() + 4 - weekday) // the Thursday of this week decides the year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7)
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}

/**
 * Decides, for every backup, keep or delete, following the rules above. Returns one decision
 * per candidate, newest first within each database.
 *
 * @example
 * planRetention(backups, { keepDaily: 7, keepWeekly: 4 }).filter((d) => d.action === 'delete')
 */
export function planRetention(candidates: readonly RetentionCandidate[], policy: RetentionPolicy): RetentionDecision[] {
  const byDatabase = new Map<string, RetentionCandidate[]>()
  for (const c of candidates) {
    const group = byDatabase.get(c.database) ?? []
    group.push(c)
    byDatabase.set(c.database, group)
  }
  const decisions: RetentionDecision[] = []
  for (const group of byDatabase.values()) decisions.push(...planGroup(group, policy))
  return decisions
}

function planGroup(group: RetentionCandidate[], policy: RetentionPolicy): RetentionDecision[] {
  const sorted = [...group].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareText(b.file, a.file))
  const reasons = new Map<string, string[]>(sorted.map((c) => [c.file, []]))
  const verified = sorted.filter((c) => c.verified)
  const newestVerified = verified[0]
  const rules = hasRetentionRules(policy)

  if (newestVerified) reasons.get(newestVerified.file)!.push('newest verified backup')
  if (rules) {
    if (policy.keepLast !== undefined) {
      verified.slice(0, policy.keepLast).forEach((c, i) => reasons.get(c.file)!.push(`last ${i + 1} of ${policy.keepLast}`))
    }
    const buckets: Array<[number | undefined, string, (d: Date) => string]> = [
      [policy.keepDaily, 'daily', utcDay],
      [policy.keepWeekly, 'weekly', isoWeek],
      [policy.keepMonthly, 'monthly', utcMonth],
    ]
    for (const [count, label, bucketOf] of buckets) {
      if (count === undefined || count <= 0) continue
      const seen = new Set<string>()
      for (const c of verified) {
        const bucket = bucketOf(c.createdAt)
        if (seen.has(bucket)) continue
        if (seen.size >= count) break
        seen.add(bucket)
        reasons.get(c.file)!.push(`${label} ${bucket}`)
      }
    }
  }

  return sorted.map((c) => {
    const why = reasons.get(c.file)!
    if (!rules) return decision(c, 'keep', why.length > 0 ? why : ['no retention rules set'])
    if (why.length > 0) return decision(c, 'keep', why)
    if (c.verified) return decision(c, 'delete', ['outside the retention rules'])
    if (!newestVerified) return decision(c, 'keep', ['not verified; no verified backup exists yet'])
    if (c.createdAt.getTime() > newestVerified.createdAt.getTime()) {
      return decision(c, 'keep', ['not verified; newer than the newest verified backup'])
    }
    return decision(c, 'delete', ['not verified; superseded by a newer verified backup'])
  })
}

function decision(c: RetentionCandidate, action: 'keep' | 'delete', reasons: string[]): RetentionDecision {
  return { file: c.file, database: c.database, action, reasons }
}
