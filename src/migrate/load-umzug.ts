/**
 * Loads umzug's `Umzug` class when a run first needs it. The build vendors umzug's engine
 * without its command-line interface (scripts/bundle.js), which saves ~150 ms of start-up;
 * from the sources (the tests), this is the whole package.
 */
import type { Umzug as UmzugClass } from 'umzug'

/** umzug's `Umzug` class. */
export async function loadUmzug(): Promise<typeof UmzugClass> {
  return (await import('umzug')).Umzug
}
