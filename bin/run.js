#!/usr/bin/env node
// dbops entry point. Errors outside a command (unknown command, broken install) are mapped
// onto the same exit codes and JSON shape as errors inside one.
import fs from 'node:fs'
import module from 'node:module'
import path from 'node:path'

// Node 22.1+ can keep V8's compiled code of the modules between runs (NODE_DISABLE_COMPILE_CACHE=1
// turns it off); Node 20 has no such cache.
module.enableCompileCache?.()
// oclif and what it loads, bundled (scripts/bundle.js): after the cache is on
const { Config, flush, run } = await import('../dist/cli/main.js')

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
 * `withPlugins: false` leaves out the core plugins (help, autocomplete) too.
 */
async function loadConfig(withPlugins) {
  const root = new URL('..', import.meta.url).pathname
  const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  if (!withPlugins) pjson.oclif = { ...pjson.oclif, plugins: [] }
  const localeCompare = String.prototype.localeCompare
  String.prototype.localeCompare = function (that) {
    const self = String(this)
    return self < that ? -1 : self > that ? 1 : 0
  }
  try {
    return await Config.load({ root, pjson, userPlugins: false, devPlugins: false })
  } finally {
    String.prototype.localeCompare = localeCompare
  }
}

/**
 * The config for running `argv`. The core plugins add only `help` and `autocomplete`; a run of
 * one of dbops' own commands or topics (or `--version`) does not read them (~6 ms). Anything
 * else (those two, the root help, an unknown command and its suggestion) gets them.
 */
async function configFor(argv) {
  const [first] = argv
  if (first === undefined || (first.startsWith('-') && first !== '--version')) return loadConfig(true)
  const config = await loadConfig(false)
  if (first === '--version' || config.findCommand(first) || config.findTopic(first)) return config
  return loadConfig(true)
}

try {
  const argv = process.argv.slice(2)
  await run(argv, await configFor(argv))
  await flush()
} catch (err) {
  const { handleTopLevelError } = await import('../dist/cli/top-level-error.js')
  await handleTopLevelError(err, process.argv.slice(2))
}

// Every command awaits what it starts (connections, child processes, files) before it
// returns, so all that can still hold the event loop open here is Node's own housekeeping:
// file handles of loaded modules closing, background GC work, ~20 ms of every run. Leave
// once stdout and stderr have been handed to the OS, with the exit code already set.
await Promise.all([process.stdout, process.stderr].map(drained))
process.exit()

/** Resolves when `stream` has nothing left buffered in this process. */
function drained(stream) {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    stream.once('drain', resolve)
    stream.once('close', resolve)
    stream.once('error', resolve)
  })
}
