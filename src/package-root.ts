/**
 * Where dbops is installed, found from this module's own location by walking up to the
 * package.json named `dbops`. Works from `src/` (tests), from `dist/` and from the bundled
 * chunks, wherever the bundler put this code.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined
let version: string | undefined

/** The directory holding dbops' package.json. */
export function packageRoot(): string {
  if (root) return root
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = path.join(dir, 'package.json')
    try {
      if ((JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string }).name === 'dbops') return (root = dir)
    } catch {
      // no package.json here (or not JSON): keep walking
    }
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('dbops: cannot find its own package.json')
    dir = parent
  }
}

/** dbops' version, from its package.json. */
export function dbopsVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version
  return version
}

/**
 * The path of one of dbops' own modules, `name` without extension (`authoring`, `index`):
 * the TypeScript source when dbops runs from source (tests), the built file otherwise.
 */
export function ownModulePath(name: string): string {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts')
  return path.join(packageRoot(), fromSource ? 'src' : 'dist', `${name}.${fromSource ? 'ts' : 'js'}`)
}
