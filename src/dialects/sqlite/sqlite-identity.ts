/**
 * Which SQLite database a backup is of: the file's real path. Two files called `app.db` in
 * different directories are different databases; so is a copy of a file at another path
 * (its backups are the copy's own from then on). A symlink and its target are the same file.
 * Restoring a backup of another file needs `--from-other-database`, which is how a user says
 * "this copy is that database".
 */
import fs from 'node:fs'
import path from 'node:path'

/**
 * `sqlite:<real path>`. A file that does not exist (yet, or any more) is named by its
 * directory's real path and its own name, so a database restored after its file was lost
 * still finds its backups.
 *
 * @example sqliteFileIdentity('/srv/app/./data/app.db') // 'sqlite:/srv/app/data/app.db'
 */
export function sqliteFileIdentity(file: string): string {
  return `sqlite:${realPathOf(path.resolve(file))}`
}

function realPathOf(file: string): string {
  try {
    return fs.realpathSync(file)
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file))
    } catch {
      return file
    }
  }
}

/**
 * The identity of a backup made before identities were recorded, from its manifest's
 * `source` (`sqlite /abs/path/app.db`, which was always the resolved absolute path).
 */
export function sqliteIdentityOfRecordedSource(source: string): string | undefined {
  const m = /^sqlite (\/.*|[A-Za-z]:\\.*)$/.exec(source)
  return m ? sqliteFileIdentity(m[1]!) : undefined
}
