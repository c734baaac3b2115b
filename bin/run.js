#!/usr/bin/env node
// dbops entry point. Errors outside a command (unknown command, broken install) are mapped
// onto the same exit codes and JSON shape as errors inside one.
import { run, flush } from '@oclif/core'

try {
  await run(process.argv.slice(2), import.meta.url)
  await flush()
} catch (err) {
  const { handleTopLevelError } = await import('../dist/cli/top-level-error.js')
  await handleTopLevelError(err, process.argv.slice(2), import.meta.url)
}
