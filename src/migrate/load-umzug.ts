/**
 * Loads umzug's engine without its command-line interface. umzug's entry point requires
 * `./cli`, which pulls in @rushstack/ts-command-line: about 150 ms of start-up on a small
 * machine, for a CLI dbops never uses (oclif is ours). A stub is put in its place in the
 * require cache before the engine is loaded; if that fails for any reason (a future umzug
 * layout), the full package is loaded instead.
 */
import { createRequire } from 'node:module'
import type { Umzug as UmzugClass } from 'umzug'

let loaded: typeof UmzugClass | undefined

/** umzug's `Umzug` class. */
export function loadUmzug(): typeof UmzugClass {
  if (loaded) return loaded
  const require = createRequire(import.meta.url)
  try {
    const cliPath = require.resolve('umzug/lib/cli.js')
    if (!require.cache[cliPath]) {
      const Module = require('node:module') as new (id: string) => NodeJS.Module
      const stub = new Module(cliPath)
      stub.filename = cliPath
      stub.loaded = true
      stub.exports = { UmzugCLI: class {} }
      require.cache[cliPath] = stub
    }
    loaded = (require('umzug/lib/umzug.js') as { Umzug: typeof UmzugClass }).Umzug
  } catch {
    loaded = (require('umzug') as { Umzug: typeof UmzugClass }).Umzug
  }
  return loaded
}
