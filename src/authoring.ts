/**
 * What config and models files import from 'dbops' when dbops itself loads them: the
 * helpers for writing those files, and nothing that pulls in a database driver. Loading a
 * `dbops.config.ts` then costs milliseconds, not the whole library. (Applications importing
 * 'dbops' get the full API, src/index.ts, which re-exports all of this.)
 */
export { defineConfig, type DbopsConfigFile, type DatabaseFileSettings } from './config/config-file.js'
export { col, raw, Column, type SqlText, type RawSql, type ColumnDefinition, type TypeTriple } from './schema/column-builder.js'
export {
  table,
  defineModels,
  isTable,
  isModels,
  type Table,
  type Models,
  type TableOptions,
  type IndexDefinition,
  type ForeignKeyDefinition,
  type InferDatabase,
  type InferTable,
  type InferDialect,
} from './schema/define-models.js'
