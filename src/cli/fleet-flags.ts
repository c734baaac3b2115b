/**
 * The `--fleet` flags and the test for a fleet run: all a command needs before it knows it
 * runs as a fleet. The fleet machinery itself (fleet-support.ts) is imported only then.
 */
import { Flags } from './oclif.js'

/** Targets at once when neither `--concurrency` nor the fleet's `concurrency` says. */
export const DEFAULT_FLEET_CONCURRENCY = 4

/** `--fleet`, `--schemas`, `--concurrency`, `--fail-fast`, `--canary`. */
export const fleetFlags = {
  fleet: Flags.string({
    summary: 'Run on every target of this fleet of the config file (fleets.NAME), each with its own lock, connection and result.',
    helpValue: 'NAME',
    helpGroup: 'FLEET',
  }),
  schemas: Flags.string({
    summary: "Schema per tenant: run on every schema matching this glob ('tenant_*'), each with its own history table.",
    helpValue: 'GLOB',
    helpGroup: 'FLEET',
  }),
  concurrency: Flags.integer({
    summary: `Targets at once (default ${DEFAULT_FLEET_CONCURRENCY}); capped by the server's free connections.`,
    helpValue: 'N',
    min: 1,
    max: 1000,
    helpGroup: 'FLEET',
  }),
  'fail-fast': Flags.boolean({ summary: 'Start no more targets after the first failure.', helpGroup: 'FLEET' }),
  canary: Flags.integer({ summary: 'Run N targets first; stop if any of them fails.', helpValue: 'N', min: 1, helpGroup: 'FLEET' }),
}

/** The parsed fleet flags (with the common ones the fleet checks). */
export interface FleetFlagValues {
  fleet?: string | undefined
  schemas?: string | undefined
  concurrency?: number | undefined
  'fail-fast'?: boolean | undefined
  canary?: number | undefined
  url?: string | undefined
  db?: string | undefined
  config?: string | undefined
}

/** Whether the command runs as a fleet. */
export function isFleetRun(flags: FleetFlagValues): boolean {
  return flags.fleet !== undefined || flags.schemas !== undefined
}
