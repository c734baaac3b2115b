/**
 * Flags shared by the backup commands, and small renderers of their results.
 */
import { Args, Flags } from './oclif.js'

/** `--dir`: the backup directory. */
export const dirFlag = Flags.string({
  summary: 'Backup directory (default: BACKUP_DIR, backup.dir in the config, ./backups).',
})

/**
 * The backup a command works on: its name as `backup list` shows it (in the backup
 * directory), or a path to the file as the shell completes it (its manifest is read beside it).
 */
export const backupArg = Args.string({
  description: 'The backup: its name as `backup list` shows it, or a path to the file (backups/app-….db, /mnt/backups/app-….db).',
  required: false,
})

/** The retention flags; unset ones fall back to BACKUP_KEEP_* / backup.keep* in the config. */
export const retentionFlags = {
  'keep-last': Flags.integer({
    summary: 'Keep the N newest verified backups.',
    min: 0,
    helpGroup: 'RETENTION',
  }),
  'keep-daily': Flags.integer({
    summary: 'Keep the newest verified backup of each of the last N UTC days that have one.',
    min: 0,
    helpGroup: 'RETENTION',
  }),
  'keep-weekly': Flags.integer({
    summary: 'Keep the newest verified backup of each of the last N ISO weeks (UTC).',
    min: 0,
    helpGroup: 'RETENTION',
  }),
  'keep-monthly': Flags.integer({
    summary: 'Keep the newest verified backup of each of the last N UTC months.',
    min: 0,
    helpGroup: 'RETENTION',
  }),
}

/** `--lock-timeout`: seconds to wait for another backup of the database. */
export const lockTimeoutFlag = Flags.integer({
  summary: 'Seconds to wait when another backup or prune of this database is running (then exit 5).',
  default: 0,
  min: 0,
})

/** `3d 4h`, `2h 5m`, `40s`: an age for tables. */
export function formatAge(seconds: number): string {
  const d = Math.floor(seconds / 86_400)
  const h = Math.floor((seconds % 86_400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${seconds % 60}s`
  return `${seconds}s`
}

/** The value `--remote` takes when given without a URL: the configured remote. */
export const CONFIGURED_REMOTE = 'configured'

/**
 * `--remote [s3://bucket/prefix]`: the remote to work on; without a URL, the configured one
 * (BACKUP_REMOTE_URL, backup.remote.url). See {@link expandRemoteFlag}.
 */
export const remoteFlag = Flags.string({
  summary: 'Work on the off-site copy: s3://bucket/prefix, or without a URL the configured remote (BACKUP_REMOTE_URL, backup.remote.url).',
  helpValue: '[s3://bucket/prefix]',
})

/**
 * oclif string flags always take a value; `--remote` may stand alone (`backup list --remote`,
 * `backup verify --remote NAME`). A `--remote` not followed by an `s3://` URL becomes
 * `--remote=configured`, and the word after it stays an argument.
 */
export function expandRemoteFlag(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--remote' && !(argv[i + 1] ?? '').startsWith('s3://') ? `--remote=${CONFIGURED_REMOTE}` : arg))
}
