/**
 * The web console of `dbops serve` in a real browser: Playwright (playwright-core) driving
 * Debian's chromium against a server on a real SQLite file. Opens the console, sees the
 * health status, opens a table, sorts it, filters it, pages to the end; a screenshot of each
 * page goes to test-artifacts/serve-console/ (gitignored).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { repoRoot } from '../support/cli.js'
import { perTestCleanup, testDialects } from '../support/dialects.js'
import { configOf, seedTracks, serverOn } from '../support/serve.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'serve-console')
const { fresh, defer } = perTestCleanup()

let browser: BrowserContext
let profile: string

beforeAll(async () => {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dbops-chromium-'))
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  // a fresh profile (--user-data-dir) for every run
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
  fs.rmSync(profile, { recursive: true, force: true })
})

describe('dbops serve: the web console in chromium', () => {
  test('health, tables, one table sorted, filtered and paged to the end; migrations, backups, connections', async () => {
    const db = await fresh(testDialects()[0]!)
    const config = await configOf(db.url, db.dir)
    await seedTracks(config, 45)
    fs.mkdirSync(path.join(db.dir, 'migrations'))
    const app = await serverOn(config, {}, defer)
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
    const settled = (hash: string) => page.waitForSelector(`main[data-ready="${hash}"]`)

    await page.goto(`${base}/`)
    await settled('')
    await expect(page.locator('h1 [data-status]').textContent()).resolves.toBe('ok')
    await shot('health')

    await page.click('a[href="#/tables"]')
    await settled('#/tables')
    await expect(page.locator('main table').textContent()).resolves.toContain('tracks')
    await shot('tables')

    await page.click('a[href="#/tables/tracks"]')
    await settled('#/tables/tracks')
    const firstCell = () => page.locator('#rows tbody tr:first-child td:first-child').textContent()
    await expect(firstCell()).resolves.toBe('1')

    // sort by plays, descending (two clicks): plays 9 first, ties by id: 7
    await page.click('#rows th button[data-column="plays"]')
    await page.waitForURL(/sort_by=plays&sort_desc=false/)
    await page.click('#rows th button[data-column="plays"]')
    await page.waitForURL(/sort_desc=true/)
    await page.waitForSelector('main[data-ready*="sort_desc=true"]')
    await expect(firstCell()).resolves.toBe('7')
    await shot('table-sorted')

    // filter plays = 3 (ids 9, 19, 29, 39), then clear it
    await page.selectOption('select[name="filter_column"]', 'plays')
    await page.fill('input[name="filter_value"]', '3')
    await page.click('form button[type="submit"]')
    await page.waitForSelector('main[data-ready*="filter_value=3"]')
    const ids = await page.locator('#rows tbody tr td:first-child').allTextContents()
    expect(ids.sort()).toEqual(['19', '29', '39', '9'])
    await shot('table-filtered')
    await page.fill('input[name="filter_value"]', '')
    await page.click('form button[type="submit"]')
    await expect.poll(() => page.locator('#rows tbody tr').count()).toBe(20)

    // 45 rows, 20 a page: Next twice reaches the last page
    for (const expected of ['page 2', 'page 3']) {
      await page.click('#next')
      await page.locator(`#page:text-is("${expected}")`).waitFor()
    }
    await page.waitForSelector('#end')
    await expect(page.locator('#next').isDisabled()).resolves.toBe(true)
    await expect(page.locator('#rows tbody tr').count()).resolves.toBe(5)
    await shot('table-last-page')

    for (const name of ['migrations', 'backups', 'connections']) {
      await page.click(`a[href="#/${name}"]`)
      await settled(`#/${name}`)
      await expect(page.locator('main .error').count()).resolves.toBe(0)
      await shot(name)
    }
    expect(errors).toEqual([])
    for (const name of ['health', 'tables', 'table-sorted', 'table-filtered', 'table-last-page', 'migrations', 'backups', 'connections'])
      expect(fs.statSync(path.join(ARTIFACTS, `${name}.png`)).size).toBeGreaterThan(1000)
  })
})
