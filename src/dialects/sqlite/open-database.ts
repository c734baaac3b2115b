/**
 * Every SQLite handle dbops opens comes from here, with better-sqlite3's addon path given
 * outright: its default loader, the `bindings` package, tries a dozen places first (~2 ms of
 * the first open). When the addon is not where a normal build puts it, `bindings` looks.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import Database from 'better-sqlite3'

let addonPath: string | undefined | null = null

/** better-sqlite3's compiled addon (`build/Release/better_sqlite3.node`), or undefined when elsewhere. */
function sqliteAddonPath(): string | undefined {
  if (addonPath === null) {
    try {
      const pkg = createRequire(import.meta.url).resolve('better-sqlite3/package.json')
      const file = path.join(path.dirname(pkg), 'build', 'Release', 'better_sqlite3.node')
      addonPath = fs.existsSync(file) ? file : undefined
    } catch {
      addonPath = undefined
    }
  }
  return addonPath
}

/** `new Database(file, options)`, with the addon loaded from its known path. */
export function openDatabase(file: string, options: Database.Options = {}): Database.Database {
  const nativeBinding = sqliteAddonPath()
  return new Database(file, nativeBinding === undefined ? options : { ...options, nativeBinding })
}
