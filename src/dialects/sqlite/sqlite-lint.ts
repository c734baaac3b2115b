/**
 * SQLite's migration linter. PostgreSQL's parser does not read SQLite, so the statements are
 * read as tokens (the one SQL lexer) and judged by their shape: the table-rebuild recipe on an
 * existing table, `PRAGMA foreign_keys` inside a transaction, and a NOT NULL column added
 * without a default.
 */
import { type SqlSyntax, type SqlToken, identifierOf, isKeyword, isOp, tokenizeSql } from '../../sql/sql-tokenizer.js'
import type { LintFinding, LintRule, LintSection, LintState, MigrationLinter } from '../lint-port.js'

/** Every SQLite rule, in the order the docs list them. */
export const SQLITE_LINT_RULES: readonly LintRule[] = [
  {
    id: 'sqlite-table-rebuild',
    severity: 'warning',
    sizeMatters: true,
    title: 'table rebuilt (copied) or rewritten',
    why: 'copying an existing table into a new one (the rebuild recipe) or dropping a column rewrites every row while holding the database’s write lock: every other writer waits',
    hint: 'run it when the table is small or in a quiet window; batch the copy for a large table, and keep `foreign_keys:off` with the recipe',
  },
  {
    id: 'sqlite-pragma-in-transaction',
    severity: 'error',
    sizeMatters: false,
    title: 'PRAGMA foreign_keys inside a transaction',
    why: 'SQLite ignores PRAGMA foreign_keys inside a transaction: the statement does nothing and foreign keys stay as they were',
    hint: 'use the section option `-- migrate:up foreign_keys:off` (dbops turns them off before the transaction and checks them before commit)',
  },
  {
    id: 'sqlite-not-null-without-default',
    severity: 'error',
    sizeMatters: false,
    title: 'NOT NULL column added without a default',
    why: 'SQLite refuses ADD COLUMN … NOT NULL without a non-null default ("Cannot add a NOT NULL column with default value NULL"): the migration fails',
    hint: "give the column a default (ADD COLUMN c TEXT NOT NULL DEFAULT ''), or rebuild the table",
  },
]

const RULES = new Map(SQLITE_LINT_RULES.map((r) => [r.id, r]))

/** The SQLite linter, reading statements by SQLite's lexical rules `syntax`. */
export function createSqliteLinter(syntax: SqlSyntax): MigrationLinter {
  return { rules: SQLITE_LINT_RULES, lintSection: (section, state) => lintSection(section, state, syntax) }
}

function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 100 ? `${line.slice(0, 99)}…` : line
}

/** A table name after `tokens[i]` (`schema.name` keeps the name), and the index past it. */
function nameAt(tokens: SqlToken[], i: number): { name: string | undefined; next: number } {
  let name = identifierOf(tokens[i])
  let next = i + 1
  if (isOp(tokens[next], '.')) {
    name = identifierOf(tokens[next + 1])
    next += 2
  }
  return { name: name?.toLowerCase(), next }
}

function lintSection(section: LintSection, state: LintState, syntax: SqlSyntax): LintFinding[] {
  const findings: LintFinding[] = []
  for (const statement of section.statements) {
    const tokens = tokenizeSql(statement.text, syntax)
    const emit = (ruleId: string, detail: string, tables: string[]): void => {
      const rule = RULES.get(ruleId)!
      findings.push({
        rule: rule.id,
        severity: rule.severity,
        file: section.file,
        line: statement.line,
        column: statement.column,
        message: `${detail}: ${rule.why}`,
        hint: rule.hint,
        statement: excerptOf(statement.text),
        tables: tables.map((name) => ({ name })),
      })
    }
    const word = (i: number, keyword: string): boolean => isKeyword(tokens[i], keyword)
    if (word(0, 'create') && tokens.slice(1, 4).some((t) => isKeyword(t, 'table'))) {
      const at = tokens.findIndex((t) => isKeyword(t, 'table'))
      let i = at + 1
      if (word(i, 'if') && word(i + 1, 'not') && word(i + 2, 'exists')) i += 3
      const { name } = nameAt(tokens, i)
      if (name) state.createdTables.add(name)
    } else if (word(0, 'pragma')) {
      let i = 1
      if (isOp(tokens[2], '.')) i = 3
      if (isKeyword(tokens[i], 'foreign_keys') && section.transaction)
        emit('sqlite-pragma-in-transaction', 'PRAGMA foreign_keys in a transactional section', [])
    } else if (word(0, 'alter') && word(1, 'table')) {
      const { name, next } = nameAt(tokens, 2)
      if (!name) continue
      if (word(next, 'add')) {
        const rest = tokens.slice(word(next + 1, 'column') ? next + 2 : next + 1)
        const notNull = rest.some((t, k) => isKeyword(t, 'not') && isKeyword(rest[k + 1], 'null'))
        const defaultAt = rest.findIndex((t) => isKeyword(t, 'default'))
        const nullDefault = defaultAt !== -1 && isKeyword(rest[defaultAt + 1], 'null')
        if (notNull && (defaultAt === -1 || nullDefault))
          emit('sqlite-not-null-without-default', `column ${identifierOf(rest[0]) ?? ''} added to ${name} as NOT NULL without a default`, [
            name,
          ])
      } else if (word(next, 'drop') && !state.createdTables.has(name)) {
        emit('sqlite-table-rebuild', `a column dropped from ${name}`, [name])
      } else if (word(next, 'rename') && word(next + 1, 'to')) {
        const renamed = nameAt(tokens, next + 2).name
        if (renamed && state.createdTables.has(name)) state.createdTables.add(renamed)
      }
    } else if (word(0, 'insert')) {
      const into = tokens.findIndex((t) => isKeyword(t, 'into'))
      const target = into === -1 ? undefined : nameAt(tokens, into + 1).name
      const from = tokens.findIndex((t) => isKeyword(t, 'from'))
      const source = from === -1 ? undefined : nameAt(tokens, from + 1).name
      const selects = tokens.some((t) => isKeyword(t, 'select'))
      if (target && source && selects && state.createdTables.has(target) && !state.createdTables.has(source))
        emit('sqlite-table-rebuild', `every row of ${source} copied into ${target}`, [source, target])
    }
  }
  return findings
}
