/**
 * The README stays a front page and docs/ stays navigable: the README is short, every
 * relative link in either resolves to a file and, with `#anchor`, to a heading in it, no page
 * has one heading twice, and the README's test command is the one CI runs.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { repoRoot } from '../support/cli.js'
import { docsPages, headingAnchor, readMarkdown, sectionOf } from '../support/markdown.js'

const pages = ['README.md', ...docsPages()].map(readMarkdown)

describe('README.md and docs/', () => {
  test('the README is a front page: under 300 lines', () => {
    const readme = pages.find((page) => page.file === 'README.md')!
    expect(readme.text.split('\n').length).toBeLessThan(300)
  })

  test('docs/ has one page per topic, each listed in docs/README.md', () => {
    const index = readMarkdown('docs/README.md')
    const listed = new Set(index.links.map((link) => link.target.split('#')[0]))
    for (const page of docsPages())
      if (page !== 'docs/README.md') expect(listed, `${page} is not linked from docs/README.md`).toContain(path.basename(page))
  })

  test.each(pages.map((page) => ({ file: page.file, page })))('$file: no heading appears twice', ({ page }) => {
    const anchors = page.headings.map((heading) => headingAnchor(heading.text))
    expect(anchors.filter((anchor, index) => anchors.indexOf(anchor) !== index)).toEqual([])
  })

  test.each(pages.map((page) => ({ file: page.file, page })))('$file: every relative link resolves, #anchors too', ({ page }) => {
    const broken: string[] = []
    for (const { target, line } of page.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
      const [file, anchor] = target.split('#') as [string, string | undefined]
      const resolved = file === '' ? page.file : path.posix.normalize(path.posix.join(path.posix.dirname(page.file), file))
      if (!fs.existsSync(path.join(repoRoot, resolved))) {
        broken.push(`${page.file}:${line}: ${target} (no file ${resolved})`)
        continue
      }
      if (anchor === undefined) continue
      if (!resolved.endsWith('.md')) {
        broken.push(`${page.file}:${line}: ${target} (an anchor into a file that is not Markdown)`)
        continue
      }
      const anchors = readMarkdown(resolved).headings.map((heading) => headingAnchor(heading.text))
      if (!anchors.includes(anchor)) broken.push(`${page.file}:${line}: ${target} (no heading #${anchor} in ${resolved})`)
    }
    expect(broken).toEqual([])
  })

  test("the README's tour names commands and flags that exist (oclif.manifest.json)", () => {
    const readme = pages.find((page) => page.file === 'README.md')!
    const tour = readme.blocks.find((block) => block.line > readme.headings.find((h) => h.text === 'A tour of the commands')!.line)!
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, unknown> }>
    }
    const unknown: string[] = []
    for (const call of tour.lines.flatMap((line) => line.replace(/\s#\s.*$/, '').split('&&'))) {
      const words = call.trim().split(/\s+/)
      expect(words[0]).toBe('dbops')
      const id = [2, 1].map((n) => words.slice(1, 1 + n).join(':')).find((candidate) => candidate in manifest.commands)
      if (!id) {
        unknown.push(`no command in: ${call.trim()}`)
        continue
      }
      for (const word of words.filter((w) => w.startsWith('--'))) {
        const flag = word.slice(2).split('=')[0]!
        if (!(flag in manifest.commands[id]!.flags)) unknown.push(`no flag --${flag} of ${id.replace(':', ' ')}`)
      }
    }
    expect(tour.lines.length).toBeGreaterThan(10)
    expect(unknown).toEqual([])
  })

  test("the README's test command is what CI (.ci/run) runs", () => {
    const readme = pages.find((page) => page.file === 'README.md')!
    const commands = sectionOf(readme, 'Quick start')
      .split('\n')
      .filter((line) => line.startsWith('npm test'))
    expect(commands).toEqual(['npm test'])
    const ci = fs.readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8').split('\n')
    expect(ci).toContain(commands[0])
  })
})
