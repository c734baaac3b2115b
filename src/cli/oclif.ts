/**
 * The parts of oclif dbops uses, each from its own entry point. `@oclif/core`'s main entry
 * loads all of oclif (help, ux, execute, logger…): ~30 ms more of every start-up than these.
 */
export * as Args from '@oclif/core/args'
export { Command } from '@oclif/core/command'
export { Config } from '@oclif/core/config'
export * as Flags from '@oclif/core/flags'
export type { Interfaces } from '@oclif/core'
