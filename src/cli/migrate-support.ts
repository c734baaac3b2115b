/**
 * What the `migrate` commands share: the lock flags, the options handed to the core, and
 * turning a run's result into output, annotation and exit code.
 */
import { Flags } from './oclif.js'
import { parseSeconds } from '../config/values.js'
import type { ResolvedConfig } from '../config/resolve-config.js'
import type { DbopsError } from '../errors.js'
import { MigrationFailedError } from '../migrate/migration-failed-error.js'
import type { MigrationOptions, MigrationRunResult } from '../migrate/migration-runner.js'
import { githubErrorAnnotation } from '../ui/github-annotation.js'
import type { MigrationProgressView } from '../ui/migration-progress.js'
import { type Output, errorJson } from '../ui/output.js'

const seconds = (name: string) =>
  Flags.custom<number>({
    parse: async (input) => parseSeconds(input, `--${name}`, 0),
  })

/** `--lock-timeout` and `--statement-lock-timeout`. */
export const lockFlags = {
  'lock-timeout': seconds('lock-timeout')({
    summary: 'Seconds to wait for another migration run (default 60). Exit 5 after.',
    helpValue: 'S',
  }),
  'statement-lock-timeout': seconds('statement-lock-timeout')({
    summary: 'PostgreSQL lock_timeout for migration statements, seconds (default 5; 0 waits forever).',
    helpValue: 'S',
  }),
}

/** `--lock-retries` of the commands that apply or roll back migrations (`up`, `down`). */
export const lockRetriesFlag = {
  'lock-retries': Flags.integer({
    summary: 'Retries of a transactional migration that hit lock_timeout, with backoff (default 3; 0: none).',
    helpValue: 'N',
    min: 0,
    max: 100,
  }),
}

/**
 * `--new-history` of the commands that may start a history table (`up`, `baseline`): start
 * the configured one although another history with rows exists in the database (two
 * applications sharing one), instead of stopping with exit 6.
 */
export const newHistoryFlag = {
  'new-history': Flags.boolean({
    summary: 'Start the configured history table although another history with rows exists in the database.',
  }),
}

/** The core's options from the lock flags (and `--new-history`), the abort signal and the progress view. */
export function migrationOptions(
  flags: {
    'lock-timeout'?: number | undefined
    'statement-lock-timeout'?: number | undefined
    'lock-retries'?: number | undefined
    'new-history'?: boolean | undefined
  },
  base: Pick<MigrationOptions, 'signal' | 'connect'>,
  progress: MigrationProgressView | undefined,
): MigrationOptions {
  return {
    ...base,
    lockTimeoutMs: flags['lock-timeout'] === undefined ? undefined : flags['lock-timeout'] * 1000,
    statementLockTimeoutMs: flags['statement-lock-timeout'] === undefined ? undefined : flags['statement-lock-timeout'] * 1000,
    lockRetries: flags['lock-retries'],
    onProgress: progress?.onProgress,
    onWait: progress?.onWait,
    newHistory: flags['new-history'],
  }
}

/** The JSON view of a run: the result, with its error as `{code, message, hint}` or null. */
export type MigrationRunJson = Omit<MigrationRunResult, 'error'> & {
  error: ReturnType<typeof errorJson>['error'] | null
}

/**
 * After a run: prints its warnings and the error (and, under GitHub Actions, its
 * annotation), sets the exit code, and returns the JSON view.
 */
export function finishRun(
  out: Output,
  config: ResolvedConfig,
  result: MigrationRunResult,
  env: Record<string, string | undefined> = process.env,
): MigrationRunJson {
  const { error, ...rest } = result
  for (const warning of result.warnings) out.warn(warning)
  if (error) reportFailure(out, config, error, env)
  return { ...rest, error: error ? errorJson(error).error : null }
}

/** Prints a failure that will not be thrown (the run's result is returned), with its annotation. */
export function reportFailure(
  out: Output,
  config: ResolvedConfig,
  error: DbopsError,
  env: Record<string, string | undefined> = process.env,
): void {
  process.exitCode = error.exitCode
  annotate(config, error, env)
  if (!out.mode.json) out.error(error)
}

/** Prints the `::error file=…::` line for a migration failure under GitHub Actions (stderr: stdout may be JSON). */
export function annotate(config: ResolvedConfig, error: unknown, env: Record<string, string | undefined> = process.env): void {
  if (!(error instanceof MigrationFailedError)) return
  const line = githubErrorAnnotation(
    {
      message: error.message,
      file: error.location.file,
      line: error.location.line,
      column: error.location.column,
      title: 'dbops migrate',
    },
    env,
    config.cwd,
  )
  if (line) process.stderr.write(`${line}\n`)
}
