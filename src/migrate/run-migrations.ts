/**
 * Running prepared migrations: one after the other through the dialect's migration session,
 * with progress events, and whatever stops the run turned into the error the user sees.
 *
 * The loop is dbops' own rather than umzug's: umzug's storage records a migration after its
 * `up` returns, outside the migration's transaction, so a crash between the two would leave
 * it applied but not recorded. dbops writes the row inside that transaction (the session
 * does, through the migration store), which leaves umzug nothing but the loop.
 */
import { type MigrationRow, type MigrationSession, MigrationStepError } from '../dialects/migration-port.js'
import { compareVersions } from './discover-migrations.js'
import type { MigrationStore } from './migration-store.js'
import { DbopsError, ExitCode, InterruptedError, errorCodeOf, messageOf } from '../errors.js'
import { guardModuleSteps } from './guard-module-steps.js'
import { MigrationFailedError, describeLocation, locationInStack } from './migration-failed-error.js'
import type { MigrationOptions, MigrationResult, MigrationResultStatus } from './migration-runner.js'
import type { PreparedMigration } from './prepare-migrations.js'
import { type LockRetry, type LockRetryPolicy, withLockRetries } from './lock-retry.js'

/**
 * Runs prepared migrations in order, each through the session (its row written inside its
 * own transaction), stopping at the first failure or at an interruption. Returns every
 * migration's result and the error that stopped the run; those before it stay applied (or
 * rolled back).
 */
export async function runMigrations(
  session: MigrationSession,
  prepared: PreparedMigration[],
  direction: 'up' | 'down',
  options: MigrationOptions,
  retry: LockRetryPolicy = { retries: 0, sqlstates: [], baseDelayMs: 0, maxDelayMs: 0 },
): Promise<{ results: MigrationResult[]; error: DbopsError | undefined }> {
  const results: MigrationResult[] = prepared.map((p) => ({
    version: p.file.version,
    name: p.file.name,
    status: 'not_run',
    duration_ms: null,
  }))
  const signal = options.signal
  const onAbort = () => void session.cancel()
  signal?.addEventListener('abort', onAbort, { once: true })
  options.onProgress?.({
    type: 'plan',
    direction,
    migrations: prepared.map((p) => ({ version: p.file.version, name: p.file.name })),
  })

  const guard = guardModuleSteps()
  const run = async (item: PreparedMigration, index: number) => {
    const name = item.file.name
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('SIGINT')
    guard.throwStray()
    options.onProgress?.({ type: 'start', version: item.file.version, name })
    results[index]!.status = 'failed'
    const retries: LockRetry[] = []
    const outcome = await withLockRetries(() => session.run(guard.supervise(item.step, name)), {
      policy: retry,
      transactional: item.step.transaction,
      retries,
      signal,
      onRetry: (r) => {
        // listed in the result only when there were any
        Object.assign(results[index]!, { attempts: retries.length + 1, lock_retries: retries })
        options.onProgress?.({ type: 'retry', version: item.file.version, name, retry: r, of: retry.retries })
      },
    })
    const status: MigrationResultStatus = outcome.status === 'skipped' ? 'skipped' : direction === 'up' ? 'applied' : 'reverted'
    // to 0.1 ms: most small migrations take under 1 ms, and the run's total sums these
    results[index] = { ...results[index]!, status, duration_ms: Math.round(outcome.durationMs * 10) / 10 }
    options.onProgress?.({
      type: 'done',
      version: item.file.version,
      name,
      status,
      durationMs: outcome.durationMs,
    })
  }
  let error: DbopsError | undefined
  try {
    for (const [index, item] of prepared.entries()) await run(item, index)
  } catch (err) {
    const index = results.findIndex((r) => r.status === 'failed')
    error = describeRunError(err, index >= 0 ? prepared[index] : undefined, direction, results, signal)
    if (index >= 0)
      options.onProgress?.({
        type: 'failed',
        version: results[index]!.version,
        name: results[index]!.name,
        error,
      })
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  try {
    if (!error) await guard.finish()
  } catch (err) {
    error = err as DbopsError
  } finally {
    guard.dispose()
  }
  return { results, error }
}

/**
 * The head (greatest applied version) after a run that started from `rows`, the history as
 * read under the lock. When the results tell it exactly, from them: no step failed (one outside
 * a transaction leaves its row `started`) and none was skipped (another run's row). Otherwise
 * the rows are read again; if that fails too, `fallback` (the head before the run).
 */
export async function headAfter(
  session: MigrationSession,
  store: MigrationStore,
  rows: readonly MigrationRow[],
  results: readonly MigrationResult[],
  fallback: string | undefined,
): Promise<string | null> {
  if (results.some((r) => r.status === 'failed' || r.status === 'skipped')) {
    return store.readRows(session).then(
      (after) => greatestApplied(after.filter((r) => r.status === 'applied').map((r) => r.version)) ?? null,
      () => fallback ?? null,
    )
  }
  const reverted = new Set(results.filter((r) => r.status === 'reverted').map((r) => r.version))
  const applied = rows.filter((r) => r.status === 'applied' && !reverted.has(r.version)).map((r) => r.version)
  for (const r of results) if (r.status === 'applied') applied.push(r.version)
  return greatestApplied(applied) ?? null
}

function greatestApplied(versions: readonly string[]): string | undefined {
  let head: string | undefined
  for (const version of versions) if (head === undefined || compareVersions(version, head) > 0) head = version
  return head
}

/** Turns whatever stopped a run into the error the user sees: what failed, where, and what stays. */
function describeRunError(
  err: unknown,
  item: PreparedMigration | undefined,
  direction: 'up' | 'down',
  results: MigrationResult[],
  signal: AbortSignal | undefined,
): DbopsError {
  const verb = direction === 'up' ? 'applied' : 'rolled back'
  const done = results.filter((r) => r.status === 'applied' || r.status === 'reverted').map((r) => r.name)
  const notDone = results.filter((r) => r.status === 'failed' || r.status === 'not_run').map((r) => r.name)
  const doneText = `${capitalise(verb)} in this run: ${done.length > 0 ? done.join(', ') : 'none'}. Not ${verb}: ${notDone.length > 0 ? notDone.join(', ') : 'none'}.`
  const stepError = err instanceof MigrationStepError ? err : undefined
  const interrupted = err instanceof InterruptedError || stepError?.details.cancelled || (signal?.aborted && errorCodeOf(err) === '57014')
  if (interrupted) {
    const reason = signal?.reason
    const which = reason instanceof InterruptedError ? reason.signal : err instanceof InterruptedError ? err.signal : 'SIGINT'
    const what = !item
      ? ''
      : stepError?.details.dirty
        ? ` while running ${item.label}, which ran outside a transaction and is now dirty (run \`dbops migrate repair ${item.file.name}\` once it is sorted out)`
        : ` while running ${item.label}; it was rolled back, nothing of it remains`
    return new InterruptedError(which, `Interrupted by ${which}${what}. ${doneText}`)
  }
  if (!item) return err instanceof DbopsError ? err : new DbopsError('INTERNAL', ExitCode.failed, messageOf(err), { cause: err })
  if (err instanceof DbopsError) return err
  // SQL: the statement the session located; a module: the line in its stack (jiti keeps lines)
  const located =
    stepError?.details.line !== undefined
      ? { line: stepError.details.line, column: stepError.details.column }
      : (locationInStack(stepError?.details.cause ?? err, item.file.path) ?? {})
  const where = describeLocation(located)
  const location = { file: item.file.path, ...located }
  const earlier =
    done.length === 0
      ? ''
      : done.length === 1
        ? ` The migration before it in this run stays ${verb}.`
        : ` The ${done.length} migrations before it in this run stay ${verb}.`
  // the database's own code beside its text, for searching its documentation
  const sqlstate = stepError?.details.sqlstate
  const reason = sqlstate === undefined ? messageOf(err) : `${messageOf(err)} (SQLSTATE ${sqlstate})`
  if (stepError?.details.dirty) {
    return new MigrationFailedError(
      'MIGRATION_FAILED',
      ExitCode.failed,
      `Migration ${item.label} (${direction}) failed${where}: ${reason}; it ran outside a transaction and is now dirty`,
      location,
      {
        hint: `Statements before the failing one took effect.${earlier} Finish or undo them by hand, then run \`dbops migrate repair ${item.file.name}\`.`,
        cause: err,
        sqlstate,
      },
    )
  }
  if (stepError?.details.lockTimeout) {
    const attempts = results.find((r) => r.status === 'failed')?.attempts
    return new MigrationFailedError(
      'STATEMENT_LOCK_TIMEOUT',
      ExitCode.lockTimeout,
      `Migration ${item.label} (${direction}) waited longer than lock_timeout for a table lock${where}: ${reason}${attempts ? `; gave up after ${attempts} attempts` : ''}`,
      location,
      {
        hint: `Another session holds a lock on a table it changes; nothing of it was ${verb}.${earlier} Retry when the database is quieter, or raise --statement-lock-timeout (DBOPS_STATEMENT_LOCK_TIMEOUT; 0 waits forever).`,
        cause: err,
        sqlstate,
      },
    )
  }
  return new MigrationFailedError(
    'MIGRATION_FAILED',
    ExitCode.failed,
    `Migration ${item.label} (${direction}) failed${where}: ${reason}`,
    location,
    {
      hint: `Nothing of it was ${verb}: it ran in one transaction.${earlier} Fix it and run \`dbops migrate ${direction}\` again.`,
      cause: err,
      sqlstate,
    },
  )
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
