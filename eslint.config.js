// Lint with zero warnings (`npm run lint`); type-aware rules cover src, test and bench.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const DIALECT_NAME = '/^(postgres|sqlite)$/'
const ASK_THE_DIALECT =
  'Compare dialect names only in src/dialects/ (the loader picks the dialect) and src/config/; elsewhere ask the dialect: a capability (dialect.supportsSchemas), its traits (dialectTraits(name)), its displayName.'

// Shared code asks a dialect what it can do instead of which one it is (STYLE.md, DESIGN.md
// "Architecture"). Part of `npm run lint`, with dependency-cruiser's import rules
// (.dependency-cruiser.cjs).
const dialectNames = {
  files: ['src/**/*.ts'],
  ignores: ['src/dialects/**', 'src/config/**'],
  rules: {
    'no-restricted-syntax': [
      'error',
      { selector: `BinaryExpression[operator=/^[!=]==?$/] > Literal[value=${DIALECT_NAME}]`, message: ASK_THE_DIALECT },
      { selector: `SwitchCase > Literal.test[value=${DIALECT_NAME}]`, message: ASK_THE_DIALECT },
    ],
  },
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/.work/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // the web console of `dbops serve`: plain browser scripts
    files: ['console/**/*.js'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly', Node: 'readonly', URLSearchParams: 'readonly' },
    },
  },
  dialectNames,
)
