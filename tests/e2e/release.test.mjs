// The *release* build (wasm-opt'd, esbuild-bundled) in a real page reaches SUBSCRIBED against a
// real devserver. This is what catches a wasm-opt that breaks wasm-bindgen output.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { fixture } from '../support/fixture.mjs'
import { psql } from '../support/dev.mjs'

const root = resolve(import.meta.dirname, '..', '..')
const f = fixture({ servers: { server: { args: ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql')] } }, site: 'dist', browser: true })

// The status panel lists each channel with its status (`#st-channels li[data-channel]`).
async function waitStatus(page, channel, want) {
  const sel = `#st-channels li[data-channel="${channel}"]`
  try {
    await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.dataset.status === want, [sel, want], { timeout: 20_000 })
  } catch {
    assert.fail(`${channel} stayed ${await page.locator(sel).getAttribute('data-status').catch(() => 'absent')}\n${page.logs.join('\n')}\n${await page.textContent('#timeline')}`)
  }
}

test('the demo (release bundle) subscribes, signs in, and streams RLS changes', async () => {
  const band = 'band:ba4d0000-0000-4000-8000-000000000001'
  const page = await f.browser.newPage()
  await page.goto(`${f.site.url}/index.html?server=${encodeURIComponent(f.server.url)}`)
  await waitStatus(page, 'lobby', 'SUBSCRIBED')
  await page.fill('#email', 'alice@example.com')
  await page.fill('#password', 'password123')
  await page.click('#signin button')
  await waitStatus(page, band, 'SUBSCRIBED')
  for (const t of ['songs', 'setlists', 'shows', 'practice_sessions']) await waitStatus(page, `${band}:${t}`, 'SUBSCRIBED')
  assert.match(await page.textContent(`#st-channels li[data-channel="${band}:songs"]`), /as authenticated/)
  await page.waitForFunction(() => document.querySelectorAll('[data-table=songs] .rows li .text').length >= 2, null, { timeout: 10_000 })
  // A row another member adds reaches the page only through its songs channel.
  await psql(f.server, "insert into public.songs (band_id, title) values ('ba4d0000-0000-4000-8000-000000000001', 'Commit Guard Blues')")
  await page.waitForFunction(() => [...document.querySelectorAll('[data-table=songs] .rows li .text')].some((e) => e.textContent === 'Commit Guard Blues'), null, { timeout: 10_000 })
})
