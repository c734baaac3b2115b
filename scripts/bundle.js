// Bundles dist/: each command, the API entry and the authoring entry become ES modules
// with shared chunks, and kysely, listr2 and chalk are bundled in. Start-up then reads a
// few files instead of hundreds (kysely alone is ~280 ESM files: ~70 ms per run on a small
// machine). Native and self-loading packages stay external. tsc has already written the
// type declarations into dist/.
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const src = path.join(root, 'src')

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    return entry.isDirectory() ? walk(file) : entry.name.endsWith('.ts') ? [file] : []
  })
}

const entryPoints = [
  path.join(src, 'index.ts'),
  path.join(src, 'authoring.ts'),
  path.join(src, 'cli', 'top-level-error.ts'),
  path.join(src, 'cli', 'main.ts'),
  ...walk(path.join(src, 'hooks')),
  ...walk(path.join(src, 'commands')),
  // not part of the API: bench/backup.bench.js times the pg_dump dbops picks
  path.join(src, 'dialects', 'postgres', 'find-pg-tool.ts'),
]

/**
 * oclif requires these when it loads but uses them only on paths a dbops command rarely
 * takes: help templates (ejs), finding plugins and commands without a manifest (tinyglobby,
 * minimatch, lilconfig), spinners (cli-spinners), DEBUG=* logging (debug). In the bundle each
 * is a proxy that requires the package from oclif's own dependencies on first use, so a run
 * neither compiles nor evaluates their ~270 kB. oclif creates its loggers on every run: with
 * no DEBUG in the environment (debug's switch) they are no-ops and debug is not loaded.
 */
const LAZY_IN_OCLIF = ['debug', 'ejs', 'minimatch', 'tinyglobby', 'lilconfig', 'cli-spinners']

/** esbuild plugin: `require(name)` from inside @oclif/core becomes a lazy proxy of the package. */
const lazyOclifDependencies = {
  name: 'lazy-oclif-dependencies',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_IN_OCLIF.join('|')})$`)
    b.onResolve({ filter }, (args) =>
      args.importer.includes(`${path.sep}@oclif${path.sep}core${path.sep}`) ? { path: args.path, namespace: 'lazy-oclif' } : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'lazy-oclif' }, (args) => ({
      loader: 'js',
      contents: `
const { createRequire } = require('node:module')
let real
const load = () => (real ??= createRequire(require.resolve('@oclif/core/package.json'))(${JSON.stringify(args.path)}))
// a function target, so a package that is a function (debug) can be called through it; none
// of these packages sets __esModule, so reading it need not load the package
module.exports = new Proxy(function () {}, {
  apply: (_, self, argv) => (${args.path === 'debug'} && !process.env.DEBUG ? () => undefined : Reflect.apply(load(), self, argv)),
  get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
  has: (_, key) => key in load(),
})
`,
    }))
  },
}

/** esbuild plugin: a runtime import of 'kysely' fails the build (src/kysely-runtime.ts loads it on first use). */
const kyselyOnlyOnDemand = {
  name: 'kysely-only-on-demand',
  setup(b) {
    b.onResolve({ filter: /^kysely(\/|$)/ }, (args) => ({
      errors: [
        { text: `${path.relative(root, args.importer)} imports kysely: take it from src/kysely-runtime.ts, which loads it on first use` },
      ],
    }))
  },
}

// Kysely in one CommonJS file, required by src/kysely-runtime.ts the first time it is used
await build({
  entryPoints: [path.join(root, 'node_modules', 'kysely', 'dist', 'esm', 'index.js')],
  outfile: path.join(root, 'dist', 'vendor', 'kysely.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
})

await build({
  plugins: [lazyOclifDependencies, kyselyOnlyOnDemand],
  entryPoints,
  outdir: path.join(root, 'dist'),
  outbase: src,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // better-sqlite3 (native code), pg's optional natives and Cloudflare socket, jiti (loaded on
  // demand through its own files), libpg-query (loads its WebAssembly from beside itself), and
  // what oclif loads only when running TypeScript sources in development (typescript, ts-node,
  // tsx). oclif is bundled: bin/run.js loads it from dist/cli/main.js, the copy the commands
  // use. pg is bundled too: its ~40 files cost ~18 ms of every PostgreSQL run when read one by one.
  external: ['better-sqlite3', 'pg-native', 'pg-cloudflare', 'jiti', 'libpg-query', 'typescript', 'ts-node', 'tsx'],
  banner: {
    js: "import { createRequire as __dbopsCreateRequire } from 'node:module'; const require = __dbopsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
