/**
 * The production guard: destructive commands (`migrate down`, `migrate repair`,
 * `backup restore`, `backup prune`) refuse without `--yes` when `ENV`/`NODE_ENV` is
 * `production` or the database is marked `protected: true`. Nothing ever prompts: CI has no
 * TTY, and a prompt at 3 a.m. is a trap.
 */
import { describeTarget } from './database-url.js'
import type { ResolvedConfig } from './resolve-config.js'
import { ProductionGuardError } from '../errors.js'

/** Throws {@link ProductionGuardError} (exit 2) unless the action is allowed. */
export function assertDestructiveAllowed(config: ResolvedConfig, options: { yes: boolean; action: string }): void {
  if (options.yes) return
  const why = config.production
    ? 'ENV/NODE_ENV is production'
    : config.protected
      ? `database "${config.databaseName}" is marked protected`
      : undefined
  if (!why) return
  throw new ProductionGuardError(`Refusing to ${options.action} on ${describeTarget(config.target)}: ${why}`)
}
