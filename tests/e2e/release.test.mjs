// The *release* build (wasm-opt'd, esbuild-bundled) in a real page reaches SUBSCRIBED against a
// real devserver. This is what catches a wasm-opt that breaks wasm-bindgen output.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { startDevserver } from '../support/devserver.mjs'
import { serveStatic } from '../support/static.mjs'
import { launchBrowser } from '../support/browser.mjs'

const root = resolve(import.meta.dirname, '..', '..')
let server, site, browser

before(async () => {
  server = await startDevserver()
  site = await serveStatic([resolve(root, 'dist')])
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await site?.close()
  await server?.stop()
})

test('the release bundle subscribes a channel', async () => {
  const page = await browser.newPage()
  await page.goto(`${site.url}/index.html?server=${encodeURIComponent(server.url)}`)
  try {
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'SUBSCRIBED', null, { timeout: 20_000 })
  } catch (e) {
    assert.fail(`status stayed ${await page.textContent('#status')}\n${page.logs.join('\n')}\n${await page.textContent('#log')}`)
  }
  assert.equal(await page.textContent('#socket').then((t) => t.startsWith('open')), true)
})
