import { describe, expect, test } from 'vitest'
import { Output, colorLevel, errorJson } from '../../src/ui/output.js'
import { taskListOptions } from '../../src/ui/task-list-options.js'
import { registerSecret } from '../../src/config/redact.js'
import { AuthFailedError } from '../../src/errors.js'
import { closestMatch } from '../../src/closest-match.js'
import { renderTable } from '../../src/ui/render-table.js'

class Capture {
  text = ''
  constructor(readonly isTTY: boolean) {}
  write(chunk: string) {
    this.text += chunk
    return true
  }
}

describe('taskListOptions', () => {
  test.each([
    { name: 'TTY, no CI', mode: {}, env: {}, tty: true, renderer: 'default' },
    { name: 'TTY with CI', mode: {}, env: { CI: 'true' }, tty: true, renderer: 'simple' },
    { name: 'no TTY (cron)', mode: {}, env: {}, tty: false, renderer: 'simple' },
    { name: 'CI=false is not CI', mode: {}, env: { CI: 'false' }, tty: true, renderer: 'default' },
    { name: '--verbose', mode: { verbose: true }, env: {}, tty: true, renderer: 'verbose' },
    { name: '--json', mode: { json: true }, env: {}, tty: true, renderer: 'silent' },
    { name: '--quiet', mode: { quiet: true }, env: { CI: '1' }, tty: false, renderer: 'silent' },
  ])('$name → $renderer', ({ mode, env, tty, renderer }) => {
    const options = taskListOptions({ json: false, quiet: false, verbose: false, ...mode }, env, tty)
    expect(options.renderer).toBe(renderer)
    expect(options.collapseErrors).toBe(false)
    expect(options.rendererOptions.collapseErrors).toBe(false)
  })
})

describe('Output', () => {
  test.each([
    { env: { NO_COLOR: '1' }, tty: true, level: 0 },
    { env: { NO_COLOR: '' }, tty: true, level: 2 },
    { env: {}, tty: false, level: 0 },
    { env: { FORCE_COLOR: '1' }, tty: false, level: 1 },
    { env: { TERM: 'dumb' }, tty: true, level: 0 },
  ])('colour level $env tty=$tty → $level', ({ env, tty, level }) => {
    expect(colorLevel(new Capture(tty), env)).toBe(level)
  })

  test('errors: one line and a hint; the stack only with --verbose; secrets redacted', () => {
    registerSecret('pa55word-xyz')
    const err = new AuthFailedError('Authentication failed (password pa55word-xyz)', { cause: new Error('inner') })
    const quiet = new Capture(false)
    new Output({ json: false, quiet: true, verbose: false }, new Capture(false), quiet, {}).error(err)
    expect(quiet.text).toBe(
      'error: Authentication failed (password ***)\nhint: Check the user and password in DATABASE_URL (or DATABASE_USER / DATABASE_PASSWORD).\n',
    )
    const verbose = new Capture(false)
    new Output({ json: false, quiet: false, verbose: true }, new Capture(false), verbose, {}).error(err)
    expect(verbose.text).toContain('code: AUTH_FAILED, exit 7')
    expect(verbose.text).toMatch(/Error: inner\n\s+at /)
    expect(verbose.text).not.toContain('pa55word-xyz')
    expect(errorJson(err)).toEqual({
      error: { code: 'AUTH_FAILED', message: 'Authentication failed (password pa55word-xyz)', hint: err.hint },
    })
  })

  test('--quiet silences info and warnings; --json silences results', () => {
    const stdout = new Capture(false)
    const stderr = new Capture(false)
    const out = new Output({ json: true, quiet: true, verbose: false }, stdout, stderr, {})
    out.info('progress')
    out.warn('careful')
    out.result('table')
    out.json({ ok: true })
    expect(stderr.text).toBe('')
    expect(JSON.parse(stdout.text)).toEqual({ ok: true })
  })

  test('--quiet without --json: nothing on stdout or stderr but errors', () => {
    const stdout = new Capture(false)
    const stderr = new Capture(false)
    const out = new Output({ json: false, quiet: true, verbose: false }, stdout, stderr, {})
    out.result('Applied 3 migrations in 4.0 ms; head is 3.')
    out.raw('screen')
    out.info('applied 1_a.sql')
    expect(stdout.text).toBe('')
    expect(stderr.text).toBe('')
    out.error(new AuthFailedError('Authentication failed'))
    expect(stderr.text).toMatch(/^error: Authentication failed\n/)
  })
})

describe('small pure helpers', () => {
  test.each([
    { input: 'cofnig show', expected: 'config show' },
    { input: 'wiat', expected: 'wait' },
    { input: 'backup', expected: undefined },
  ])('closestMatch($input)', ({ input, expected }) => expect(closestMatch(input, ['config show', 'wait', 'init'])).toBe(expected))

  test('renderTable pads by visible width, ignoring colour codes', () => {
    expect(renderTable(['a', 'bb'], [['\u001b[31mxyz\u001b[39m', '1']])).toBe('a    bb\n---  --\n\u001b[31mxyz\u001b[39m  1')
  })
})
