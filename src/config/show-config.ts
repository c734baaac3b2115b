/**
 * The view of a resolved configuration that `dbops config show` prints: the target (password
 * redacted), the rule that chose it, and every setting with its source. Pure.
 */
import { REDACTED } from './redact.js'
import { formatTargetUrl } from './database-url.js'
import type { ConfigSetting, ResolvedConfig } from './resolve-config.js'

/** The JSON document of `config show`. */
export interface ConfigReport {
  database: string
  rule: string
  config_file: string | null
  target: {
    dialect: 'sqlite' | 'postgres'
    url: string
    path: string | null
    host: string | null
    port: number | null
    database: string | null
    user: string | null
    password: string | null
    sslmode: string | null
  }
  production: boolean
  protected: boolean
  databases: string[]
  settings: ConfigSetting[]
}

/** Builds the `config show` report. The password is `***` when set, null when not. */
export function describeConfig(config: ResolvedConfig): ConfigReport {
  const t = config.target
  return {
    database: config.databaseName,
    rule: config.rule,
    config_file: config.configFile ?? null,
    target:
      t.dialect === 'sqlite'
        ? {
            dialect: 'sqlite',
            url: formatTargetUrl(t),
            path: t.path,
            host: null,
            port: null,
            database: null,
            user: null,
            password: null,
            sslmode: null,
          }
        : {
            dialect: 'postgres',
            url: formatTargetUrl(t),
            path: null,
            host: t.host,
            port: t.port,
            database: t.database,
            user: t.user,
            password: t.password === undefined ? null : REDACTED,
            sslmode: t.tls.mode,
          },
    production: config.production,
    protected: config.protected,
    databases: config.databases,
    settings: config.settings,
  }
}
