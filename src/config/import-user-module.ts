/**
 * Loading the user's TypeScript and JavaScript files (config, models, migrations) without a
 * build step, through one jiti instance per kind. jiti's file cache is on: the transpiled
 * output is kept (keyed by the file's content), so only the first run after an edit pays for
 * the transform (~0.5 s), not every run. `import … from 'dbops'` resolves to this copy of
 * dbops even when the project has not installed it (npx, a global install).
 */
import { ownModulePath } from '../package-root.js'

/** What 'dbops' resolves to inside the loaded file. */
export type DbopsEntry = 'authoring' | 'full'

type Jiti = { import: <T>(id: string) => Promise<T> }
const instances = new Map<string, Promise<Jiti>>()

/**
 * Imports `file` and returns its module namespace. `entry` chooses what `'dbops'` means in
 * it: the light authoring helpers (config and models files) or the full API (migrations).
 * `virtualModules` pins modules to the instances dbops itself uses (kysely for migrations).
 */
export async function importUserModule<T = Record<string, unknown>>(
  file: string,
  options: { entry: DbopsEntry; interopDefault: boolean; virtualModules?: Record<string, unknown> },
): Promise<T> {
  const key = `${options.entry}:${options.interopDefault}:${Object.keys(options.virtualModules ?? {}).join(',')}`
  let jiti = instances.get(key)
  if (!jiti) {
    jiti = import('jiti').then(({ createJiti }) => {
      return createJiti(import.meta.url, {
        moduleCache: false,
        fsCache: true,
        interopDefault: options.interopDefault,
        alias: { dbops: ownModulePath(options.entry === 'full' ? 'index' : 'authoring') },
        virtualModules: options.virtualModules,
      })
    })
    instances.set(key, jiti)
  }
  return (await jiti).import<T>(file)
}
