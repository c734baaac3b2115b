/**
 * What `dbops doctor` reads from a database: each dialect answers a set of check ids with
 * the objects it found (an index, a sequence, a session), their numbers, and the statement
 * that would fix each one (printed by the doctor, never run). Statuses, thresholds and
 * wording are the doctor's (src/doctor/); the SQL is the dialect's
 * (`postgres/postgres-doctor*.ts`, `sqlite/sqlite-doctor.ts`).
 */

/** A number, a word, or nothing: the values of evidence. Keys are snake_case. */
export type DoctorValue = number | string | boolean | null

/** One object a check found: `public.orders_email_idx`, `pid 4242`, `database app`. */
export interface DoctorItem {
  /** What it is. */
  subject: string
  /**
   * Its numbers, snake_case keys. `pct`, when present, is the share of a limit used
   * (wraparound, sequence range), which the doctor compares with its thresholds.
   */
  values: Record<string, DoctorValue>
  /** The statement (or setting) that fixes it: printed, never run. */
  fix?: string
}

/** What a dialect read for one check. */
export interface DoctorReading {
  /** The objects at or over the limits the check was given (or all of them, for a listing). */
  items: DoctorItem[]
  /** Numbers about the whole check (counts, the stats reset age, a setting). */
  facts: Record<string, DoctorValue>
  /** Statements that fix the whole finding rather than one item (a setting to change). */
  fixes?: string[]
  /** Set when part could not be read (a privilege missing): what was left out and why. */
  partial?: string
}

/** Options of {@link DoctorReader.read}. */
export interface DoctorReadOptions {
  /** Thresholds by name (see src/doctor/doctor-thresholds.ts), for filtering in the query. */
  limits: Readonly<Record<string, number>>
  /** Run the checks that read everything (SQLite `integrity_check` instead of `quick_check`). */
  deep: boolean
}

/** A dialect's doctor over one open (on-call) connection. */
export interface DoctorReader {
  /** The check ids this dialect answers, in the order a report lists them. */
  readonly checkIds: readonly string[]
  /**
   * Queries that may run at once: a few connections of the pool, fewer when the server has
   * few free slots (an on-call tool never takes the last ones); 1 where there is one handle.
   */
  readonly concurrency: number
  /** Reads one check. Throws on a database error (the doctor reports it as the check's failure). */
  read(id: string, options: DoctorReadOptions): Promise<DoctorReading>
}
