/**
 * How a dialect stores what the model DSL describes, as data: the model mapping
 * (`modelsToSchema`) and `schema pull` (`renderModelsSource`) read these instead of asking
 * which database it is.
 */
export interface SchemaTraits {
  /**
   * A named enum (`col.enum([…], { name })`) becomes an enum type of the database. Otherwise
   * every enum is a text column with an `IN (…)` check.
   */
  readonly enumTypes: boolean
  /**
   * A single-column integer primary key is the table's rowid: a generated column must be
   * that key (AUTOINCREMENT is the only generation there is), and a plain one generates its
   * values anyway, so `schema pull` writes it as `.identity()`.
   */
  readonly rowidPrimaryKey: boolean
  /** The default `.defaultNow()` gives a timestamp column. */
  readonly currentTimestamp: string
  /** Indexes have methods (`USING gin`); otherwise a model's index method is ignored. */
  readonly indexMethods: boolean
  /** Tables live in named schemas (`app.users`); otherwise a model's `schema` option is an error. */
  readonly schemas: boolean
}
