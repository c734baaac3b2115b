import { DbopsCommand } from '../../cli/base-command.js'
import { lockFlags, migrationOptions } from '../../cli/migrate-support.js'
import { type ImportDbmateResult, importDbmate } from '../../migrate/import-dbmate.js'

/** `dbops migrate import-dbmate`: adopt a database that dbmate manages. */
export default class MigrateImportDbmate extends DbopsCommand<typeof MigrateImportDbmate> {
  static override summary = 'Adopt a database that dbmate manages: record its applied migrations.'
  static override description =
    'Each version in dbmate’s schema_migrations whose file is in the migrations directory is recorded in dbops_migrations ' +
    'as applied, with the file’s checksum. Nothing is run; schema_migrations is left in place.'
  static override examples = ['<%= config.bin %> migrate import-dbmate && <%= config.bin %> migrate status']
  static override flags = { ...lockFlags }

  async run(): Promise<ImportDbmateResult> {
    const config = await this.loadConfig()
    this.announce(config)
    const options = migrationOptions(this.flags, { signal: this.abort.signal, connect: this.connectOptions(config, 'write') }, undefined)
    const result = await importDbmate(config, { ...options, onWait: (m) => this.out.info(m) })
    if (result.without_file.length > 0) this.out.warn(`dbmate versions with no file here (not recorded): ${result.without_file.join(', ')}`)
    this.out.result(
      `Imported ${result.imported.length} migration${result.imported.length === 1 ? '' : 's'} from dbmate` +
        (result.already_recorded.length > 0 ? ` (${result.already_recorded.length} already recorded)` : '') +
        `; head is ${result.head ?? 'empty'}.`,
    )
    return result
  }
}
