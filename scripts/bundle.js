// Bundles dist/: each command, the API entry and the authoring entry become ES modules
// with shared chunks, and kysely, listr2 and chalk are bundled in. Start-up then reads a
// few files instead of hundreds (kysely alone is ~280 ESM files: ~70 ms per run on a small
// machine). Native and self-loading packages stay external. tsc has already written the
// type declarations into dist/.
//
// kysely is the exception among the bundled packages: it becomes one CommonJS file,
// dist/vendor/kysely.cjs, with a V8 code cache beside it (see src/vendor/code-cache.ts), and the
// bundle imports it as `#kysely` (package.json "imports"), through the ES module shim written here.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
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
  ...walk(path.join(src, 'hooks')),
  ...walk(path.join(src, 'commands')),
  path.join(src, 'vendor', 'code-cache.ts'),
]

/** Every import of kysely, static or dynamic, goes to the vendored copy. */
const kyselyVendor = {
  name: 'kysely-vendor',
  setup(b) {
    b.onResolve({ filter: /^kysely$/ }, () => ({ path: '#kysely', external: true }))
  },
}

await build({
  entryPoints,
  outdir: path.join(root, 'dist'),
  outbase: src,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // drivers (native code, optional natives), oclif (must be the instance bin/run.js loads),
  // jiti and umzug (loaded on demand through their own files)
  external: ['@oclif/core', 'better-sqlite3', 'pg', 'pg-native', 'jiti', 'umzug'],
  banner: {
    js: "import { createRequire as __dbopsCreateRequire } from 'node:module'; const require = __dbopsCreateRequire(import.meta.url);",
  },
  plugins: [kyselyVendor],
  logLevel: 'warning',
})

const vendor = path.join(root, 'dist', 'vendor')
const kyselyBundle = path.join(vendor, 'kysely.cjs')
/** kysely's `import()` (FileMigrationProvider) becomes the `__import()` that code-cache.ts provides. */
const noDynamicImport = {
  name: 'no-dynamic-import',
  setup(b) {
    b.onLoad({ filter: /[\\/]kysely[\\/].*\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8')
      return { contents: source.replace(/\bimport\(/g, '__import('), loader: 'js' }
    })
  },
}
await build({
  stdin: { contents: "export * from 'kysely'", resolveDir: root, loader: 'js' },
  plugins: [noDynamicImport],
  outfile: kyselyBundle,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
})
if (/\bimport\(/.test(fs.readFileSync(kyselyBundle, 'utf8'))) throw new Error(`${kyselyBundle} still has an import()`)
const names = Object.keys(createRequire(import.meta.url)(kyselyBundle)).filter((name) => name !== 'default')
fs.writeFileSync(
  path.join(vendor, 'kysely.js'),
  `// Written by scripts/bundle.js: kysely, loaded from kysely.cjs and its V8 code cache.
import { fileURLToPath } from 'node:url'
import { loadBundle } from './code-cache.js'

const kysely = loadBundle(fileURLToPath(new URL('./kysely.cjs', import.meta.url))).exports

export const {
${names.map((name) => `  ${name},`).join('\n')}
} = kysely
`,
)
const { writeCodeCache } = await import(path.join(vendor, 'code-cache.js'))
writeCodeCache(kyselyBundle)
