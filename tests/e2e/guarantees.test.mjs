// The guarantees, end to end: the release build in Chromium against real devservers (gateway and
// raw mode), with the devserver's fault injection standing in for the hosted platform's ways of
// failing.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { startDevserver } from '../support/devserver.mjs'
import { launchBrowser } from '../support/browser.mjs'
import { testSite, openApp } from '../support/app.mjs'

const root = resolve(import.meta.dirname, '..', '..')
let gateway, raw, site, browser

before(async () => {
  const sql = ['--sql', resolve(root, 'www/schema.sql')]
  gateway = await startDevserver({ args: sql })
  raw = await startDevserver({ args: ['--mode', 'raw', ...sql] })
  site = await testSite()
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await site?.close()
  await gateway?.stop()
  await raw?.stop()
})

const email = () => `g-${Math.random().toString(36).slice(2)}@example.com`
const BAND = 'ba4d0000-0000-4000-8000-000000000001'

async function fault(server, body) {
  const r = await fetch(`${server.url}/_dev/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.config.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await r.text()
  assert.equal(r.status, 200, text)
  return JSON.parse(text)
}

// In the page: a client, a recorder of statuses per channel, and helpers to wait for them.
const PAGE_HELPERS = () => {
  window.statuses = {}
  window.watch = (ch, name) =>
    ch.subscribe((s, err) => { (window.statuses[name] ??= []).push(err ? `${s}:${err.code}` : s); (window.times ??= []).push([name, s, Date.now() % 100000]) })
  window.until = (pred, ms = 15_000) =>
    new Promise((ok, fail) => {
      const t0 = Date.now()
      const tick = () => (pred() ? ok() : Date.now() - t0 > ms ? fail(new Error(`timeout: ${JSON.stringify(window.statuses)}`)) : setTimeout(tick, 20))
      tick()
    })
  window.last = (name) => window.statuses[name]?.at(-1)
}

test('G6: an expiry close shows RECOVERING, then the channel rejoins with a fresh token', async () => {
  const page = await openApp(browser, site)
  await page.evaluate(PAGE_HELPERS)
  const who = email()
  await page.evaluate(
    async ({ url, key, who, band }) => {
      window.client = window.authwire.createClient(url, key)
      await window.client.auth.signUp({ email: who, password: 'correct horse' })
      window.watch(window.client.channel(`band:${band}`, { config: { private: true } }), 'band')
      window.watch(window.client.channel('room'), 'room')
      await window.until(() => window.last('band') === 'SUBSCRIBED' && window.last('room') === 'SUBSCRIBED')
    },
    { url: gateway.url, key: gateway.config.publishableKey, who, band: BAND },
  )
  const userId = await page.evaluate(() => window.client.diagnose().auth.session.userId)
  await fault(gateway, { realtime: { expireTokens: { userId } } })
  const r = await page.evaluate(async () => {
    await window.until(() => window.statuses.band.length >= 3 && window.last('band') === 'SUBSCRIBED' && window.last('room') === 'SUBSCRIBED')
    return { statuses: window.statuses, role: window.client.getChannels()[0].effectiveRole() }
  })
  assert.deepEqual(r.statuses.band, ['SUBSCRIBED', 'RECOVERING:token_expired', 'SUBSCRIBED'])
  assert.deepEqual(r.statuses.room, ['SUBSCRIBED', 'RECOVERING:token_expired', 'SUBSCRIBED'])
  assert.equal(r.role, 'authenticated')
  await page.close()
})

test('G2: with a stored session, a private channel subscribed at page load joins as the user at once', async () => {
  const page = await openApp(browser, site)
  await page.evaluate(PAGE_HELPERS)
  const who = email()
  await page.evaluate(
    async ({ url, key, who }) => {
      const c = window.authwire.createClient(url, key)
      await c.auth.signUp({ email: who, password: 'correct horse' })
      c.destroy()
    },
    { url: gateway.url, key: gateway.config.publishableKey, who },
  )
  await page.reload()
  await page.evaluate(() => window.authwireReady)
  await page.evaluate(PAGE_HELPERS)
  const r = await page.evaluate(
    async ({ url, key, band }) => {
      // Subscribe in the same tick as createClient: the session is still being read from storage.
      const c = window.authwire.createClient(url, key)
      window.watch(c.channel(`band:${band}`, { config: { private: true } }), 'band')
      await window.until(() => window.statuses.band?.length >= 1)
      return { statuses: window.statuses.band, role: c.getChannels()[0].effectiveRole() }
    },
    { url: gateway.url, key: gateway.config.publishableKey, band: BAND },
  )
  // realtime-js joins with the project key first here and reports CHANNEL_ERROR (supabase-js#2655).
  assert.deepEqual(r.statuses, ['SUBSCRIBED'])
  assert.equal(r.role, 'authenticated')
  await page.close()
})

test('G5: sign-out with a publishable key closes private channels and rejoins public ones as anon', async () => {
  const page = await openApp(browser, site)
  await page.evaluate(PAGE_HELPERS)
  const r = await page.evaluate(
    async ({ url, key, who, band }) => {
      const c = window.authwire.createClient(url, key)
      await c.auth.signUp({ email: who, password: 'correct horse' })
      window.watch(c.channel(`band:${band}`, { config: { private: true } }), 'band')
      const room = c.channel('room')
      window.watch(room, 'room')
      await window.until(() => window.last('band') === 'SUBSCRIBED' && window.last('room') === 'SUBSCRIBED')
      const before = room.effectiveRole()
      await c.auth.signOut()
      await window.until(() => window.last('band') === 'CLOSED:signed_out' && window.statuses.room.length >= 2)
      return { statuses: window.statuses, before, after: room.effectiveRole() }
    },
    { url: gateway.url, key: gateway.config.publishableKey, who: email(), band: BAND },
  )
  assert.deepEqual(r.statuses.band, ['SUBSCRIBED', 'CLOSED:signed_out'])
  assert.deepEqual(r.statuses.room, ['SUBSCRIBED', 'SUBSCRIBED'])
  assert.equal(r.before, 'authenticated')
  assert.equal(r.after, 'anon')
  await page.close()
})

test("G7: 'session' apikey mode on a raw Realtime server: no connect without a session, the user's token after sign-in", async () => {
  const page = await openApp(browser, site)
  await page.evaluate(PAGE_HELPERS)
  const r = await page.evaluate(
    async ({ url, key, who }) => {
      const c = window.authwire.createClient(url, key, { realtime: { apikey: 'session' } })
      window.watch(c.channel('room'), 'room')
      await new Promise((ok) => setTimeout(ok, 500))
      const before = { state: c.realtime.connectionState(), socketKey: c.diagnose().realtime.socketKey, statuses: window.statuses.room ?? [] }
      await c.auth.signUp({ email: who, password: 'correct horse' })
      await window.until(() => window.last('room') === 'SUBSCRIBED')
      return { before, after: window.statuses.room, socketKey: c.diagnose().realtime.socketKey, role: c.getChannels()[0].effectiveRole() }
    },
    { url: raw.url, key: raw.config.publishableKey, who: email() },
  )
  assert.equal(r.before.state, 'closed')
  assert.match(r.before.socketKey, /not a JWT/)
  assert.deepEqual(r.before.statuses, [])
  assert.deepEqual(r.after, ['SUBSCRIBED'])
  assert.equal(r.socketKey, 'user access token')
  assert.equal(r.role, 'authenticated')
  await page.close()
})

test('a refused socket is explained by the auth server (banned user, strict sessions)', async () => {
  const page = await openApp(browser, site)
  await page.evaluate(PAGE_HELPERS)
  const who = email()
  const userId = await page.evaluate(
    async ({ url, key, who }) => {
      window.client = window.authwire.createClient(url, key, { realtime: { apikey: 'session' } })
      const { data } = await window.client.auth.signUp({ email: who, password: 'correct horse' })
      return data.user.id
    },
    { url: raw.url, key: raw.config.publishableKey, who },
  )
  const ban = await fetch(`${raw.url}/auth/v1/admin/users/${userId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${raw.config.serviceRoleKey}`, apikey: raw.config.serviceRoleKey, 'content-type': 'application/json' },
    body: JSON.stringify({ ban_duration: '24h' }),
  })
  assert.equal(ban.status, 200, await ban.text())
  const r = await page.evaluate(async () => {
    window.watch(window.client.channel('room'), 'room')
    await window.until(() => (window.statuses.room ?? []).some((s) => s.endsWith(':user_banned')))
    return { statuses: window.statuses.room, refusal: window.client.diagnose().realtime.refusal }
  })
  assert.ok(r.statuses.includes('CHANNEL_ERROR:user_banned'), JSON.stringify(r.statuses))
  assert.equal(r.refusal.code, 'user_banned')
  await page.close()
})
