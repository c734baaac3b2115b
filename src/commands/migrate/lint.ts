import { Args, Flags } from '../../cli/oclif.js'
import { DbopsCommand } from '../../cli/base-command.js'
import { isDialectName } from '../../dialects/index.js'
import { UsageError } from '../../errors.js'
import { failsLint } from '../../migrate/lint-migrations.js'
import { lintMigrations, serverVersionNumber } from '../../migrate/lint-target.js'
import { lintSarif } from '../../ui/lint-sarif.js'
import { lintJson, renderLintGithub, renderLintText } from '../../ui/render-lint.js'

/** `dbops migrate lint [FILE…]`: the static lint of migrations for statements that lock or break production. */
export default class MigrateLint extends DbopsCommand<typeof MigrateLint> {
  static override summary = 'Find migration statements that lock tables for long or break the running app, before they run.'
  static override description =
    'Reads each .sql migration with the database’s own parser (PostgreSQL) or by statement shape (SQLite) and reports each ' +
    'dangerous statement at its file, line and column, with the safe rewrite. By default the pending migrations of the target; ' +
    '--all every file; FILE arguments those files. With no database reachable it lints every file and says so. ' +
    'Silence one statement with `-- dbops:lint-ignore <rule-id> <reason>` on the line above; turn rules off or change their ' +
    'severity under `lint.rules` in the config file. Exit 0 clean, 3 findings at or above --fail-on, 2 unparsable SQL.'
  static override examples = [
    '<%= config.bin %> migrate lint',
    '<%= config.bin %> migrate lint --all --format github',
    '<%= config.bin %> migrate lint migrations/20250101120000_add_index.sql --pg-version 11',
    '<%= config.bin %> migrate lint --all --format sarif > lint.sarif',
  ]
  static override strict = false
  static override args = {
    file: Args.string({ description: 'Migration files to lint (default: the pending migrations).' }),
  }
  static override flags = {
    all: Flags.boolean({ summary: 'Lint every migration, applied ones included.' }),
    format: Flags.string({ summary: 'Output format.', options: ['text', 'github', 'sarif'], default: 'text' }),
    'fail-on': Flags.string({
      summary: 'Exit 3 for findings of this severity or worse (default: the config’s lint.failOn, else error).',
      options: ['error', 'warning'],
    }),
    'pg-version': Flags.string({
      summary: 'PostgreSQL version the rules judge by, e.g. 11 or 15.4 (default: the server’s, else the newest).',
    }),
    dialect: Flags.string({
      summary: 'The migrations’ SQL dialect when the configured database is not theirs: lints from the files alone.',
      options: ['postgres', 'sqlite'],
    }),
  }

  async run(): Promise<Record<string, unknown>> {
    const config = await this.loadConfig()
    const { argv } = await this.parse({
      flags: MigrateLint.flags,
      baseFlags: DbopsCommand.baseFlags,
      enableJsonFlag: true,
      args: MigrateLint.args,
      strict: false,
    })
    const files = argv.map(String)
    const pgVersion = this.flags['pg-version']
    const serverVersionNum = pgVersion === undefined ? undefined : serverVersionNumber(pgVersion)
    if (pgVersion !== undefined && (serverVersionNum === undefined || serverVersionNum < 90000))
      throw new UsageError(`--pg-version ${pgVersion}: not a PostgreSQL version`, { hint: 'Give a version such as 11, 15.4 or 150004.' })
    const dialect = this.flags.dialect
    const result = await lintMigrations(config, {
      all: this.flags.all,
      files: files.length > 0 ? files : undefined,
      serverVersionNum,
      dialect: dialect !== undefined && isDialectName(dialect) ? dialect : undefined,
      connect: { ...this.connectOptions(config, 'read'), deadlineMs: 3000, maxRetries: 0 },
    })
    const failOn = (this.flags['fail-on'] ?? config.lint.failOn ?? 'error') as 'error' | 'warning'
    const exitCode = result.findings.some((f) => failsLint(f, failOn)) ? 3 : 0
    if (exitCode !== 0) process.exitCode = exitCode
    if (result.offline) this.out.info(this.out.err.dim(result.offline))
    for (const note of result.notes) this.out.info(this.out.err.dim(note))
    const view = { ...result, failOn }
    if (this.flags.format === 'sarif' && !this.jsonEnabled())
      this.out.result(JSON.stringify(lintSarif(result.findings, result.rules, config.cwd, this.config.version), null, 2))
    else if (this.flags.format === 'github') {
      const annotations = renderLintGithub(view, process.env.GITHUB_WORKSPACE || config.cwd)
      if (annotations) this.out.result(annotations)
    } else this.out.result(renderLintText(view, this.out.out))
    return lintJson(view, exitCode)
  }
}
