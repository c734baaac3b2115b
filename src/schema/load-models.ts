/**
 * Loading the models module (the config's `models` key, or `--models`): TypeScript or
 * JavaScript through jiti, no build step, with `import … from 'dbops'` resolving to this copy
 * of dbops. Failures are {@link ConfigError}s (exit 2) that name the file.
 */
import fs from 'node:fs'
import path from 'node:path'
import { locateLoadError } from '../config/config-file.js'
import { importUserModule } from '../config/import-user-module.js'
import { ConfigError } from '../errors.js'
import { type Table, isModels, isTable } from './define-models.js'

/** A loaded models module. */
export interface LoadedModels {
  /** Absolute path of the module. */
  path: string
  /** The path as shown in messages (relative to the working directory when inside it). */
  label: string
  tables: Table[]
}

/**
 * Imports the models module and collects its tables: the default export made with
 * `defineModels()` (or an object or array of tables), else every named export made with
 * `table()`.
 *
 * @example
 * const { tables, label } = await loadModels(config.modelsPath!, { cwd: config.cwd })
 * const target = modelsToSchema(tables, config.target.dialect, { source: label })
 */
export async function loadModels(file: string, options: { cwd?: string } = {}): Promise<LoadedModels> {
  const cwd = options.cwd ?? process.cwd()
  const absolute = path.resolve(cwd, file)
  const relative = path.relative(cwd, absolute)
  const label = relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative
  if (!fs.existsSync(absolute)) {
    throw new ConfigError(`Models file ${label} does not exist`, {
      code: 'MODELS_FILE_MISSING',
      hint:
        'Check `models` in dbops.config.ts (or --models), or create it: `dbops schema pull --out ' +
        label +
        '` writes one from the database.',
    })
  }
  let mod: Record<string, unknown>
  try {
    mod = await importUserModule(absolute, { entry: 'authoring', interopDefault: false })
  } catch (err) {
    throw new ConfigError(`Could not load models ${label}: ${locateLoadError(err, absolute)}`, {
      code: 'MODELS_LOAD_FAILED',
      hint: `Fix the error in ${label}; it must import its helpers from 'dbops'.`,
      cause: err,
    })
  }
  const tables = collectTables(mod)
  if (tables.length === 0) {
    throw new ConfigError(`${label} exports no tables`, {
      code: 'MODELS_EMPTY',
      hint: "Export tables made with table() from 'dbops', and `export default defineModels({ … })`.",
    })
  }
  return { path: absolute, label, tables }
}

/** The tables of a module namespace (see {@link loadModels}). */
export function collectTables(mod: Record<string, unknown>): Table[] {
  const fromValue = (value: unknown): Table[] | undefined => {
    if (isModels(value)) return Object.values(value.tables)
    if (Array.isArray(value) && value.length > 0 && value.every(isTable)) return value
    if (typeof value === 'object' && value !== null && !isTable(value)) {
      const values = Object.values(value)
      if (values.length > 0 && values.every(isTable)) return values
    }
    return undefined
  }
  const fromDefault = fromValue(mod.default)
  if (fromDefault) return fromDefault
  const named = Object.values(mod).filter(isTable)
  return [...new Set(named)]
}
