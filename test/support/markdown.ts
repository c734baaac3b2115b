/**
 * Just enough Markdown for the tests that keep the README and docs/ true: headings and
 * links outside code, fenced blocks with their info strings, sections by heading, and
 * GitHub's anchor for a heading (so `page.md#anchor` links can be checked).
 */
import fs from 'node:fs'
import path from 'node:path'
import { repoRoot } from './cli.js'

/** A fenced code block: its info string (`console postgres`, `sql file=migrations/x.sql`), its lines, where it starts. */
export interface FencedBlock {
  info: string
  lines: string[]
  /** 1-based line number of the opening fence. */
  line: number
}

/** A heading outside code. */
export interface Heading {
  level: number
  text: string
  line: number
}

/** A Markdown page, split into what the tests look at. */
export interface MarkdownPage {
  /** Path relative to the repository root. */
  file: string
  text: string
  headings: Heading[]
  blocks: FencedBlock[]
  /** `[text](target)` links outside code, with the line they are on. */
  links: Array<{ target: string; line: number }>
}

/** Reads a page of the repository (path relative to its root) and splits it. */
export function readMarkdown(file: string): MarkdownPage {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8')
  const page: MarkdownPage = { file, text, headings: [], blocks: [], links: [] }
  let fence: { marker: string; block: FencedBlock } | undefined
  text.split('\n').forEach((raw, index) => {
    const line = index + 1
    const fenceMatch = /^\s*(`{3,}|~{3,})(.*)$/.exec(raw)
    if (fence) {
      if (fenceMatch && fenceMatch[1]!.startsWith(fence.marker) && fenceMatch[2]!.trim() === '') fence = undefined
      else fence.block.lines.push(raw)
      return
    }
    if (fenceMatch) {
      const block: FencedBlock = { info: fenceMatch[2]!.trim(), lines: [], line }
      page.blocks.push(block)
      fence = { marker: fenceMatch[1]!, block }
      return
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(raw)
    if (heading) page.headings.push({ level: heading[1]!.length, text: heading[2]!, line })
    const prose = raw.replace(/`[^`]*`/g, '')
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) page.links.push({ target: match[1]!, line })
  })
  return page
}

/**
 * The anchor GitHub gives a heading: lower case, punctuation (backticks, dots, brackets…)
 * removed, spaces as hyphens; `dbops health [--watch SECONDS]` → `dbops-health---watch-seconds`.
 */
export function headingAnchor(text: string): string {
  const plain = text.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
  return plain
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** The text under the heading `title` (any level), up to the next heading of the same or a higher level. */
export function sectionOf(page: MarkdownPage, title: string): string {
  const heading = page.headings.find((h) => h.text === title)
  if (!heading) throw new Error(`${page.file} has no heading "${title}"`)
  const next = page.headings.find((h) => h.line > heading.line && h.level <= heading.level)
  const lines = page.text.split('\n')
  return lines.slice(heading.line, next ? next.line - 1 : lines.length).join('\n')
}

/** The Markdown files under docs/, relative to the repository root, sorted. */
export function docsPages(): string[] {
  return fs
    .readdirSync(path.join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`)
}
