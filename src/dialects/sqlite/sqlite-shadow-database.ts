/**
 * A throwaway SQLite database to replay migrations into: a file in a new temporary
 * directory, removed afterwards. Nothing is ever written next to the real database.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ResolvedConfig } from '../../config/resolve-config.js'

/** A shadow database: its config, and how to get rid of it. */
export interface ShadowDatabase {
  config: ResolvedConfig
  /** Removes the temporary directory. Safe to call twice. */
  dispose(): Promise<void>
}

/** Creates the temporary directory; the file itself is created by whoever connects first (write mode). */
export function createSqliteShadow(config: ResolvedConfig): ShadowDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-shadow-'))
  return {
    config: { ...config, target: { dialect: 'sqlite', path: path.join(dir, 'shadow.db') } },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
