/**
 * A CommonJS bundle loaded with V8's code cache. Node 20 has no compile cache for ES modules,
 * and kysely is half a megabyte of JavaScript that every database command loads: parsing it
 * took 21–32 ms of each run, against 12–16 ms when V8 starts from the cache the build wrote.
 * The cache is only a hint: V8 rejects one made by another Node or with other flags, and the
 * bundle is then compiled from its source as usual.
 *
 * A bundle cannot use `import()`: Node 20 loses a script's dynamic-import callback when V8
 * starts it from a code cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The build rewrites
 * kysely's one `import()` (FileMigrationProvider's) into `__import()`, which the wrapper
 * provides: the `import()` of this module, for absolute paths and package names.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'

/** Where the code cache of `bundle` lives. */
export function codeCachePath(bundle: string): string {
  return `${bundle}.cache`
}

function compile(bundle: string, cachedData: Buffer | undefined): vm.Script {
  const source = fs.readFileSync(bundle, 'utf8')
  return new vm.Script(`(function (exports, require, module, __filename, __dirname, __import) {${source}\n})`, {
    filename: bundle,
    cachedData,
  })
}

function evaluate(script: vm.Script, bundle: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  const dynamicImport = (specifier: string): Promise<unknown> => import(specifier)
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle), dynamicImport)
  return module.exports
}

function readCache(bundle: string): Buffer | undefined {
  try {
    return fs.readFileSync(codeCachePath(bundle))
  } catch {
    return undefined
  }
}

/** What {@link loadBundle} returns: the exports, and whether V8 started from the code cache. */
export interface LoadedBundle {
  exports: Record<string, unknown>
  cache: 'used' | 'rejected' | 'missing'
}

/** The exports of the CommonJS file `bundle`, compiled from its code cache when V8 accepts it. */
export function loadBundle(bundle: string): LoadedBundle {
  const cachedData = readCache(bundle)
  const script = compile(bundle, cachedData)
  const cache = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used'
  return { exports: evaluate(script, bundle), cache }
}

/**
 * Writes the code cache of `bundle` (after running it, so it holds what loading compiles).
 * Returns the cache's size in bytes. For the build.
 */
export function writeCodeCache(bundle: string): number {
  const script = compile(bundle, undefined)
  evaluate(script, bundle)
  const data = script.createCachedData()
  fs.writeFileSync(codeCachePath(bundle), data)
  return data.length
}
