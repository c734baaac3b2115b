/**
 * SQLite's health checks: the file answers (`SELECT 1`), its size, whether it is readable
 * and writable, the pragmas that matter under concurrency (journal mode, busy timeout,
 * foreign keys), the WAL's size, free space on its filesystem, and with `deep` a
 * `quick_check` (it reads the whole file, so only on request).
 */
import fs from 'node:fs'
import path from 'node:path'
import { messageOf } from '../../errors.js'
import type { DbConnection, HealthComponent, HealthProbeOptions } from '../dialect.js'
import { roundMs, runProbe, warnAbove } from '../run-probe.js'
import { sqliteHandleOf } from './sqlite-catalog.js'

/** `quick_check` stops after this many problems: enough to name them, not a flood. */
const QUICK_CHECK_MAX_ERRORS = 10

const MB = 1024 * 1024

/** Whether the current process may access `file` with `mode` (`fs.constants.R_OK`…). */
function canAccess(file: string, mode: number): boolean {
  try {
    fs.accessSync(file, mode)
    return true
  } catch {
    return false
  }
}

/** Size in bytes of `file`, 0 when it does not exist. */
export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

/** Runs SQLite's health checks on an open connection; never throws for a failing check. */
export async function probeSqliteHealth(conn: DbConnection, options: HealthProbeOptions): Promise<HealthComponent[]> {
  const handle = sqliteHandleOf(conn)
  const file = conn.target.dialect === 'sqlite' ? conn.target.path : ':memory:'
  const onDisk = file !== ':memory:'
  const t = options.thresholds
  const components: HealthComponent[] = []

  components.push(
    await runProbe('connection', () => {
      const started = performance.now()
      handle.prepare('SELECT 1').get()
      const latencyMs = roundMs(performance.now() - started)
      const pageSize = handle.pragma('page_size', { simple: true }) as number
      const pageCount = handle.pragma('page_count', { simple: true }) as number
      return {
        status: warnAbove(latencyMs, t.latency_ms),
        latencyMs,
        details: {
          [conn.dialect.versionDetail]: conn.serverVersion,
          file,
          size_bytes: pageSize * pageCount,
          connect_ms: roundMs(conn.connectMs),
        },
      }
    }),
  )

  if (onDisk) {
    components.push(
      await runProbe('sqlite_file', () => {
        const readable = canAccess(file, fs.constants.R_OK)
        const writable = canAccess(file, fs.constants.W_OK)
        // the journal and the WAL are created beside the file: the directory must be writable too
        const directoryWritable = canAccess(path.dirname(file), fs.constants.W_OK)
        const stat = fs.statSync(file)
        const problems = [
          ...(readable ? [] : ['not readable']),
          ...(writable ? [] : ['not writable']),
          ...(directoryWritable ? [] : ['its directory is not writable (journal and WAL cannot be created)']),
        ]
        return {
          status: problems.length > 0 ? 'warn' : 'ok',
          details: {
            path: file,
            readable,
            writable,
            directory_writable: directoryWritable,
            mode: (stat.mode & 0o777).toString(8).padStart(4, '0'),
            owner_uid: stat.uid,
            ...(problems.length > 0 ? { problem: `for uid ${process.getuid?.() ?? '?'}: ${problems.join(', ')}` } : {}),
          },
        }
      }),
    )
  }

  components.push(
    await runProbe('sqlite_pragmas', () => {
      const journalMode = String(handle.pragma('journal_mode', { simple: true }))
      const busyTimeoutMs = handle.pragma('busy_timeout', { simple: true }) as number
      const foreignKeys = handle.pragma('foreign_keys', { simple: true }) === 1
      const synchronous = ['off', 'normal', 'full', 'extra'][handle.pragma('synchronous', { simple: true }) as number] ?? 'unknown'
      const notes: string[] = []
      if (busyTimeoutMs === 0) notes.push('busy_timeout is 0: a second writer fails at once with "database is locked"')
      return {
        status: notes.length > 0 ? 'warn' : 'ok',
        details: {
          journal_mode: journalMode,
          busy_timeout_ms: busyTimeoutMs,
          foreign_keys: foreignKeys,
          synchronous,
          ...(notes.length > 0 ? { notes } : {}),
        },
      }
    }),
  )

  if (onDisk) {
    components.push(
      await runProbe('sqlite_wal', () => {
        const walPath = `${file}-wal`
        const walBytes = fileSize(walPath)
        const limitBytes = t.wal_mb === undefined ? undefined : t.wal_mb * MB
        const status = warnAbove(walBytes, limitBytes)
        return {
          status,
          details: {
            wal_path: walPath,
            wal_bytes: walBytes,
            ...(status === 'warn'
              ? { note: 'the WAL keeps growing when checkpoints cannot finish: look for a long-running reader (dbops pool)' }
              : {}),
          },
        }
      }),
    )
    components.push(
      await runProbe('disk_space', () => {
        const dir = path.dirname(file)
        const stats = fs.statfsSync(dir)
        const freeBytes = stats.bavail * stats.bsize
        const totalBytes = stats.blocks * stats.bsize
        const minFree = t.free_disk_mb === undefined ? undefined : t.free_disk_mb * MB
        return {
          status: minFree !== undefined && freeBytes < minFree ? 'warn' : 'ok',
          details: {
            path: dir,
            free_bytes: freeBytes,
            total_bytes: totalBytes,
            free_space_pct: totalBytes > 0 ? Math.round((freeBytes / totalBytes) * 1000) / 10 : null,
          },
        }
      }),
    )
  }

  if (options.deep) {
    components.push(
      await runProbe('quick_check', () => {
        let rows: Array<{ quick_check: string }>
        try {
          rows = handle.pragma(`quick_check(${QUICK_CHECK_MAX_ERRORS})`) as Array<{ quick_check: string }>
        } catch (err) {
          // a badly damaged file makes the pragma itself fail (SQLITE_CORRUPT)
          return {
            status: 'fail',
            details: { result: 'failed', error: `quick_check could not finish: ${messageOf(err)}`, problems: [messageOf(err)] },
          }
        }
        const messages = rows.map((row) => row.quick_check)
        if (messages.length === 1 && messages[0] === 'ok') return { status: 'ok', details: { result: 'ok' } }
        return {
          status: 'fail',
          details: {
            result: 'failed',
            error: `quick_check found ${messages.length >= QUICK_CHECK_MAX_ERRORS ? `${QUICK_CHECK_MAX_ERRORS} or more` : messages.length} problem(s): ${messages[0] ?? ''}`,
            problems: messages,
          },
        }
      }),
    )
  }
  return components
}
