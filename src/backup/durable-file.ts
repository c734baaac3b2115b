/**
 * File-system steps that make a backup durable and private: owner-only files, fsync of a
 * file and of its directory (a rename is only durable once the directory is), atomic
 * replacement through a temporary name, free space, and sha256 of a file (a large one in a
 * worker thread, so hashing runs on the second core while the main thread checks the copy).
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Worker } from 'node:worker_threads'

/** Mode of every file dbops writes into the backup directory: the owner reads and writes. */
export const PRIVATE_FILE_MODE = 0o600

/** Creates `file` empty and owner-only; fails if it exists (never clobbers). */
export function createPrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'wx', PRIVATE_FILE_MODE))
}

/** fsyncs a file's data and metadata. */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** fsyncs a directory, so the renames and unlinks in it survive a power cut. */
export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Writes `text` to `file` atomically: a temporary owner-only file beside it, fsync, rename.
 * Readers see the old content or the new, never a half-written file. The caller fsyncs the
 * directory when the rename itself must be durable.
 */
export function writeFileAtomically(file: string, text: string, tempName: string): void {
  const temp = path.join(path.dirname(file), tempName)
  const fd = fs.openSync(temp, 'w', PRIVATE_FILE_MODE)
  try {
    fs.writeFileSync(fd, text)
    fs.fsyncSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    throw err
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(temp, file)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw err
  }
}

/** Bytes available to this user in the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir)
  return stats.bavail * stats.bsize
}

/** Removes files, ignoring those already gone. */
export function removeQuietly(...files: string[]): void {
  for (const file of files) {
    try {
      fs.rmSync(file, { force: true })
    } catch {
      // best effort: a leftover temporary file is swept by the next run
    }
  }
}

// CommonJS, because an `eval` worker is not a module. One reused 1 MiB buffer and synchronous
// reads (the worker has nothing else to do): memory stays flat whatever the file's size.
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const crypto = require('node:crypto')
const fs = require('node:fs')
try {
  const hash = crypto.createHash('sha256')
  const buffer = Buffer.allocUnsafe(1 << 20)
  const fd = fs.openSync(workerData.file, 'r')
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  parentPort.postMessage({ sha256: hash.digest('hex') })
} catch (err) {
  parentPort.postMessage({ error: err.message, code: err.code })
}
`

/**
 * Files up to this size are hashed in this thread: starting a worker costs about as much as
 * hashing 8 MiB (~50 ms on a small machine), and a small file's hash ends before it would.
 */
const IN_THREAD_HASH_BYTES = 8 * 1024 * 1024

/**
 * sha256 (hex) of a file. A large one is hashed in a worker thread: the main thread stays free
 * for the checks that run at the same time (`integrity_check` is synchronous in better-sqlite3).
 */
export async function sha256File(file: string): Promise<string> {
  return (await fs.promises.stat(file)).size <= IN_THREAD_HASH_BYTES ? sha256InThread(file) : sha256InWorker(file)
}

/** Reads in 1 MiB chunks with asynchronous reads: the event loop (signals, child output) keeps running. */
async function sha256InThread(file: string): Promise<string> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(1 << 20)
  const handle = await fs.promises.open(file, 'r')
  try {
    for (let n; (n = (await handle.read(buffer, 0, buffer.length, null)).bytesRead) > 0;) hash.update(buffer.subarray(0, n))
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

function sha256InWorker(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HASH_WORKER, {
      eval: true,
      workerData: { file },
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    })
    let settled = false
    worker.once('message', (message: { sha256?: string; error?: string; code?: string }) => {
      settled = true
      void worker.terminate()
      if (message.sha256) resolve(message.sha256)
      else reject(Object.assign(new Error(message.error ?? 'hashing failed'), { code: message.code }))
    })
    worker.once('error', (err) => {
      if (!settled) reject(err)
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the hashing worker exited with code ${code}`))
    })
  })
}

/** `1536` → `1.5 KB`: sizes for messages and tables (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}
