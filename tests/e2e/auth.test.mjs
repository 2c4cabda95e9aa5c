// Auth flows of the release build in Chromium against a real authwire-dev (real GoTrue
// endpoints, real PostgreSQL).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fixture, email, refreshRequests } from '../support/fixture.mjs'
import { waitFor } from '../support/wait.mjs'

// Short tokens so refreshes happen within the test: margin = lifetime/4 = 2 s.
const TTL = 8
const f = fixture({ servers: { server: { args: ['--token-ttl', String(TTL)] } }, site: 'dist-test', browser: true })

test('sign up, events in order, persistence across a reload', async () => {
  const page = await f.openApp()
  const who = email()
  const first = await page.evaluate(
    async ({ url, key, who }) => {
      const client = window.authwire.createClient(url, key)
      const events = []
      client.auth.onAuthStateChange((e, s) => events.push([e, s?.user?.email ?? null]))
      const { data, error } = await client.auth.signUp({ email: who, password: 'correct horse' })
      await window.waitFor(() => events.length >= 2, { what: () => `INITIAL_SESSION and SIGNED_IN, saw ${JSON.stringify(events)}` })
      return { error, user: data.user?.email, hasSession: !!data.session, events, stored: Object.keys(localStorage) }
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  assert.equal(first.error, null)
  assert.equal(first.user, who)
  assert.ok(first.hasSession)
  assert.deepEqual(first.events, [['INITIAL_SESSION', null], ['SIGNED_IN', who]])
  assert.ok(first.stored.includes('sb-127-auth-token'), `stored keys: ${first.stored}`)
  await page.reload()
  await page.evaluate(() => window.authwireReady)
  const second = await page.evaluate(
    async ({ url, key }) => {
      const client = window.authwire.createClient(url, key)
      const initial = await new Promise((r) => client.auth.onAuthStateChange((e, s) => r([e, s?.user?.email])))
      const { data } = await client.auth.getSession()
      return { initial, session: data.session?.user?.email }
    },
    { url: f.server.url, key: f.server.config.publishableKey },
  )
  assert.deepEqual(second.initial, ['INITIAL_SESSION', who])
  assert.equal(second.session, who)
  await page.close()
})

test('wrong password: a typed AuthApiError, nothing stored', async () => {
  const page = await f.openApp()
  const r = await page.evaluate(
    async ({ url, key }) => {
      const client = window.authwire.createClient(url, key)
      const { data, error } = await client.auth.signInWithPassword({ email: 'nobody@example.com', password: 'nope-nope' })
      return { data, name: error?.name, code: error?.code, status: error?.status, isAuth: window.authwire.isAuthError(error) }
    },
    { url: f.server.url, key: f.server.config.anonKey },
  )
  assert.deepEqual(r.data, { user: null, session: null })
  assert.equal(r.name, 'AuthApiError')
  assert.equal(r.code, 'invalid_credentials')
  assert.equal(r.status, 400)
  assert.equal(r.isAuth, true)
  await page.close()
})

test('sign out clears storage and records the reason', async () => {
  const page = await f.openApp()
  const who = email()
  const r = await page.evaluate(
    async ({ url, key, who }) => {
      const client = window.authwire.createClient(url, key)
      await client.auth.signUp({ email: who, password: 'correct horse' })
      const events = []
      client.auth.onAuthStateChange((e) => events.push(e))
      const { error } = await client.auth.signOut()
      const { data } = await client.auth.getSession()
      return { error, events, session: data.session, reason: client.auth.signOutReason(), stored: localStorage.getItem('sb-127-auth-token') }
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  assert.equal(r.error, null)
  assert.deepEqual(r.events, ['INITIAL_SESSION', 'SIGNED_OUT'])
  assert.equal(r.session, null)
  assert.deepEqual(r.reason, { reason: 'user' })
  assert.equal(r.stored, null)
  await page.close()
})

test('a full storage quota is a typed error and the session keeps working in memory', async () => {
  const page = await f.openApp()
  const who = email()
  const r = await page.evaluate(
    async ({ url, key, who }) => {
      const storage = {
        getItem: () => null,
        setItem: () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        },
        removeItem: () => {},
      }
      const client = window.authwire.createClient(url, key, { auth: { storage } })
      const { error } = await client.auth.signUp({ email: who, password: 'correct horse' })
      const { data } = await client.auth.getSession()
      return { code: error?.code, message: error?.message, session: data.session?.user?.email, diag: client.diagnose().auth.storageError }
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  assert.equal(r.code, 'storage_error')
  assert.match(r.message, /quota/i)
  assert.equal(r.session, who)
  assert.match(r.diag, /quota/i)
  await page.close()
})

test('two tabs: one refresh per rotation, the other tab adopts it (G8)', async () => {
  const a = await f.openApp()
  const b = await f.openApp()
  const who = email()
  await a.evaluate(
    async ({ url, key, who }) => {
      window.client = window.authwire.createClient(url, key)
      window.events = []
      window.client.auth.onAuthStateChange((e, s) => window.events.push([e, s?.expires_at ?? null, Date.now() % 100000]))
      await window.client.auth.signUp({ email: who, password: 'correct horse' })
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  await b.evaluate(
    async ({ url, key }) => {
      window.client = window.authwire.createClient(url, key)
      window.events = []
      window.client.auth.onAuthStateChange((e, s) => window.events.push([e, s?.expires_at ?? null, Date.now() % 100000]))
      await window.client.auth.getSession()
    },
    { url: f.server.url, key: f.server.config.publishableKey },
  )
  // 8 s tokens refresh 2 s before expiry: wait until two rotations have happened and the last
  // one has settled in both tabs (a rotation may be in flight at any given moment). On a
  // timeout the assertions below, which the condition is made of, say which part failed.
  let state
  await waitFor(
    async () => {
      const eventsA = await a.evaluate(() => window.events)
      const eventsB = await b.evaluate(() => window.events)
      const tokens = await Promise.all([a, b].map((p) => p.evaluate(async () => (await window.client.auth.getSession()).data.session?.access_token)))
      state = {
        rotationsA: eventsA.filter(([e]) => e === 'TOKEN_REFRESHED').length,
        rotationsB: eventsB.filter(([e]) => e === 'TOKEN_REFRESHED').length,
        eventsA,
        eventsB,
        refreshes: refreshRequests([a, b]).length,
        requests: refreshRequests([a, b]).map((r) => r.at % 100000),
        same: tokens[0] === tokens[1],
      }
      return state.rotationsA >= 2 && state.same && state.rotationsA === state.rotationsB && state.refreshes === state.rotationsA
    },
    { timeoutMs: 4 * TTL * 1000, intervalMs: 100, what: 'two settled rotations' },
  ).catch(() => {})
  assert.ok(state.rotationsA >= 2, JSON.stringify(state))
  assert.equal(state.rotationsB, state.rotationsA, `tab B saw every rotation: ${JSON.stringify(state)}`)
  assert.equal(state.refreshes, state.rotationsA, `one refresh request per rotation across both tabs: ${JSON.stringify(state)}`)
  assert.ok(state.same, 'both tabs hold the same, newest token')
  await a.close()
  await b.close()
})
