/**
 * What bin/run.js needs from oclif, bundled into dist/ with the rest of oclif so that the
 * commands and the entry point share one copy: start-up then reads one chunk instead of
 * ~120 files of @oclif/core and its dependencies.
 */
export { Config } from '@oclif/core/config'
export { flush } from '@oclif/core/flush'
export { run } from '@oclif/core/run'
