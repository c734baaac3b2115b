import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js'
import { ConfigError, isDbopsError } from '../errors.js'
import { type CopyResult, copyDatabase } from '../copy/copy-database.js'
import { copyProgressReporter, renderCopyResult } from '../ui/render-copy.js'

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)

/** `dbops copy`: SQLite ⇄ PostgreSQL, verified. */
export default class Copy extends DbopsCommand<typeof Copy> {
  static override summary = 'Copy a database into another (SQLite ⇄ PostgreSQL), verified by row counts and checksums.'
  static override description =
    'Reads the source in one snapshot and builds the target where nothing shows until the end (PostgreSQL: one ' +
    'transaction; SQLite: a temporary file renamed into place): tables, rows in foreign-key order, then defaults, ' +
    'checks, indexes, foreign keys and identities. Every table is read back and compared (count and checksum) ' +
    'before the copy is made visible; a mismatch exits 6. The source defaults to the configured database; the ' +
    'target must be empty unless --truncate. See docs/copy.md for the type mapping.'
  static override examples = [
    '<%= config.bin %> copy --to postgres://app@db.internal/app',
    '<%= config.bin %> copy --from sqlite:data/app.db --to postgres://app@db.internal/app --schema app',
    '<%= config.bin %> copy --from postgres://app@db.internal/app --to sqlite:backup/app.db',
  ]
  static override flags = {
    from: Flags.string({ summary: 'The source database URL (default: the configured database).' }),
    to: Flags.string({ summary: 'The target database URL.', required: true }),
    tables: Flags.string({ summary: 'Only these tables (comma-separated).' }),
    'exclude-tables': Flags.string({ summary: 'Leave these tables out (comma-separated).' }),
    schema: Flags.string({ summary: 'PostgreSQL: the schema read from or written to (default: DATABASE_SCHEMA or public).' }),
    truncate: Flags.boolean({ summary: 'Empty the target tables of the same names and load into them (guarded in production).' }),
    yes: Flags.boolean({ char: 'y', summary: 'Confirm --truncate in production or on a protected database.' }),
  }

  /** The configuration with `url` as its database; errors name `flag`, not `--url`. */
  private async resolveUrl(flag: string, url: string): Promise<ResolvedConfig> {
    try {
      return await resolveConfig({ flags: { url, config: this.flags.config } })
    } catch (err) {
      if (!isDbopsError(err) || !err.message.startsWith('--url')) throw err
      throw new ConfigError(`${flag}${err.message.slice('--url'.length)}`, { code: err.code, hint: err.hint, cause: err })
    }
  }

  async run(): Promise<Record<string, unknown>> {
    const base = await this.loadConfig()
    const source = this.flags.from === undefined ? base : await this.resolveUrl('--from', this.flags.from)
    const target = await this.resolveUrl('--to', this.flags.to)
    const schema = this.flags.schema
    const inSchema = (config: ResolvedConfig): ResolvedConfig =>
      schema === undefined ? config : { ...config, schema, migrationsTable: { ...config.migrationsTable, schema } }
    const from = inSchema(source)
    const to = inSchema(target)
    this.announce(from)
    const showProgress = !this.out.mode.quiet
    const progress = copyProgressReporter(process.stderr, this.out.stderrIsTTY)
    const { mode: _mode, ...connect } = this.connectOptions(from, 'read')
    const result: CopyResult = await copyDatabase({
      from,
      to,
      tables: list(this.flags.tables),
      excludeTables: list(this.flags['exclude-tables']),
      truncate: this.flags.truncate,
      yes: this.flags.yes,
      connect,
      signal: this.abort.signal,
      onProgress: showProgress ? progress : undefined,
    })
    this.out.result(renderCopyResult(result))
    return {
      from: result.from,
      to: result.to,
      tables: result.tables.map((t) => ({
        name: t.name,
        rows: t.rows,
        target_rows: t.targetRows,
        source_checksum: t.sourceChecksum,
        target_checksum: t.targetChecksum,
        match: t.match,
        existing: t.existing,
        ms: t.ms,
      })),
      not_copied: result.notCopied,
      history: { head: result.history.head ?? null, rows: result.history.rows },
      rows: result.rows,
      duration_ms: result.durationMs,
    }
  }
}
