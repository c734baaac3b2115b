/**
 * The gate of `migrate up`: before anything is applied, the pending `.sql` migrations are
 * linted in order (a table created earlier in the run is new to the lint), and each
 * error-level finding is weighed against the target. A finding whose tables all do not exist
 * there yet, or are small (under `lint.smallTable` rows and bytes, from the catalog's
 * estimates), becomes a warning saying why; what stays an error stops the run, unless
 * `--allow-unsafe` lets it through, which the history row of each such migration records.
 */
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { RelationFacts, RelationRef, TargetFacts } from '../dialects/catalog-port.js'
import type { LintFinding } from '../dialects/lint-port.js'
import { formatBytes } from '../backup/durable-file.js'
import { DbopsError, ExitCode } from '../errors.js'
import { lintInputOf, lintMigrationFiles, sizeMattersRules } from './lint-migrations.js'
import type { PreparedMigration } from './prepare-migrations.js'

/** Under both, a table is small: a lock on it is over before anyone notices. */
export interface SmallTable {
  rows: number
  bytes: number
}

/**
 * Default `lint.smallTable`: 10,000 rows and 10 MB. A plain `CREATE INDEX` or a rewrite of such a
 * table takes well under a second on any server dbops targets; above either, the lock's
 * length grows with the table and the finding stays an error.
 */
export const DEFAULT_SMALL_TABLE: SmallTable = { rows: 10_000, bytes: 10 * 1024 * 1024 }

/** What the gate decided (snake_case: it is part of the `--json` document). */
export interface GateReport {
  /** Every finding, in file order: errors that stand, warnings (downgraded ones say why), ignored ones. */
  findings: LintFinding[]
  /** Error-level findings stand and `--allow-unsafe` was not given: nothing is applied. */
  blocked: boolean
  /** `--allow-unsafe` was given. */
  allow_unsafe: boolean
  /** Files the lint could not read statically (modules). */
  notes: string[]
  /** How many `.sql` files were linted. */
  files: number
}

/** Options of {@link runMigrationGate}. */
export interface GateOptions {
  /** Let error-level findings through; recorded in each such migration's history row. */
  allowUnsafe?: boolean
  /** The target's server version number (`150018`); undefined: the newest. */
  serverVersionNum?: number | undefined
  /** Existence and size of relations in the target; asked only when an error-level finding needs it. */
  targetFacts: (relations: readonly RelationRef[], options: { defaultSchema: string; countUpTo: number }) => Promise<TargetFacts>
}

/** Error-level lint findings stopped `migrate up` before anything was applied (exit 3). */
export class UnsafeMigrationError extends DbopsError {
  constructor(blocking: LintFinding[]) {
    const rules = [...new Set(blocking.map((f) => f.rule))]
    const files = new Set(blocking.map((f) => f.file)).size
    super(
      'UNSAFE_MIGRATION',
      ExitCode.attention,
      `${blocking.length} unsafe statement${blocking.length === 1 ? '' : 's'} in ${files} pending migration${files === 1 ? '' : 's'} (${rules.join(', ')}); nothing was applied`,
      {
        hint:
          `Rewrite as each finding's hint says; or, where the risk is accepted, put \`-- dbops:lint-ignore ${rules[0]} <reason>\` ` +
          'on the line above the statement, or run `dbops migrate up --allow-unsafe` (recorded in dbops_migrations.allowed_unsafe).',
      },
    )
  }
}

/**
 * Lints the pending `.sql` migrations of `prepared` in order and weighs error-level findings
 * against the target; a target without tables is not linted (nothing there to lock). With `allowUnsafe`, the history row of each migration with a standing
 * error says which (`allowed_unsafe`). Throws the lint's input errors (unparsable SQL, a bad
 * ignore comment: exit 2).
 */
export async function runMigrationGate(config: ResolvedConfig, prepared: PreparedMigration[], options: GateOptions): Promise<GateReport> {
  const small: SmallTable = { ...DEFAULT_SMALL_TABLE, ...config.lint?.smallTable }
  const facts = (refs: readonly RelationRef[]) => options.targetFacts(refs, { defaultSchema: config.schema, countUpTo: small.rows })
  // every table the run touches is then new: no finding could stand, so the parser is not even loaded
  if ((await facts([])).empty) {
    const note = 'the target holds no tables yet: nothing to lock, the pending migrations were not linted'
    return { findings: [], blocked: false, allow_unsafe: options.allowUnsafe === true, notes: [note], files: 0 }
  }
  const lint = await lintMigrationFiles(
    prepared.map((p) => lintInputOf(p.file, p.label)),
    { dialect: config.target.dialect, serverVersionNum: options.serverVersionNum, config: config.lint },
  )
  const findings = await weighFindings(lint.findings, small, facts, sizeMattersRules(lint.rules))
  const standing = findings.filter(isStanding)
  const allowUnsafe = options.allowUnsafe === true
  if (allowUnsafe) recordAllowed(prepared, standing)
  return { findings, blocked: standing.length > 0 && !allowUnsafe, allow_unsafe: allowUnsafe, notes: lint.notes, files: lint.files }
}

/** Findings that stop the run: error-level and not ignored. */
export function isStanding(finding: LintFinding): boolean {
  return finding.severity === 'error' && !finding.ignored
}

/**
 * Each standing error about a lock (a rule in `scaling`) whose tables all do not
 * exist in the target or are small becomes a warning with `downgraded` saying why; a finding naming no table is downgraded only when the
 * target holds no table at all (callers skip the lint then). The target is asked once, and only when
 * there is a standing error.
 */
export async function weighFindings(
  findings: LintFinding[],
  small: SmallTable,
  targetFacts: (relations: readonly RelationRef[]) => Promise<TargetFacts>,
  /** The rules whose harm grows with the table; the others are never downgraded. */
  scaling: ReadonlySet<string>,
): Promise<LintFinding[]> {
  const standing = findings.filter(isStanding)
  if (standing.length === 0) return findings
  const refs = new Map<string, RelationRef>()
  for (const finding of standing) for (const table of finding.tables) refs.set(keyOf(table), { schema: table.schema, name: table.name })
  const facts = await targetFacts([...refs.values()])
  const byKey = new Map(facts.relations.map((fact) => [keyOf(fact), fact]))
  return findings.map((finding) => {
    if (!isStanding(finding)) return finding
    const why = scaling.has(finding.rule) ? downgradeReason(finding, facts.empty, byKey, small) : undefined
    return why === undefined ? finding : { ...finding, severity: 'warning', downgraded: why }
  })
}

function downgradeReason(finding: LintFinding, empty: boolean, facts: Map<string, RelationFacts>, small: SmallTable): string | undefined {
  if (finding.tables.length === 0) return empty ? 'the target holds no tables yet' : undefined
  const reasons: string[] = []
  for (const table of finding.tables) {
    const fact = facts.get(keyOf(table))
    const name = table.schema ? `${table.schema}.${table.name}` : table.name
    if (!fact) return undefined
    if (!fact.exists) {
      reasons.push(`${name} does not exist in the target yet`)
      continue
    }
    const rowsSmall = fact.rows !== undefined && fact.rows < small.rows
    const bytesSmall = fact.bytes === undefined || fact.bytes < small.bytes
    if (!rowsSmall || !bytesSmall) return undefined
    const size = fact.bytes === undefined ? 'size unknown' : formatBytes(fact.bytes)
    reasons.push(`${name} is small (${fact.rows} rows, ${size}; under lint.smallTable ${small.rows} rows, ${formatBytes(small.bytes)})`)
  }
  return reasons.join('; ')
}

/** Marks the history row of each migration with a standing error: `rule at line N; …`. */
function recordAllowed(prepared: PreparedMigration[], standing: LintFinding[]): void {
  for (const item of prepared) {
    const mine = standing.filter((f) => f.file === item.label)
    if (mine.length > 0) item.step.row.allowedUnsafe = mine.map((f) => `${f.rule} at line ${f.line}`).join('; ')
  }
}

function keyOf(table: RelationRef): string {
  return `${table.schema ?? ''}\u0000${table.name}`
}
