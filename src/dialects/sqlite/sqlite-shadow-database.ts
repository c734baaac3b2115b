/**
 * A throwaway SQLite database to replay migrations into: a file in a new temporary
 * directory, removed afterwards. Nothing is ever written next to the real database.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ResolvedConfig } from '../../config/resolve-config.js'
import type { ShadowDatabase } from '../dialect.js'

/**
 * Creates the temporary directory, removed by `dispose`; the file itself is created by whoever
 * connects first (write mode).
 */
export function createSqliteShadow(config: ResolvedConfig): ShadowDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-shadow-'))
  return {
    config: { ...config, target: { dialect: 'sqlite', path: path.join(dir, 'shadow.db') } },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
