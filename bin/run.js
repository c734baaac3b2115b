#!/usr/bin/env node
// dbops entry point. Errors outside a command (unknown command, broken install) are mapped
// onto the same exit codes and JSON shape as errors inside one.
import { Config, flush, run } from '@oclif/core'

// Node 21+ has a global `navigator` ({ userAgent: 'Node.js/21' }); Node 20 does not, so pg's
// "am I in a Cloudflare Worker?" check falls back to `new Response(…)`, which loads undici:
// ~25 ms of every PostgreSQL run. Give Node 20 the same minimal navigator newer Nodes have.
if (globalThis.navigator === undefined) {
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node.split('.')[0]}` }),
    configurable: true,
    writable: true,
  })
}

/**
 * Loads oclif's config. oclif sorts command ids with localeCompare while loading, and the
 * first localeCompare initialises ICU's collator: ~35 ms of every start-up. Command ids are
 * ASCII, for which code-unit order is the same order, so load with a plain comparison and
 * restore localeCompare right after. dbops has no user-installed plugins: skip that lookup.
 */
async function loadConfig() {
  const localeCompare = String.prototype.localeCompare
  String.prototype.localeCompare = function (that) {
    const self = String(this)
    return self < that ? -1 : self > that ? 1 : 0
  }
  try {
    return await Config.load({ root: new URL('..', import.meta.url).pathname, userPlugins: false, devPlugins: false })
  } finally {
    String.prototype.localeCompare = localeCompare
  }
}

try {
  await run(process.argv.slice(2), await loadConfig())
  await flush()
} catch (err) {
  const { handleTopLevelError } = await import('../dist/cli/top-level-error.js')
  await handleTopLevelError(err, process.argv.slice(2), import.meta.url)
}
