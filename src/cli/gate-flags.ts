/** `--allow-unsafe` and `--no-lint` of `migrate up`: the gate that lints pending migrations first. */
import { Flags } from './oclif.js'
import type { MigrateUpOptions } from '../migrate/migrate-up.js'

/** The gate's flags. */
export const gateFlags = {
  'allow-unsafe': Flags.boolean({
    summary: 'Apply despite error-level lint findings; printed, and recorded in each such migration’s history row.',
  }),
  lint: Flags.boolean({
    summary: 'Lint pending .sql migrations before applying them (--no-lint skips the gate).',
    default: true,
    allowNo: true,
  }),
}

/** The core's gate options from the flags. */
export function gateOptions(flags: {
  'allow-unsafe'?: boolean | undefined
  lint?: boolean | undefined
}): Pick<MigrateUpOptions, 'allowUnsafe' | 'lint'> {
  return { allowUnsafe: flags['allow-unsafe'], lint: flags.lint }
}
