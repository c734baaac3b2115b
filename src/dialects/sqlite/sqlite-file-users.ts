/**
 * Which processes have a SQLite database open, for a lock-timeout message: SQLite cannot say
 * who holds its write lock, but on Linux `/proc/<pid>/fd` shows who has the file (or its
 * `-wal` / `-shm`) open. Best effort: elsewhere, or without permission to look, the list is
 * empty.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { LockHolder } from '../dialect.js'

/** At most this many processes are examined, so a busy host does not stall the message. */
const MAX_PROCESSES = 5000

/**
 * Processes other than this one that have `file`, `file-wal` or `file-shm` open, with their
 * command line as `applicationName` and their start time as `since` when known.
 */
export function findSqliteFileUsers(file: string): LockHolder[] {
  if (process.platform !== 'linux') return []
  let real: string
  try {
    real = fs.realpathSync(file)
  } catch {
    return []
  }
  const targets = new Set([real, `${real}-wal`, `${real}-shm`, `${real}-journal`])
  let pids: string[]
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
  } catch {
    return []
  }
  const users: LockHolder[] = []
  for (const pid of pids.slice(0, MAX_PROCESSES)) {
    const fdDir = path.join('/proc', pid, 'fd')
    let fds: string[]
    try {
      fds = fs.readdirSync(fdDir)
    } catch {
      continue
    }
    const opened = fds.some((fd) => {
      try {
        return targets.has(fs.readlinkSync(path.join(fdDir, fd)))
      } catch {
        return false
      }
    })
    if (!opened) continue
    let command: string | undefined
    try {
      command = fs
        .readFileSync(path.join('/proc', pid, 'cmdline'), 'utf8')
        .split('\0')
        .filter(Boolean)
        .join(' ')
        .slice(0, 200)
    } catch {
      command = undefined
    }
    users.push({
      pid: Number(pid),
      applicationName: command,
      clientAddress: undefined,
      since: processStart(pid),
    })
  }
  return users
}

/** Start time of a process: field 22 of /proc/PID/stat (clock ticks after boot, 100 a second on Linux) plus the boot time. */
function processStart(pid: string): Date | undefined {
  try {
    const stat = fs.readFileSync(path.join('/proc', pid, 'stat'), 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const bootTime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1])
    if (!Number.isFinite(ticks) || !Number.isFinite(bootTime)) return undefined
    return new Date((bootTime + ticks / 100) * 1000)
  } catch {
    return undefined
  }
}

/** "pid 123 (node bin/run.js migrate up, since …), pid 456 (…)", or a sentence saying none were found. */
export function describeFileUsers(users: LockHolder[]): string {
  if (users.length === 0)
    return 'no other process with the file open was found (it may have finished, or run on another host or as another user)'
  return users
    .map((u) => `pid ${u.pid} (${[u.applicationName, u.since ? `since ${u.since.toISOString()}` : undefined].filter(Boolean).join(', ')})`)
    .join(', ')
}
