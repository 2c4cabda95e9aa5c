// The guarantees, end to end: the release build in Chromium against real devservers (gateway and
// raw mode), with the devserver's fault injection standing in for the hosted platform's ways of
// failing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { fixture, email } from '../support/fixture.mjs'
import { fault } from '../support/dev.mjs'

const root = resolve(import.meta.dirname, '..', '..')
const sql = ['--sql', resolve(root, 'www/schema.sql')]
const f = fixture({ servers: { gateway: { args: sql }, raw: { args: ['--mode', 'raw', ...sql] } }, site: 'dist-test', browser: true })

const BAND = 'ba4d0000-0000-4000-8000-000000000001'

// In the page: a recorder of statuses per channel, and a wait on them that shows them all.
const STATUS_HELPERS = () => {
  window.statuses = {}
  window.watch = (ch, name) => ch.subscribe((s, err) => (window.statuses[name] ??= []).push(err ? `${s}:${err.code}` : s))
  window.until = (pred) => window.waitFor(pred, { timeoutMs: 15_000, what: () => `statuses, saw ${JSON.stringify(window.statuses)}` })
  window.last = (name) => window.statuses[name]?.at(-1)
}

test('G6: an expiry close shows RECOVERING, then the channel rejoins with a fresh token', async () => {
  const page = await f.openApp()
  await page.evaluate(STATUS_HELPERS)
  const who = email('g')
  await page.evaluate(
    async ({ url, key, who, band }) => {
      window.client = window.authwire.createClient(url, key)
      await window.client.auth.signUp({ email: who, password: 'correct horse' })
      window.watch(window.client.channel(`band:${band}`, { config: { private: true } }), 'band')
      window.watch(window.client.channel('room'), 'room')
      await window.until(() => window.last('band') === 'SUBSCRIBED' && window.last('room') === 'SUBSCRIBED')
    },
    { url: f.gateway.url, key: f.gateway.config.publishableKey, who, band: BAND },
  )
  const userId = await page.evaluate(() => window.client.diagnose().auth.session.userId)
  const armed = await fault(f.gateway, { realtime: { expireTokens: { userId } } })
  assert.equal(armed.status, 200, armed.text)
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
  const page = await f.openApp()
  await page.evaluate(STATUS_HELPERS)
  const who = email('g')
  await page.evaluate(
    async ({ url, key, who }) => {
      const c = window.authwire.createClient(url, key)
      await c.auth.signUp({ email: who, password: 'correct horse' })
      c.destroy()
    },
    { url: f.gateway.url, key: f.gateway.config.publishableKey, who },
  )
  await page.reload()
  await page.evaluate(() => window.authwireReady)
  await page.evaluate(STATUS_HELPERS)
  const r = await page.evaluate(
    async ({ url, key, band }) => {
      // Subscribe in the same tick as createClient: the session is still being read from storage.
      const c = window.authwire.createClient(url, key)
      window.watch(c.channel(`band:${band}`, { config: { private: true } }), 'band')
      await window.until(() => window.statuses.band?.length >= 1)
      return { statuses: window.statuses.band, role: c.getChannels()[0].effectiveRole() }
    },
    { url: f.gateway.url, key: f.gateway.config.publishableKey, band: BAND },
  )
  // realtime-js joins with the project key first here and reports CHANNEL_ERROR (supabase-js#2655).
  assert.deepEqual(r.statuses, ['SUBSCRIBED'])
  assert.equal(r.role, 'authenticated')
  await page.close()
})

test('G5: sign-out with a publishable key closes private channels and rejoins public ones as anon', async () => {
  const page = await f.openApp()
  await page.evaluate(STATUS_HELPERS)
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
    { url: f.gateway.url, key: f.gateway.config.publishableKey, who: email('g'), band: BAND },
  )
  assert.deepEqual(r.statuses.band, ['SUBSCRIBED', 'CLOSED:signed_out'])
  assert.deepEqual(r.statuses.room, ['SUBSCRIBED', 'SUBSCRIBED'])
  assert.equal(r.before, 'authenticated')
  assert.equal(r.after, 'anon')
  await page.close()
})

test("G7: 'session' apikey mode on a raw Realtime server: no connect without a session, the user's token after sign-in", async () => {
  const page = await f.openApp()
  await page.evaluate(STATUS_HELPERS)
  const r = await page.evaluate(
    async ({ url, key, who }) => {
      const c = window.authwire.createClient(url, key, { realtime: { apikey: 'session' } })
      window.watch(c.channel('room'), 'room')
      // The client decides whether to connect in the step that resolves its auth state, the
      // one that delivers INITIAL_SESSION (here: no session): after it a socket would be connecting.
      await window.within(new Promise((ok) => c.auth.onAuthStateChange((e) => e === 'INITIAL_SESSION' && ok())), { what: 'INITIAL_SESSION' })
      const before = { state: c.realtime.connectionState(), socketKey: c.diagnose().realtime.socketKey, statuses: window.statuses.room ?? [] }
      await c.auth.signUp({ email: who, password: 'correct horse' })
      await window.until(() => window.last('room') === 'SUBSCRIBED')
      return { before, after: window.statuses.room, socketKey: c.diagnose().realtime.socketKey, role: c.getChannels()[0].effectiveRole() }
    },
    { url: f.raw.url, key: f.raw.config.publishableKey, who: email('g') },
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
  const page = await f.openApp()
  await page.evaluate(STATUS_HELPERS)
  const who = email('g')
  const userId = await page.evaluate(
    async ({ url, key, who }) => {
      window.client = window.authwire.createClient(url, key, { realtime: { apikey: 'session' } })
      const { data } = await window.client.auth.signUp({ email: who, password: 'correct horse' })
      return data.user.id
    },
    { url: f.raw.url, key: f.raw.config.publishableKey, who },
  )
  const ban = await fetch(`${f.raw.url}/auth/v1/admin/users/${userId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${f.raw.config.serviceRoleKey}`, apikey: f.raw.config.serviceRoleKey, 'content-type': 'application/json' },
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
