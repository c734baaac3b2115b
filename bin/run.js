#!/usr/bin/env node
// dbops entry point. Errors outside a command (unknown command, broken install) are mapped
// onto the same exit codes and JSON shape as errors inside one.
import { Config, flush, run } from '@oclif/core'

try {
  // dbops has no user-installed plugins: skip looking for them at every start.
  const config = await Config.load({ root: new URL('..', import.meta.url).pathname, userPlugins: false, devPlugins: false })
  await run(process.argv.slice(2), config)
  await flush()
} catch (err) {
  const { handleTopLevelError } = await import('../dist/cli/top-level-error.js')
  await handleTopLevelError(err, process.argv.slice(2), import.meta.url)
}
