/**
 * Kysely's runtime, loaded on first use. Kysely is ~470 kB of code: compiled and evaluated on
 * every run it is ~17 ms and ~4 MB, while `migrate status`, `up` and `down` never need it (the
 * history table is read through each connection's own `query`). So dbops' code takes `sql`,
 * `Kysely`, `CompiledQuery` and the dialects from here, never from 'kysely' itself (types
 * excepted): each is a stand-in that loads Kysely the first time it is called, constructed or
 * read. The built package loads `dist/vendor/kysely.cjs`, Kysely in one file
 * (scripts/bundle.js); from the sources (tests) it loads the package's CommonJS build.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as KyselyModule from 'kysely'
import { packageRoot } from './package-root.js'

let loaded: typeof KyselyModule | undefined

/** The Kysely module, loaded on the first call. */
export function kyselyModule(): typeof KyselyModule {
  if (loaded) return loaded
  const require = createRequire(path.join(packageRoot(), 'package.json'))
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts')
  const file = fromSource ? 'kysely' : path.join(packageRoot(), 'dist', 'vendor', 'kysely.cjs')
  loaded = require(file) as typeof KyselyModule
  return loaded
}

/** A stand-in for the export `name` of Kysely: calling, constructing or reading it loads Kysely. */
function lazy<K extends keyof typeof KyselyModule>(name: K): (typeof KyselyModule)[K] {
  const real = () => kyselyModule()[name] as object
  return new Proxy(function () {}, {
    apply: (_, self, args) => Reflect.apply(real() as (...a: unknown[]) => unknown, self, args),
    construct: (_, args) => Reflect.construct(real() as new (...a: unknown[]) => object, args),
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
  }) as unknown as (typeof KyselyModule)[K]
}

export const sql = lazy('sql')
export const Kysely = lazy('Kysely')
export type Kysely<DB> = KyselyModule.Kysely<DB>
export const CompiledQuery = lazy('CompiledQuery')
export type CompiledQuery<R = unknown> = KyselyModule.CompiledQuery<R>
export const SqliteDialect = lazy('SqliteDialect')
export const PostgresDialect = lazy('PostgresDialect')
