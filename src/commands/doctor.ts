import { Flags } from '../cli/oclif.js'
import { DbopsCommand } from '../cli/base-command.js'
import { DOCTOR_CHECKS } from '../doctor/doctor-checks.js'
import { DOCTOR_THRESHOLDS } from '../doctor/doctor-thresholds.js'
import { type DoctorReport, runDoctor } from '../doctor/run-doctor.js'
import { renderDoctorReport } from '../ui/render-doctor.js'

const checkHelp = Object.entries(DOCTOR_CHECKS)
  .map(([id, spec]) => `  ${id}: ${spec.title}`)
  .join('\n')
const thresholdHelp = Object.entries(DOCTOR_THRESHOLDS)
  .map(([name, spec]) => `  ${name} (default ${spec.default} ${spec.unit})`)
  .join('\n')

/** `dbops doctor`: what is slowly going wrong, with the fix printed. */
export default class Doctor extends DbopsCommand<typeof Doctor> {
  static override summary = 'Check what is slowly going wrong (sequences, indexes, vacuum, slots, …), with the fix printed.'
  static override description =
    'Each check is ok, info, warn or fail, with a one-line finding, the evidence (numbers, with --json) and the fix (SQL or a setting: printed, never run). ' +
    'Read-only session with a short statement_timeout, on at most 3 connections and never the last free ones.\n' +
    'Exit 0 all ok or info, 3 a warning, 1 a failure, 2 bad usage (an unknown check id), 4 unreachable, 7 access.\n\n' +
    `Checks (the database answers those of its kind; docs/doctor.md):\n${checkHelp}\n\n` +
    `Thresholds (config file: doctor: { thresholds: { NAME: VALUE | 'off' } }):\n${thresholdHelp}`
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --only sequences,xid_wraparound --json',
    '<%= config.bin %> doctor --skip top_queries,bloat',
    '<%= config.bin %> doctor --deep    # SQLite: integrity_check instead of quick_check',
  ]
  static override flags = {
    only: Flags.string({ summary: 'Run only these checks (comma-separated ids).', helpValue: 'ID,…', multiple: true }),
    skip: Flags.string({ summary: 'Leave these checks out (comma-separated ids).', helpValue: 'ID,…', multiple: true }),
    deep: Flags.boolean({ summary: 'Also run checks that read everything (SQLite integrity_check).' }),
  }

  async run(): Promise<DoctorReport> {
    const config = await this.loadConfig()
    this.announce(config)
    const { report, exitCode } = await runDoctor(config, {
      only: this.flags.only,
      skip: this.flags.skip,
      deep: this.flags.deep,
      connect: this.connectOptions(config, 'read'),
    })
    this.out.result(renderDoctorReport(report, this.out.out))
    process.exitCode = exitCode
    return report
  }
}
