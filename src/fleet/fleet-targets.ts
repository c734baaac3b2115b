/**
 * The targets of a fleet: the databases a config file's `fleets.NAME` lists (`urls`,
 * `urlsFile`, or a `query` on another configured database), each expanded into its tenant
 * schemas by `--schemas GLOB`, each with its own resolved configuration. Passwords come from
 * the URL, a `.pgpass`-style file or `DATABASE_PASSWORD`, and are registered for redaction;
 * labels never carry them. Duplicate targets are refused (exit 2) before anything runs.
 */
import fs from 'node:fs'
import path from 'node:path'
import { type DatabaseTarget, parseDatabaseUrl } from '../config/database-url.js'
import { passwordlessUrl, targetIdentity, targetLabel, withPassword } from '../config/target-identity.js'
import type { FleetFileSettings } from '../config/config-file.js'
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js'
import { connect } from '../dialects/index.js'
import type { ConnectOptions } from '../dialects/dialect.js'
import { ConfigError, DbopsError, messageOf } from '../errors.js'
import { globMatcher } from '../migrate/history-guard.js'
import { type PassfileEntry, findPassword, readPassfile } from './passfile.js'

/** One member of a fleet: how results name it (no password) and its configuration. */
export interface FleetTarget {
  /** `host:port/database`, `host:port/database/schema`, or a SQLite file relative to the working directory. */
  label: string
  config: ResolvedConfig
}

/** Inputs of {@link resolveFleetTargets}. */
export interface FleetTargetOptions {
  /** `--fleet NAME`: a fleet of the config file; undefined: the configured database alone (with `schemas`). */
  fleet?: string | undefined
  /** `--schemas GLOB` (or the fleet's `schemas`): each database becomes its matching schemas. */
  schemas?: string | undefined
  /** `--config` (the named database of a `query` fleet is resolved from the same file). */
  configPath?: string | undefined
  env?: Record<string, string | undefined>
  /** How to connect for the targets query and the schema listing. */
  connect: ConnectOptions
}

/**
 * Resolves the fleet's targets, in the order given (schemas sorted by name within a database).
 * Throws before anything runs: exit 2 for an unknown fleet, a bad URL, duplicates or no
 * target; the targets query's own error (4 unreachable, 7 access, 2 for its SQL) when it fails.
 *
 * @example
 * const targets = await resolveFleetTargets(config, { fleet: 'tenants', connect: { mode: 'read', command: 'migrate status' } })
 */
export async function resolveFleetTargets(base: ResolvedConfig, options: FleetTargetOptions): Promise<FleetTarget[]> {
  const env = options.env ?? process.env
  const settings = options.fleet === undefined ? undefined : fleetSettings(base, options.fleet)
  const glob = options.schemas ?? settings?.schemas
  const baseDir = base.configFile ? path.dirname(base.configFile) : base.cwd
  const passfileName = settings?.passfile ?? env.DATABASE_PASSFILE
  const passfile = passfileName === undefined ? [] : readPassfile(path.resolve(baseDir, passfileName))

  let databases: Array<{ config: ResolvedConfig; origin: string; schema?: string }>
  if (!settings) databases = [{ config: base, origin: 'the configured database' }]
  else if (settings.query !== undefined) databases = await queryTargets(base, options, settings, env, passfile)
  else {
    const key = `fleets.${options.fleet}`
    const lines = settings.urls
      ? settings.urls.map((url, i) => ({ url, origin: `${key}.urls[${i}]` }))
      : readUrlsFile(path.resolve(baseDir, settings.urlsFile!), `${key}.urlsFile`)
    const resolve = urlResolver(base, options.configPath, env, passfile)
    databases = []
    for (const { url, origin } of lines) databases.push({ config: await resolve(url, origin), origin })
  }

  const targets: Array<FleetTarget & { origin: string }> = []
  // a query's schemas are each other's siblings (and only they): the guard still sees the rest
  const listed = databases.flatMap((d) => (d.schema === undefined ? [] : [d.schema])).join(',')
  for (const database of databases) {
    if (database.schema !== undefined) targets.push(inSchema(database.config, database.schema, listed, database.origin))
    else if (glob === undefined)
      targets.push({ label: targetLabel(database.config.target, undefined, base.cwd), config: database.config, origin: database.origin })
    else
      for (const schema of await matchingSchemas(database.config, glob, options.connect))
        targets.push(inSchema(database.config, schema, glob, database.origin))
  }
  if (targets.length === 0)
    throw new ConfigError(
      `${options.fleet ? `--fleet ${options.fleet}` : '--schemas'}: no targets${glob ? ` (no schema matches ${glob})` : ''}`,
      {
        code: 'FLEET_EMPTY',
        hint: glob
          ? 'Check the glob: `dbops inspect tables --all-schemas` lists the schemas.'
          : 'List the databases under fleets in the config file.',
      },
    )
  assertNoDuplicates(targets)
  return targets.map(({ label, config }) => ({ label, config }))
}

function fleetSettings(base: ResolvedConfig, name: string): FleetFileSettings {
  const settings = base.fleets[name]
  if (settings) return settings
  const known = Object.keys(base.fleets)
  throw new ConfigError(
    `--fleet ${name}: no fleet of that name in ${base.configFile ? path.basename(base.configFile) : 'the config (there is no config file)'}`,
    {
      code: 'CONFIG_UNKNOWN_FLEET',
      hint:
        known.length > 0
          ? `Known fleets: ${known.join(', ')}.`
          : "Add it under `fleets` in dbops.config.ts, e.g. fleets: { tenants: { urlsFile: 'tenants.txt' } }.",
    },
  )
}

function readUrlsFile(file: string, key: string): Array<{ url: string; origin: string }> {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${messageOf(err)}`, {
      code: 'FLEET_URLS_FILE',
      hint: 'The path is relative to the config file.',
      cause: err,
    })
  }
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ url: line.trim(), origin: `${path.basename(file)} line ${i + 1}` }))
    .filter(({ url }) => url !== '' && !url.startsWith('#'))
}

/**
 * Resolves URL targets: the settings a URL of each dialect gets (its default schema, history
 * table, pool) are resolved once, as `--url` would, then each URL gets its own target, its
 * password filled from the passfile or `DATABASE_PASSWORD` when the URL has none.
 */
function urlResolver(
  base: ResolvedConfig,
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  passfile: PassfileEntry[],
) {
  const perDialect = new Map<string, Promise<ResolvedConfig>>()
  return async (url: string, origin: string): Promise<ResolvedConfig> => {
    const parsed: DatabaseTarget = parseDatabaseUrl(url, { key: origin, cwd: base.configFile ? path.dirname(base.configFile) : base.cwd })
    if (!perDialect.has(parsed.dialect))
      perDialect.set(parsed.dialect, resolveConfig({ cwd: base.cwd, env, flags: { url: passwordlessUrl(parsed), config: configPath } }))
    const settings = await perDialect.get(parsed.dialect)!
    const target = withPassword(parsed, (t) => findPassword(passfile, t) ?? env.DATABASE_PASSWORD)
    return { ...settings, target }
  }
}

/** `config` with `schema` as its default schema and the history table's home. */
function inSchema(config: ResolvedConfig, schema: string, siblings: string, origin: string): FleetTarget & { origin: string } {
  return {
    label: targetLabel(config.target, schema, config.cwd),
    origin,
    config: {
      ...config,
      schema,
      schemas: [schema],
      migrationsTable: { schema, name: config.migrationsTable.name },
      historySiblings: siblings,
    },
  }
}

async function matchingSchemas(config: ResolvedConfig, glob: string, options: ConnectOptions): Promise<string[]> {
  const matches = globMatcher(glob)
  const conn = await connect(config, { ...options, mode: 'read' })
  try {
    const schemas = await conn.dialect.createCatalog(conn).listSchemas()
    return schemas
      .map((s) => s.name)
      .filter(matches)
      .sort()
  } finally {
    await conn.close()
  }
}

async function queryTargets(
  base: ResolvedConfig,
  options: FleetTargetOptions,
  settings: FleetFileSettings,
  env: Record<string, string | undefined>,
  passfile: PassfileEntry[],
): Promise<Array<{ config: ResolvedConfig; origin: string; schema?: string }>> {
  const key = `fleets.${options.fleet}.query`
  const on = await resolveConfig({ cwd: base.cwd, env, flags: { db: settings.on!, config: options.configPath } })
  const conn = await connect(on, { ...options.connect, mode: 'read' })
  let rows: Array<Record<string, unknown>>
  try {
    rows = await conn.query(settings.query!, [])
  } catch (err) {
    if (err instanceof DbopsError) throw err
    throw new ConfigError(`${key} failed on ${settings.on}: ${messageOf(err)}`, {
      code: 'FLEET_QUERY_FAILED',
      hint: 'Fix the query in the config file; nothing was run on any target.',
      cause: err,
    })
  } finally {
    await conn.close()
  }
  const resolve = urlResolver(base, options.configPath, env, passfile)
  const databases: Array<{ config: ResolvedConfig; origin: string; schema?: string }> = []
  for (const [i, row] of rows.entries()) {
    const value = String(Object.values(row)[0] ?? '').trim()
    const origin = `${key} row ${i + 1}`
    if (/^[a-z][a-z0-9+.-]*:/i.test(value)) databases.push({ config: await resolve(value, origin), origin })
    else databases.push({ config: on, origin, schema: value })
  }
  return databases
}

function assertNoDuplicates(targets: Array<FleetTarget & { origin: string }>): void {
  const seen = new Map<string, string>()
  for (const { label, config, origin } of targets) {
    const key = targetIdentity(config.target, config.schema)
    const first = seen.get(key)
    if (first !== undefined)
      throw new ConfigError(`Duplicate fleet target ${label}: ${origin} repeats ${first}`, {
        code: 'FLEET_DUPLICATE_TARGET',
        hint: 'Each database or schema may appear once in a fleet; remove the repeat.',
      })
    seen.set(key, origin)
  }
}
