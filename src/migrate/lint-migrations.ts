/**
 * The static lint of migration files: each `.sql` file's `-- migrate:up` section read by the
 * dialect's linter, in order, with what earlier files created carried along; then the ignore
 * comments (`-- dbops:lint-ignore <rule> <reason>`) and the config file's rule settings
 * applied. `lintMigrationFiles` is pure (no database); `lintMigrations` picks the files
 * (pending ones or all) and the server version from the target when it is reachable.
 */
import type { LintFileSettings } from '../config/config-file.js'
import type { DialectName } from '../dialects/dialect.js'
import { dialectTraits } from '../dialects/index.js'
import { type LintFinding, type LintRule, type LintSeverity, LintSyntaxError, newLintState } from '../dialects/lint-port.js'
import { ConfigError, DbopsError, ExitCode } from '../errors.js'
import { SqlMigrationFormatError, parseSqlMigration } from './parse-sql-migration.js'
import { applyIgnoreComments } from './lint-ignore-comments.js'

/** The config file's `lint` key (see {@link LintFileSettings}). */
export type LintConfig = LintFileSettings

/** One file to lint: its path as shown, its text, and whether it is SQL or a module. */
export interface LintInputFile {
  file: string
  text: string
  /** Default: `sql` for `.sql` files, `module` otherwise. */
  kind?: 'sql' | 'module'
}

/** Options of {@link lintMigrationFiles}. */
export interface LintFilesOptions {
  dialect: DialectName
  /** The server's version number, e.g. 150000; undefined: the newest. */
  serverVersionNum?: number | undefined
  config?: LintConfig | undefined
}

/** What a lint found. */
export interface LintResult {
  /** Findings in file order, ignored ones included (with `ignored`). */
  findings: LintFinding[]
  /** Info lines: files that cannot be linted statically. */
  notes: string[]
  /** How many files were linted. */
  files: number
  /** The dialect's rules, with the config's severities, `off` ones left out. */
  rules: LintRule[]
}

/** The ids of `rules` whose harm grows with the table ({@link LintRule.sizeMatters}): the ones a new or small table makes harmless. */
export function sizeMattersRules(rules: readonly LintRule[]): Set<string> {
  return new Set(rules.filter((rule) => rule.sizeMatters).map((rule) => rule.id))
}

/** A migration the linter cannot read: its SQL does not parse, or an ignore comment is wrong. Exit 2. */
export class LintInputError extends DbopsError {
  constructor(message: string, hint: string) {
    super('LINT_INPUT', ExitCode.usage, message, { hint })
  }
}

/**
 * Lints `files` in order: a table created earlier in the list (or earlier in its file) is new,
 * and statements on it are not flagged for locking. Throws {@link LintInputError} (exit 2) for
 * unparsable SQL, naming file, line and the parser's message, and for an ignore comment
 * without a reason or naming an unknown rule.
 *
 * @example
 * const result = await lintMigrationFiles([{ file: 'migrations/1_a.sql', text }], { dialect: 'postgres', serverVersionNum: 150000 })
 */
export async function lintMigrationFiles(files: readonly LintInputFile[], options: LintFilesOptions): Promise<LintResult> {
  const traits = dialectTraits(options.dialect)
  const linter = await traits.loadLinter()
  const settings = options.config?.rules ?? {}
  const known = new Set(linter.rules.map((r) => r.id))
  const unknown = Object.keys(settings).find((id) => !known.has(id))
  if (unknown !== undefined)
    throw new ConfigError(`lint.rules.${unknown}: no ${traits.displayName} lint rule has this id`, {
      hint: `Known rules: ${[...known].join(', ')}.`,
    })
  const state = newLintState()
  const findings: LintFinding[] = []
  const notes: string[] = []
  let linted = 0
  for (const input of files) {
    const kind = input.kind ?? (input.file.endsWith('.sql') ? 'sql' : 'module')
    if (kind !== 'sql') {
      notes.push(`${input.file}: not linted (only .sql migrations can be linted statically; \`migrate plan\` traces module migrations)`)
      continue
    }
    linted++
    let up
    try {
      up = parseSqlMigration(input.text, traits.sqlSyntax).up
    } catch (err) {
      if (err instanceof SqlMigrationFormatError)
        throw new LintInputError(`${input.file}:${err.line}:${err.column}: ${err.message}`, 'Fix the migration file.')
      throw err
    }
    let raw: LintFinding[]
    try {
      raw = linter.lintSection(
        { file: input.file, fileText: input.text, sql: up.sql, offset: up.offset, transaction: up.transaction, statements: up.statements },
        state,
        { serverVersionNum: options.serverVersionNum },
      )
    } catch (err) {
      if (err instanceof LintSyntaxError)
        throw new LintInputError(
          `${input.file}:${err.line}:${err.column}: SQL does not parse: ${err.message}`,
          `Fix the statement at line ${err.line}; dbops reads migrations with ${traits.displayName}'s own parser.`,
        )
      throw err
    }
    const configured = raw.flatMap((f) => {
      const setting = settings[f.rule]
      if (setting === 'off') return []
      return [setting ? { ...f, severity: setting } : f]
    })
    findings.push(...applyIgnoreComments(input.file, input.text, configured, known))
  }
  const rules = linter.rules
    .filter((r) => settings[r.id] !== 'off')
    .map((r) => ({ ...r, severity: (settings[r.id] as LintSeverity | undefined) ?? r.severity }))
  return { findings, notes, files: linted, rules }
}

/** Whether `finding` fails a lint whose threshold is `failOn` (ignored findings never do). */
export function failsLint(finding: LintFinding, failOn: LintSeverity = 'error'): boolean {
  if (finding.ignored) return false
  return failOn === 'warning' || finding.severity === 'error'
}

/** A discovered migration file as {@link lintMigrationFiles} reads it, shown as `label`. */
export function lintInputOf(file: { content: string; kind: 'sql' | 'module' }, label: string): LintInputFile {
  return { file: label, text: file.content, kind: file.kind }
}
