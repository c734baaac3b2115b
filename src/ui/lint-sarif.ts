/**
 * The SARIF 2.1.0 log of a lint (`--format sarif`), for GitHub code scanning: the rules with
 * their ids, titles, why and safe rewrite, and a result per finding (ignored ones as in-source
 * suppressions with their reason). Pure.
 */
import path from 'node:path'
import type { LintFinding, LintRule } from '../dialects/lint-port.js'

/** The SARIF document of `findings` judged by `rules`; file URIs relative to `root` when inside it. */
export function lintSarif(
  findings: readonly LintFinding[],
  rules: readonly LintRule[],
  root: string,
  version: string,
): Record<string, unknown> {
  const uri = (file: string): string => {
    const relative = path.relative(root, path.resolve(root, file))
    return (relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(root, file) : relative).split(path.sep).join('/')
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'dbops',
            version,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.title },
              fullDescription: { text: r.why },
              help: { text: `Safe rewrite: ${r.hint}`, markdown: `**Why:** ${r.why}\n\n**Safe rewrite:** ${r.hint}` },
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          level: f.severity,
          message: { text: `${f.message}. Safe rewrite: ${f.hint}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: uri(f.file) },
                region: { startLine: f.line, startColumn: f.column },
              },
            },
          ],
          ...(f.ignored ? { suppressions: [{ kind: 'inSource', justification: f.ignored.reason }] } : {}),
        })),
      },
    ],
  }
}
