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
  ...walk(path.join(src, 'hooks')),
  ...walk(path.join(src, 'commands')),
  // not part of the API: bench/backup.bench.js times the pg_dump dbops picks
  path.join(src, 'dialects', 'postgres', 'find-pg-tool.ts'),
]

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
  // jiti (loaded on demand through its own files), libpg-query (loads its WebAssembly from beside itself)
  external: ['@oclif/core', 'better-sqlite3', 'pg', 'pg-native', 'jiti', 'libpg-query'],
  banner: {
    js: "import { createRequire as __dbopsCreateRequire } from 'node:module'; const require = __dbopsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
