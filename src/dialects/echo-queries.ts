/** SQL echo: how a connection's Kysely instance reports each statement it runs. */
import type { KyselyConfig } from 'kysely'
import type { ConnectOptions } from './dialect.js'

/**
 * Kysely's `log` option that passes each statement run, with its duration, to `onQuery`
 * (`--verbose`, `DBOPS_ECHO`); undefined without one, so nothing is logged.
 */
export function echoQueries(onQuery: ConnectOptions['onQuery']): KyselyConfig['log'] {
  if (!onQuery) return undefined
  return (event) => {
    if (event.level === 'query') onQuery(event.query.sql, event.queryDurationMillis)
  }
}
