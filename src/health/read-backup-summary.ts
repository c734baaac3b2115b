/**
 * A minimal reader of backups for `dbops health`, until the backup module's `listBackups` is
 * plugged in (see health-sources.ts): the `*.json` manifests in the backup directory, with
 * their `created_at` (ISO 8601) and `verification` (`none`, `hash`, `read`, `restore`).
 * Unreadable or foreign JSON files are skipped.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ResolvedConfig } from '../config/resolve-config.js'
import { OperationError, messageOf } from '../errors.js'
import type { BackupSummary } from './check-health.js'

const LEVELS = ['none', 'hash', 'read', 'restore'] as const

/** The newest backup manifest in `config.backup.dir` (none: all fields undefined). */
export async function readBackupSummary(config: ResolvedConfig): Promise<BackupSummary> {
  const dir = config.backup.dir
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { newestAt: undefined, level: undefined, file: undefined, count: 0 }
    throw new OperationError('BACKUP_DIR_UNREADABLE', `Cannot read the backup directory ${dir}: ${messageOf(err)}`, { cause: err })
  }
  let newest: BackupSummary = { newestAt: undefined, level: undefined, file: undefined, count: 0 }
  let count = 0
  for (const entry of entries) {
    if (!entry.endsWith('.json')) continue
    let manifest: { created_at?: unknown; verification?: unknown; file?: unknown }
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, entry), 'utf8'))
    } catch {
      continue // being written, or not ours
    }
    const createdAt = typeof manifest.created_at === 'string' ? new Date(manifest.created_at) : undefined
    if (!createdAt || Number.isNaN(createdAt.getTime())) continue
    count++
    if (newest.newestAt === undefined || createdAt > newest.newestAt) {
      const level = LEVELS.find((l) => l === manifest.verification) ?? 'none'
      const file = typeof manifest.file === 'string' ? manifest.file : entry.replace(/\.json$/, '')
      newest = { newestAt: createdAt, level, file: path.join(dir, file), count: 0 }
    }
  }
  return { ...newest, count }
}
