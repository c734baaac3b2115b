/**
 * GitHub Actions workflow commands: with `GITHUB_ACTIONS=true`, a failure tied to a file
 * also prints `::error file=…,line=…,col=…,title=…::message`, so the run's summary and the
 * pull request's diff show it on the line. Pure.
 */
import path from 'node:path'
import { printable, printableLines } from '../printable-text.js'

/** Where and what, for an annotation. */
export interface AnnotationSource {
  message: string
  file: string
  line?: number | undefined
  column?: number | undefined
  title?: string
}

/** Escapes a workflow command's message (`%`, CR, LF), per GitHub's toolkit. */
function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** Escapes a workflow command's property value (also `:` and `,`). */
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/**
 * The `::error …::` line for `source`, or undefined outside GitHub Actions. The file is made
 * relative to `GITHUB_WORKSPACE` (else `cwd`), as annotations need.
 *
 * @example
 * githubErrorAnnotation({ message: 'relation "users" already exists', file: '/w/migrations/1_a.sql', line: 3 }, { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/w' }, '/w')
 * // '::error file=migrations/1_a.sql,line=3::relation "users" already exists'
 */
export function githubErrorAnnotation(source: AnnotationSource, env: Record<string, string | undefined>, cwd: string): string | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined
  return githubAnnotation(source, 'error', env.GITHUB_WORKSPACE || cwd)
}

/**
 * The `::error …::` / `::warning …::` / `::notice …::` line for `source`, whatever the
 * environment (`--format github`), the file made relative to `root`.
 *
 * @example
 * githubAnnotation({ message: 'SET NOT NULL on users.email', file: '/w/migrations/2_b.sql', line: 4, column: 1 }, 'warning', '/w')
 * // '::warning file=migrations/2_b.sql,line=4,col=1::SET NOT NULL on users.email'
 */
export function githubAnnotation(source: AnnotationSource, level: 'error' | 'warning' | 'notice', root: string): string {
  const relative = path.relative(root, path.resolve(root, source.file))
  const file = relative.startsWith('..') || path.isAbsolute(relative) ? source.file : relative.split(path.sep).join('/')
  const properties = [`file=${escapeProperty(printable(file))}`]
  if (source.line !== undefined) properties.push(`line=${source.line}`)
  if (source.column !== undefined) properties.push(`col=${source.column}`)
  if (source.title) properties.push(`title=${escapeProperty(source.title)}`)
  return `::${level} ${properties.join(',')}::${escapeData(printableLines(source.message))}`
}
