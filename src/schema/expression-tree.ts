/**
 * The tree the expression parser builds and the printer writes back (see
 * `canonical-expression.ts`), with the precedence levels both follow.
 */

/** A parsed SQL expression; casts are already dropped and spellings already made one. */
export type Expr =
  | { t: 'lit'; kind: 'string' | 'number' | 'null' | 'true' | 'false' | 'blob'; value: string }
  | { t: 'ref'; parts: string[] }
  | { t: 'kw'; name: string }
  | { t: 'call'; name: string; args: Expr[]; star: boolean; distinct: boolean }
  | { t: 'unary'; op: string; expr: Expr }
  | { t: 'bin'; op: string; left: Expr; right: Expr }
  | { t: 'is'; expr: Expr; not: boolean; what: 'null' | 'true' | 'false' | 'unknown' }
  | { t: 'distinct'; left: Expr; right: Expr; not: boolean }
  | { t: 'in'; expr: Expr; not: boolean; list: Expr[] }
  | { t: 'like'; op: string; not: boolean; expr: Expr; pattern: Expr; escape: Expr | undefined }
  | { t: 'case'; operand: Expr | undefined; whens: Array<[Expr, Expr]>; otherwise: Expr | undefined }
  | { t: 'array'; items: Expr[] }
  | { t: 'collate'; expr: Expr; collation: string }
  | { t: 'any'; op: string; quantifier: 'any' | 'all'; left: Expr; right: Expr }
  | { t: 'subscript'; expr: Expr; index: Expr }

/** Binding strength, loosest first: the parser climbs it, the printer adds parentheses by it. */
export const PREC = {
  or: 1,
  and: 2,
  not: 3,
  is: 4,
  compare: 5,
  pattern: 6,
  other: 7,
  add: 8,
  mul: 9,
  pow: 10,
  collate: 11,
  unary: 12,
  cast: 13,
  postfix: 14,
  atom: 15,
} as const

/** The comparison operators, one precedence level (`PREC.compare`). */
export const COMPARISON = new Set(['=', '==', '<>', '!=', '<', '>', '<=', '>='])
