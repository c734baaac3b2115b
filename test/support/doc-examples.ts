/**
 * The command examples of a docs/ page, as docs/README.md ("How the examples are tested")
 * describes them: `console` blocks are run in order in one scratch project per page, files
 * come from blocks with a `file=PATH` annotation, `# exit N` gives a non-zero exit code, and
 * the lines shown under a command must appear in its output.
 */
import type { MarkdownPage } from './markdown.js'

/** One thing a page does to its scratch project, in page order. */
export type ExampleStep =
  | { kind: 'file'; path: string; content: string; line: number }
  | {
      kind: 'run'
      /** The shell line after `$ `, continuation lines joined. */
      command: string
      exitCode: number
      /** The output lines shown under the command (blank ones dropped). */
      output: string[]
      /** The block is marked `postgres`: run with DATABASE_URL set to the page's PostgreSQL database. */
      postgres: boolean
      line: number
    }

/** The steps of a page's examples, in the order they appear. */
export function exampleSteps(page: MarkdownPage): ExampleStep[] {
  const steps: ExampleStep[] = []
  for (const block of page.blocks) {
    const words = block.info.split(/\s+/)
    const file = words.find((word) => word.startsWith('file='))
    if (file) {
      steps.push({ kind: 'file', path: file.slice('file='.length), content: block.lines.join('\n') + '\n', line: block.line })
      continue
    }
    if (words[0] !== 'console') continue
    const postgres = words.includes('postgres')
    let current: Extract<ExampleStep, { kind: 'run' }> | undefined
    let continued = false
    block.lines.forEach((raw, index) => {
      const line = raw.trimEnd()
      if (continued && current) {
        current.command += '\n' + line
        continued = line.endsWith('\\')
        return
      }
      if (line.startsWith('$ ')) {
        const exit = /\s#\s*exit (\d+)$/.exec(line)
        current = {
          kind: 'run',
          command: line.slice(2),
          exitCode: exit ? Number(exit[1]) : 0,
          output: [],
          postgres,
          line: block.line + 1 + index,
        }
        continued = line.endsWith('\\')
        steps.push(current)
      } else if (current && line !== '') {
        current.output.push(line)
      }
    })
  }
  return steps
}

/**
 * Whether the shown lines appear in `output`, in order, other lines allowed between them;
 * `…` in a shown line stands for any text, and a line that is only `…` for omitted lines.
 * Runs of spaces count as one, so a table column that is wider or narrower still matches.
 * Returns the first shown line that was not found, or undefined.
 */
export function missingOutputLine(shown: string[], output: string): string | undefined {
  const actual = output.split('\n').map(squeeze)
  let from = 0
  for (const expected of shown) {
    if (expected.trim() === '…') continue
    const pattern = new RegExp(`^${squeeze(expected).split('…').map(escapeRegExp).join('.*')}$`)
    const at = actual.findIndex((line, index) => index >= from && pattern.test(line))
    if (at < 0) return expected
    from = at + 1
  }
  return undefined
}

/** A line with its runs of white space made one space, and none at either end. */
function squeeze(line: string): string {
  return line.trim().replace(/\s+/g, ' ')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
