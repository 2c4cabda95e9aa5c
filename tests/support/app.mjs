// Opens the end-to-end test page (release build) against a devserver.
import { resolve } from 'node:path'
import { serveStatic } from './static.mjs'

const root = resolve(import.meta.dirname, '..', '..')

export async function testSite() {
  return serveStatic([resolve(root, 'dist-test')])
}

/** A page with `window.authwire` initialised. Requests are recorded in `page.requests`. */
export async function openApp(browser, site) {
  const page = await browser.newPage()
  page.requests = []
  page.on('request', (r) => page.requests.push({ method: r.method(), url: r.url() }))
  await page.goto(`${site.url}/index.html`)
  await page.evaluate(() => window.authwireReady)
  return page
}

export function refreshRequests(pages) {
  return pages.flatMap((p) => p.requests).filter((r) => r.method === 'POST' && r.url.includes('grant_type=refresh_token'))
}
