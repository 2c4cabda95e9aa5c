// The *release* build (wasm-opt'd, esbuild-bundled) in a real page reaches SUBSCRIBED against a
// real devserver. This is what catches a wasm-opt that breaks wasm-bindgen output.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { fixture } from '../support/fixture.mjs'

const root = resolve(import.meta.dirname, '..', '..')
const f = fixture({ servers: { server: { args: ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql')] } }, site: 'dist', browser: true })

async function waitStatus(page, id, want) {
  try {
    await page.waitForFunction(([id, want]) => document.getElementById(id)?.dataset.status === want, [id, want], { timeout: 20_000 })
  } catch {
    assert.fail(`#${id} stayed ${await page.textContent('#' + id)}\n${page.logs.join('\n')}\n${await page.textContent('#log')}`)
  }
}

test('the demo (release bundle) subscribes, signs in, and streams RLS changes', async () => {
  const page = await f.browser.newPage()
  await page.goto(`${f.site.url}/index.html?server=${encodeURIComponent(f.server.url)}`)
  await waitStatus(page, 'lobby', 'SUBSCRIBED')
  await page.click('#signin button')
  await waitStatus(page, 'status', 'SUBSCRIBED')
  for (const t of ['songs', 'setlists', 'shows', 'practice_sessions']) await waitStatus(page, `status-${t}`, 'SUBSCRIBED')
  assert.match(await page.textContent('#status-songs'), /role authenticated/)
  await page.waitForFunction(() => document.querySelectorAll('#songs li').length >= 2, null, { timeout: 10_000 })
  await page.fill('#title', 'Commit Guard Blues')
  await page.click('#addsong')
  await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('Commit Guard Blues'), null, { timeout: 10_000 })
})
