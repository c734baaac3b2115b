/**
 * The plan file (`migrate plan --out plan.json`) and its use by `migrate up --plan plan.json`:
 * written durably under its final name only when whole (a temporary file beside it, fsync,
 * rename, fsync of the directory), and checked before anything is applied: the pending
 * migrations must be exactly the planned ones, each with the checksum it had when planned.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fsyncDirectory, writeFileAtomically } from '../backup/durable-file.js'
import { IntegrityError, UsageError, messageOf } from '../errors.js'
import type { ClassifiedMigration } from './classify-migrations.js'

/** What `migrate up --plan` holds the pending migrations to: the plan's file and its migrations. */
export interface PlanPin {
  /** The plan file as given, for messages. */
  file: string
  migrations: Array<{ name: string; checksum: string }>
}

/** Writes `plan` to `file` durably: never a half-written file under that name. */
export function savePlan(file: string, plan: object): void {
  const dir = path.dirname(path.resolve(file))
  writeFileAtomically(path.resolve(file), `${JSON.stringify(plan, null, 2)}\n`, `.${path.basename(file)}.${process.pid}.tmp`)
  fsyncDirectory(dir)
}

/** Reads a plan file for `migrate up --plan`; a missing or malformed one is a usage error (exit 2). */
export function readPlanFile(file: string): PlanPin {
  let doc: unknown
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`--plan ${file}: cannot read the plan: ${messageOf(err)}`, {
      code: 'PLAN_UNREADABLE',
      hint: 'Save one with `dbops migrate plan --out plan.json`.',
    })
  }
  const plan = (doc ?? {}) as { format?: unknown; migrations?: Array<{ name?: unknown; checksum?: unknown }> }
  if (plan.format !== 'dbops-plan/1' || !Array.isArray(plan.migrations)) {
    throw new UsageError(`--plan ${file}: not a dbops plan (no "format": "dbops-plan/1")`, {
      code: 'PLAN_UNREADABLE',
      hint: 'Save one with `dbops migrate plan --out plan.json`.',
    })
  }
  return { file, migrations: plan.migrations.map((m) => ({ name: String(m.name), checksum: String(m.checksum) })) }
}

/**
 * Refuses (exit 6) when the migrations about to be applied are not exactly the planned ones:
 * a file changed since the plan, a pending one the plan lacks, or a planned one no longer
 * pending. Each is named.
 */
export function assertPlanHolds(pin: PlanPin, pending: readonly ClassifiedMigration[]): void {
  const planned = new Map(pin.migrations.map((m) => [m.name, m.checksum]))
  const now = new Set(pending.map((m) => m.name))
  const problems: string[] = []
  for (const m of pending) {
    const checksum = planned.get(m.name)
    if (checksum === undefined) problems.push(`${m.name} is pending but not in the plan`)
    else if (checksum !== m.file?.checksum) problems.push(`${m.name} changed since the plan`)
  }
  for (const name of planned.keys()) if (!now.has(name)) problems.push(`${name} is in the plan but no longer pending`)
  if (problems.length === 0) return
  throw new IntegrityError('PLAN_STALE', `The plan ${pin.file} no longer matches the migrations: ${problems.join('; ')}`, {
    hint: 'Nothing was applied. Review the change, run `dbops migrate plan --out <file>` again, and apply that plan.',
  })
}
