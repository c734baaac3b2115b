/**
 * What a dialect tells the code that reports on it, as data: what a backup's progress counts,
 * whether its connections are a server's sessions, and how corrupt data shows and what to do
 * about it. Known without a driver (`dialectTraits(name)`), so that the faces and features
 * ask the dialect instead of comparing its name.
 */
import type { DatabaseTarget } from '../config/database-url.js'

/** See the module comment; part of every `Dialect` and of its `DialectTraits`. */
export interface PresentationTraits {
  /**
   * Connections are sessions of a server, which has a view of them all (PostgreSQL); otherwise
   * each process opens the database file itself, and the file and its locks are the view.
   */
  readonly hasServerSessions: boolean
  /** What a backup's progress counts: `bytes` written, or `pages` copied (shown as a percentage only). */
  readonly backupProgressUnit: 'bytes' | 'pages'
  /** How corrupt data shows in driver errors, and what to tell the operator about it. */
  readonly corruption: CorruptionAdvice
  /**
   * The detail key `health` shows the version under (`Connection.serverVersion`): a server's
   * (`server_version`, PostgreSQL), or the library linked into dbops (`sqlite_version`: SQLite
   * has no server, and "server version" would send the reader looking for one).
   */
  readonly versionDetail: 'server_version' | 'sqlite_version'
}

/** A dialect's view of a damaged database: how to recognise it, name it, and the way out. */
export interface CorruptionAdvice {
  /** Driver error codes that mean the stored data is damaged (SQLite's `SQLITE_CORRUPT`). */
  readonly codes: RegExp
  /** What is damaged, as a message starts: `SQLite file /data/app.db is corrupt`. */
  describe(target: DatabaseTarget): string
  /** The way out: how to check the damage, and restoring the newest verified backup. */
  readonly hint: string
}
