// The one fixture of the JS suites: named devservers, the static site of an e2e page, Debian's
// Chromium, and pages of the e2e test app, started in a `before` hook of node:test and
// stopped (in reverse) in an `after` hook of the file that calls `fixture()`.
import { before, after } from 'node:test'
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { startDevserver } from './devserver.mjs'
import { serveStatic } from './static.mjs'
import { launchBrowser } from './browser.mjs'
import { PAGE_HELPERS } from './wait.mjs'

const root = resolve(import.meta.dirname, '..', '..')

/** A fresh address per call (auth state is per email: rate limits, codes). */
export const email = (tag = 'user') => `${tag}-${randomUUID().slice(0, 8)}@example.com`

/**
 * Registers the hooks and returns the fixture object, filled in when `before` has run:
 * - `servers`: `{ name: startDevserver options }`; each becomes `f[name]` (started together);
 * - `site`: a directory under the repository root to serve (`'dist-test'`, `'dist'`): `f.site`;
 * - `browser`: launch Chromium: `f.browser`, and `f.openApp()` for the e2e test page;
 * - `setup(f)` / `teardown(f)`: run after everything started / before anything stops.
 */
export function fixture({ servers = {}, site, browser = false, setup, teardown } = {}) {
  const f = {
    /** A page of the e2e app with `window.authwire` initialised, the wait helpers, and its requests in `page.requests`. */
    async openApp() {
      const page = await f.browser.newPage()
      page.requests = []
      page.on('request', (r) => page.requests.push({ method: r.method(), url: r.url(), at: Date.now() }))
      // Before every navigation (reloads and OAuth redirects too).
      await page.addInitScript(PAGE_HELPERS)
      await page.goto(`${f.site.url}/index.html`)
      await page.evaluate(() => window.authwireReady)
      return page
    },
  }
  before(async () => {
    // Started together; the ones that did start are kept (so stopped) even if another failed.
    const names = Object.keys(servers)
    const started = await Promise.allSettled(names.map((name) => startDevserver(servers[name])))
    started.forEach((r, i) => r.status === 'fulfilled' && (f[names[i]] = r.value))
    const failed = started.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    if (site) f.site = await serveStatic([resolve(root, site)])
    if (browser) f.browser = await launchBrowser()
    await setup?.(f)
  })
  after(async () => {
    await teardown?.(f)
    await f.browser?.close()
    await f.site?.close()
    await Promise.all(Object.keys(servers).map((name) => f[name]?.stop()))
  })
  return f
}

/** The refresh-token grants the pages sent. */
export function refreshRequests(pages) {
  return pages.flatMap((p) => p.requests).filter((r) => r.method === 'POST' && r.url.includes('grant_type=refresh_token'))
}
