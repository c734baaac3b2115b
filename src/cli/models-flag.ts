/**
 * `--models FILE`: the models module, for every command that reads the models (`schema diff`,
 * `migrate generate --from-models`), so the missing-models hint ("pass --models FILE") holds
 * wherever it is printed.
 */
import { Flags } from './oclif.js'

/**
 * `--models FILE`; unset, the config file's `models` is used. Relative to the working
 * directory. `dependsOn` names the flags it needs (`--from-models` for `migrate generate`).
 *
 * @example static override flags = { models: modelsFlag() }
 */
export function modelsFlag(options: { dependsOn?: string[] } = {}) {
  return Flags.string({
    summary: 'The models module (default: `models` in the config file).',
    helpValue: 'FILE',
    ...options,
  })
}
