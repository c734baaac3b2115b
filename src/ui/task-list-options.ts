/**
 * listr2's options come from here only: silent under `--json`; the default (animated)
 * renderer only when stderr is a TTY and `CI` is not set; otherwise the plain `simple`
 * renderer, or `verbose` with `--verbose`. Errors are never collapsed. Output goes to stderr.
 */

/** The renderer choice dbops makes; listr2's names. */
export type RendererName = 'default' | 'simple' | 'verbose' | 'silent'

/** The subset of listr2's options dbops sets. */
export interface TaskListOptions {
  renderer: RendererName
  fallbackRenderer: RendererName
  exitOnError: boolean
  collapseErrors: false
  rendererOptions: Record<string, unknown>
}

/**
 * Chooses listr2's renderer and options.
 *
 * @param mode the output switches
 * @param env the environment (for `CI`)
 * @param stderrIsTTY whether stderr is a terminal
 */
export function taskListOptions(
  mode: { json: boolean; quiet: boolean; verbose: boolean },
  env: Record<string, string | undefined>,
  stderrIsTTY: boolean,
): TaskListOptions {
  const isCi = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0'
  let renderer: RendererName
  if (mode.json || mode.quiet) renderer = 'silent'
  else if (stderrIsTTY && !isCi && !mode.verbose) renderer = 'default'
  else if (mode.verbose) renderer = 'verbose'
  else renderer = 'simple'
  return {
    renderer,
    fallbackRenderer: renderer === 'default' ? 'simple' : renderer,
    exitOnError: true,
    collapseErrors: false,
    rendererOptions: { collapseErrors: false, collapseSubtasks: false, showErrorMessage: true, timer: { condition: true } },
  }
}
