// The import rules of src/ (`npm run lint:deps`), the layering of DESIGN.md's "Architecture":
//   faces     src/commands/, src/cli/, src/hooks/, src/server/, src/serve/, src/ui/, src/index.ts (the API)
//   features  src/migrate/, src/drift/, src/backup/, src/health/, src/inspect/, src/project/, src/fleet/, …
//   schema    src/schema/
//   dialects  src/dialects/: the Dialect interface and its ports; one folder per database
//   base      src/config/, src/sql/, src/errors.ts and the other files at the root of src/
// Each layer imports only from the layers below it. Dialects may name feature and schema types
// (a port is typed in their terms) but never import their code.

const faces = '^src/(commands|cli|hooks|server|serve|ui)/'
const features = '^src/(migrate|drift|backup|health|inspect|project|copy|doctor|lint|fleet)/'
const schema = '^src/schema/'
const dialects = '^src/dialects/'
const base = ['^src/(config|sql)/', '^src/[^/]+[.]ts$']

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the modules cannot be understood, loaded or tested one without the other.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-dialect-internals',
      comment:
        "A dialect's folder is its own: outside src/dialects/, reach it through the loader and the Dialect interface (src/dialects/*.ts).",
      severity: 'error',
      from: { path: '^src/', pathNot: dialects },
      to: { path: '^src/dialects/[^/]+/' },
    },
    {
      name: 'no-dialect-to-dialect',
      comment: 'One dialect does not use another: what both need belongs in src/dialects/ itself or below it.',
      severity: 'error',
      from: { path: '^src/dialects/([^/]+)/' },
      to: { path: '^src/dialects/[^/]+/', pathNot: '^src/dialects/$1/' },
    },
    {
      name: 'dialects-below-features',
      comment:
        'The dialects sit under the features and the schema: they may import their types (ports are typed in their terms), never their code.',
      severity: 'error',
      from: { path: dialects },
      to: { path: [faces, features, schema], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'schema-below-features',
      comment: 'The schema layer (models, the normalised schema, the pure diff) knows no feature and no face.',
      severity: 'error',
      from: { path: schema },
      to: { path: [faces, features] },
    },
    {
      name: 'features-below-faces',
      comment: 'Features return data; rendering and the command line are the faces’ business.',
      severity: 'error',
      from: { path: features },
      to: { path: faces },
    },
    {
      name: 'base-is-base',
      comment: 'The base (config, SQL text helpers, errors) imports nothing above it.',
      severity: 'error',
      from: { path: base, pathNot: '^src/(index|authoring)[.]ts$' },
      to: { path: [faces, features, schema, dialects] },
    },
    {
      name: 'no-api-entry-inside',
      comment: 'src/index.ts is the package’s API for its users; src/ imports the modules themselves.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports are dependencies too (for cycles), told apart by dependencyTypes
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
}
