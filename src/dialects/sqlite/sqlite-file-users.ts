/**
 * Which processes use a SQLite database, for lock messages: SQLite cannot say who holds its
 * locks, but on Linux the kernel can. `/proc/locks` lists every fcntl lock with the pid that
 * holds it, which names the writer exactly; `/proc/<pid>/fd` shows who has the file (or its
 * `-wal` / `-shm`) open, readers and waiters included. Best effort: elsewhere, or without
 * permission to look, the lists are empty.
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
    if (opened) users.push(describeProcess(pid))
  }
  return users
}

/** SQLite's lock bytes in a database file (unix VFS): PENDING, then RESERVED, then the SHARED range. */
const PENDING_BYTE = 0x40000000
/** WAL mode's write lock: this byte of the `-shm` file. */
const WAL_WRITE_LOCK_BYTE = 120

/**
 * Processes holding SQLite's write lock on `file`, from the kernel's table of fcntl locks: a
 * write lock on the database file's lock bytes (a writer in rollback-journal mode, or any
 * `BEGIN EXCLUSIVE`), or on the write-lock byte of its `-shm` (a writer in WAL mode). Unlike
 * {@link findSqliteFileUsers}, readers and processes waiting for the lock are not in it.
 */
export function findSqliteWriters(file: string): LockHolder[] {
  if (process.platform !== 'linux') return []
  let table: string
  try {
    table = fs.readFileSync('/proc/locks', 'utf8')
  } catch {
    return []
  }
  const targets = [
    { id: fileId(file), holds: (start: number) => start >= PENDING_BYTE },
    { id: fileId(`${file}-shm`), holds: (start: number, end: number) => start <= WAL_WRITE_LOCK_BYTE && end >= WAL_WRITE_LOCK_BYTE },
  ]
  const pids = new Set<string>()
  // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2154688 1073741826 1073742335"; "->" marks a blocked request
  for (const line of table.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+:[0-9a-f]+:\d+)\s+(\d+)\s+(\d+|EOF)\s*$/.exec(line)
    if (!m || m[1] !== 'POSIX') continue
    const [, , pid, id, start, end] = m
    const endByte = end === 'EOF' ? Number.MAX_SAFE_INTEGER : Number(end)
    if (Number(pid) > 0 && Number(pid) !== process.pid && targets.some((t) => t.id === id && t.holds(Number(start), endByte)))
      pids.add(pid!)
  }
  return [...pids].map(describeProcess)
}

/** A file's identity as /proc/locks writes it: "major:minor:inode", the device numbers in hex. */
function fileId(file: string): string | undefined {
  try {
    const { dev, ino } = fs.statSync(file, { bigint: true })
    // glibc's encoding of a device number: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
    return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino}`
  } catch {
    return undefined
  }
}

/** A process as a {@link LockHolder}: its command line as `applicationName`, its start time as `since`. */
function describeProcess(pid: string): LockHolder {
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
  return { pid: Number(pid), applicationName: command, clientAddress: undefined, since: processStart(pid) }
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

/**
 * "pid 123 (node bin/run.js migrate up, since …), pid 456 (…)", or, when the list is empty, a
 * sentence saying no such process was found (`none` names what was looked for).
 */
export function describeFileUsers(users: LockHolder[], none = 'other process with the file open'): string {
  if (users.length === 0) return `no ${none} was found (it may have finished, or run on another host or as another user)`
  return users
    .map((u) => `pid ${u.pid} (${[u.applicationName, u.since ? `since ${u.since.toISOString()}` : undefined].filter(Boolean).join(', ')})`)
    .join(', ')
}
