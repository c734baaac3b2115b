// Bundles dist/: each command, the API entry and the authoring entry become ES modules
// with shared chunks, and kysely, listr2 and chalk are bundled in. Start-up then reads a
// few files instead of hundreds (kysely alone is ~280 ESM files: ~70 ms per run on a small
// machine). Native and self-loading packages stay external. tsc has already written the
// type declarations into dist/.
//
// kysely and umzug are vendored instead (see VENDORED): each becomes one CommonJS file,
// dist/vendor/NAME.cjs, with a V8 code cache beside it (src/vendor/code-cache.ts), and the
// bundle imports it as `#NAME` (package.json "imports") through an ES module shim written here.
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

/**
 * The vendored packages: the module each one's bundle starts from, the packages it leaves to
 * `require` (tinyglobby: oclif has already loaded it), and the files it replaces by a stub.
 */
const VENDORED = {
  kysely: { entry: "export * from 'kysely'" },
  // umzug's engine without its command-line interface: `./cli` pulls in
  // @rushstack/ts-command-line, ~150 ms of start-up, for a CLI dbops never uses (oclif is ours)
  umzug: {
    entry: "export * from 'umzug/lib/umzug.js'",
    external: ['tinyglobby'],
    stubs: { [path.join('umzug', 'lib', 'cli.js')]: 'exports.UmzugCLI = class UmzugCLI {}' },
  },
}

/** Every import of a vendored package, static or dynamic, goes to its `#NAME` shim. */
const toVendored = {
  name: 'to-vendored',
  setup(b) {
    const names = Object.keys(VENDORED).join('|')
    b.onResolve({ filter: new RegExp(`^(${names})$`) }, (args) => ({ path: `#${args.path}`, external: true }))
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
  // jiti (loaded on demand through its own files)
  external: ['@oclif/core', 'better-sqlite3', 'pg', 'pg-native', 'jiti'],
  banner: {
    js: "import { createRequire as __dbopsCreateRequire } from 'node:module'; const require = __dbopsCreateRequire(import.meta.url);",
  },
  plugins: [toVendored],
  logLevel: 'warning',
})

const vendorDir = path.join(root, 'dist', 'vendor')
const { writeCodeCache } = await import(path.join(vendorDir, 'code-cache.js'))

/**
 * Node 20 loses a script's `import()` when V8 starts it from a code cache, so each `import(`
 * in a vendored package's code becomes the `__import(` that code-cache.ts provides. JSDoc
 * types such as `{import('umzug').X}` are left alone.
 */
const DYNAMIC_IMPORT = /(^|[\s(=,;:!&|?])import\(/gm

/** A plugin for the files of one vendored bundle: stubs in place of some, `__import()` in all. */
function vendoredSources(stubs) {
  return {
    name: 'vendored-sources',
    setup(b) {
      b.onLoad({ filter: /\.c?js$/ }, async (args) => {
        const stub = Object.entries(stubs).find(([file]) => args.path.endsWith(path.sep + file))
        const source = stub ? stub[1] : await fs.promises.readFile(args.path, 'utf8')
        return { contents: source.replace(DYNAMIC_IMPORT, '$1__import('), loader: 'js' }
      })
    },
  }
}

for (const [name, { entry, external = [], stubs = {} }] of Object.entries(VENDORED)) {
  const bundle = path.join(vendorDir, `${name}.cjs`)
  await build({
    stdin: { contents: entry, resolveDir: root, loader: 'js' },
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external,
    plugins: [vendoredSources(stubs)],
    logLevel: 'warning',
  })
  if (new RegExp(DYNAMIC_IMPORT.source, 'm').test(fs.readFileSync(bundle, 'utf8'))) throw new Error(`${bundle} still has an import()`)
  const names = Object.keys(createRequire(import.meta.url)(bundle)).filter((n) => n !== 'default')
  fs.writeFileSync(
    path.join(vendorDir, `${name}.js`),
    `// Written by scripts/bundle.js: ${name}, loaded from ${name}.cjs and its V8 code cache.
import { fileURLToPath } from 'node:url'
import { loadBundle } from './code-cache.js'

const vendored = loadBundle(fileURLToPath(new URL('./${name}.cjs', import.meta.url))).exports

export const {
${names.map((n) => `  ${n},`).join('\n')}
} = vendored
`,
  )
  writeCodeCache(bundle)
}
