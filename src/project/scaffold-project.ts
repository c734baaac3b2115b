/**
 * `dbops init`: writes `dbops.config.ts`, `models.ts`, `.env.example` and `migrations/` into a directory.
 * Refuses to overwrite an existing file unless `force` is set, and checks every file before
 * writing any, so a refusal leaves the directory as it was. A write that fails (a read-only
 * directory, a full disk) removes the files this run created and names the file and the
 * directory (exit 1).
 */
import fs from 'node:fs'
import path from 'node:path'
import { DbopsError, ExitCode, errorCodeOf, messageOf } from '../errors.js'

/** What {@link scaffoldProject} did, per path. */
export interface ScaffoldResult {
  files: Array<{ path: string; action: 'created' | 'overwritten' | 'kept' }>
}

const CONFIG_TS = `import { defineConfig } from 'dbops'

// Connection settings come from DATABASE_URL (environment or .env) when it is set;
// the url below is the fallback. See \`dbops config show\` for what is in effect.
export default defineConfig({
  url: 'sqlite:///data/app.db',
  migrations: { dir: 'migrations' },
  // The tables, in TypeScript: \`dbops schema diff\` compares them with the database,
  // \`dbops migrate generate NAME --from-models\` writes the migration.
  models: 'models.ts',
  backup: { dir: 'backups', keepDaily: 7, keepWeekly: 4 },
  databases: {
    // Selected with --db production; DATABASE_URL_PRODUCTION overrides its url.
    // production: { url: process.env.PRODUCTION_DATABASE_URL, protected: true },
  },
})
`

const MODELS_TS = `import { col, defineModels, raw, table } from 'dbops'

// The source of truth for the tables. Columns are NOT NULL unless .nullable().
// Typed queries: new Kysely<InferDatabase<typeof models>>({ dialect }).
export const users = table(
  'users',
  {
    id: col.bigint().primaryKey().identity(),
    email: col.varchar(255).unique(),
    name: col.text().nullable(),
    created_at: col.timestamptz().defaultNow(),
  },
  { indexes: [{ columns: [raw('lower(email)')], unique: true, name: 'users_email_lower_key' }] },
)

export const posts = table('posts', {
  id: col.bigint().primaryKey().identity(),
  author_id: col.bigint().references('users', 'id', { onDelete: 'cascade' }),
  title: col.text(),
  status: col.enum(['draft', 'published']).default('draft'),
  published_at: col.timestamptz().nullable(),
})

const models = defineModels({ users, posts })
export default models
`

const ENV_EXAMPLE = `# Copy to .env and fill in. The environment wins over .env, key by key.
# DATABASE_URL=postgres://app:password@localhost:5432/app
# DATABASE_URL=sqlite:///data/app.db
# DATABASE_SCHEMA=public
# DATABASE_CONNECT_TIMEOUT=10
# POOL_SIZE=5
# MAX_OVERFLOW=10
# BACKUP_DIR=backups
`

/** Scaffolds a project in `dir`. */
export function scaffoldProject(dir: string, options: { force: boolean }): ScaffoldResult {
  const files: Array<[string, string]> = [
    ['dbops.config.ts', CONFIG_TS],
    ['models.ts', MODELS_TS],
    ['.env.example', ENV_EXAMPLE],
  ]
  const existing = files.map(([name]) => name).filter((name) => fs.existsSync(path.join(dir, name)))
  if (existing.length > 0 && !options.force) {
    throw new DbopsError(
      'FILE_EXISTS',
      ExitCode.usage,
      `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}`,
      {
        hint: 'Nothing was written. Re-run with --force to overwrite.',
      },
    )
  }
  const result: ScaffoldResult = { files: [] }
  const step = (name: string, write: () => void) => {
    try {
      write()
    } catch (err) {
      for (const file of result.files) if (file.action === 'created') fs.rmSync(path.join(dir, file.path), { force: true })
      throw writeFailed(name, dir, err)
    }
  }
  for (const [name, content] of files) {
    const target = path.join(dir, name)
    const existed = fs.existsSync(target)
    step(name, () => writeFileAtomic(target, content))
    result.files.push({ path: name, action: existed ? 'overwritten' : 'created' })
  }
  const migrations = path.join(dir, 'migrations')
  const hadMigrations = fs.existsSync(migrations)
  step('migrations/', () => fs.mkdirSync(migrations, { recursive: true }))
  result.files.push({ path: 'migrations/', action: hadMigrations ? 'kept' : 'created' })
  return result
}

/** Plain words for the errors a write in the project directory meets. */
const WRITE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'the directory does not exist',
}

function writeFailed(name: string, dir: string, err: unknown): DbopsError {
  const code = errorCodeOf(err)
  const why = (code && WRITE_ERRORS[code]) ?? messageOf(err)
  return new DbopsError('INIT_WRITE_FAILED', ExitCode.failed, `Cannot write ${name} in ${dir}: ${why}${code ? ` (${code})` : ''}`, {
    cause: err,
    hint: 'Run `dbops init` in a directory you can write to, or fix its permissions. Nothing this run created was left behind.',
  })
}

/** Writes under a temporary name and renames, so a crash never leaves half a file. */
export function writeFileAtomic(file: string, content: string, mode = 0o644): void {
  const temp = `${file}.tmp-${process.pid}`
  try {
    fs.writeFileSync(temp, content, { mode })
    fs.renameSync(temp, file)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw err
  }
}
