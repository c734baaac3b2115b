/**
 * The static lint of migrations, as the dialects provide it: a finding's shape, a rule's
 * description, and the linter a dialect hands out (PostgreSQL's parses with its own parser,
 * SQLite's reads statement shapes). Ignore comments, the config's rule settings and the order
 * of files are the feature's (src/migrate/lint-migrations.ts); a linter only reads statements.
 */

/** How bad a finding is: `error` stops `migrate up`, `warning` is printed. */
export type LintSeverity = 'error' | 'warning'

/** A relation a statement locks or changes. */
export interface LintTable {
  schema?: string
  name: string
}

/** One rule's hit on one statement. */
export interface LintFinding {
  /** The rule's stable kebab-case id, e.g. `create-index-non-concurrently`. */
  rule: string
  severity: LintSeverity
  /** The migration file, as given. */
  file: string
  /** 1-based line and column of the statement (or of the part at fault) in the file. */
  line: number
  column: number
  /** One line: what it locks and why that hurts. */
  message: string
  /** The safe rewrite. */
  hint: string
  /** A one-line excerpt of the statement. */
  statement: string
  /** The relations the statement locks or changes. */
  tables: LintTable[]
  /** Set when a `-- dbops:lint-ignore <rule> <reason>` comment covers it. */
  ignored?: { reason: string }
  /** Why a gate or plan made it a warning. */
  downgraded?: string
}

/** A rule, for the registry, the docs and SARIF. */
export interface LintRule {
  id: string
  /** Its default severity (the config file may change it or turn it off). */
  severity: LintSeverity
  /** A short title: `CREATE INDEX without CONCURRENTLY`. */
  title: string
  /** Why it hurts: the lock it takes and what that blocks. */
  why: string
  /** The safe rewrite. */
  hint: string
  /**
   * Whether the harm is a lock whose cost grows with the table (a scan, a rewrite, an index
   * build): the gate and the plan may downgrade it on a new or small table. False for what hurts
   * whatever the size: a dropped or renamed column breaks the running application on an empty
   * table too.
   */
  sizeMatters: boolean
}

/** One section of a migration (its `-- migrate:up`), as the linter reads it. */
export interface LintSection {
  /** The migration file, for findings. */
  file: string
  /** The whole file's text (ignore comments and positions are read from it). */
  fileText: string
  /** The section's SQL, and its offset in the file. */
  sql: string
  offset: number
  /** false for `transaction:false` sections. */
  transaction: boolean
  /** The section's statements as the dbops splitter sees them, positions in the file. */
  statements: ReadonlyArray<{ text: string; offset: number; line: number; column: number }>
}

/** What a linter knows of the target. */
export interface LintTarget {
  /** The server's version number (`150000` for PostgreSQL 15); undefined: the latest. */
  serverVersionNum?: number | undefined
}

/**
 * What a linter carries from one statement and one file to the next, in order: tables created
 * earlier (new and empty: statements on them lock nothing anyone waits for) and validated
 * `CHECK (col IS NOT NULL)` constraints. Keys are `schema.name` lower-cased, or `name`.
 */
export interface LintState {
  createdTables: Set<string>
  /** `table.column` keys with a validated `CHECK (column IS NOT NULL)`. */
  notNullChecks: Set<string>
  /** `table.constraint` → `table.column` of `CHECK (column IS NOT NULL) NOT VALID` not yet validated. */
  pendingNotNullChecks: Map<string, string>
}

/** A statement the parser refused: where and the parser's own message. */
export class LintSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message)
    this.name = 'LintSyntaxError'
  }
}

/** A dialect's linter. */
export interface MigrationLinter {
  /** Every rule it has, in the order the docs list them. */
  readonly rules: readonly LintRule[]
  /**
   * The raw findings of one section, every rule on, default severities, ignore comments not
   * applied; updates `state`. Throws {@link LintSyntaxError} for SQL its parser refuses.
   */
  lintSection(section: LintSection, state: LintState, target: LintTarget): LintFinding[]
}

/** A fresh {@link LintState}. */
export function newLintState(): LintState {
  return { createdTables: new Set(), notNullChecks: new Set(), pendingNotNullChecks: new Map() }
}
