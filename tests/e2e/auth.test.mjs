// Auth flows of the release build in Chromium against a real authwire-dev (real GoTrue
// endpoints, real PostgreSQL).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startDevserver } from '../support/devserver.mjs'
import { launchBrowser } from '../support/browser.mjs'
import { testSite, openApp, refreshRequests } from '../support/app.mjs'

let server, site, browser

before(async () => {
  // Short tokens so refreshes happen within the test: margin = lifetime/4 = 2 s.
  server = await startDevserver({ args: ['--token-ttl', '8'] })
  site = await testSite()
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await site?.close()
  await server?.stop()
})

const email = () => `user-${Math.random().toString(36).slice(2)}@example.com`

test('sign up, events in order, persistence across a reload', async () => {
  const page = await openApp(browser, site)
  const who = email()
  const first = await page.evaluate(
    async ({ url, key, who }) => {
      const client = window.authwire.createClient(url, key)
      const events = []
      client.auth.onAuthStateChange((e, s) => events.push([e, s?.user?.email ?? null]))
      const { data, error } = await client.auth.signUp({ email: who, password: 'correct horse' })
      await new Promise((r) => setTimeout(r, 50))
      return { error, user: data.user?.email, hasSession: !!data.session, events, stored: Object.keys(localStorage) }
    },
    { url: server.url, key: server.config.publishableKey, who },
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
    { url: server.url, key: server.config.publishableKey },
  )
  assert.deepEqual(second.initial, ['INITIAL_SESSION', who])
  assert.equal(second.session, who)
  await page.close()
})

test('wrong password: a typed AuthApiError, nothing stored', async () => {
  const page = await openApp(browser, site)
  const r = await page.evaluate(
    async ({ url, key }) => {
      const client = window.authwire.createClient(url, key)
      const { data, error } = await client.auth.signInWithPassword({ email: 'nobody@example.com', password: 'nope-nope' })
      return { data, name: error?.name, code: error?.code, status: error?.status, isAuth: window.authwire.isAuthError(error) }
    },
    { url: server.url, key: server.config.anonKey },
  )
  assert.deepEqual(r.data, { user: null, session: null })
  assert.equal(r.name, 'AuthApiError')
  assert.equal(r.code, 'invalid_credentials')
  assert.equal(r.status, 400)
  assert.equal(r.isAuth, true)
  await page.close()
})

test('sign out clears storage and records the reason', async () => {
  const page = await openApp(browser, site)
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
    { url: server.url, key: server.config.publishableKey, who },
  )
  assert.equal(r.error, null)
  assert.deepEqual(r.events, ['INITIAL_SESSION', 'SIGNED_OUT'])
  assert.equal(r.session, null)
  assert.deepEqual(r.reason, { reason: 'user' })
  assert.equal(r.stored, null)
  await page.close()
})

test('a full storage quota is a typed error and the session keeps working in memory', async () => {
  const page = await openApp(browser, site)
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
    { url: server.url, key: server.config.publishableKey, who },
  )
  assert.equal(r.code, 'storage_error')
  assert.match(r.message, /quota/i)
  assert.equal(r.session, who)
  assert.match(r.diag, /quota/i)
  await page.close()
})

test('two tabs: one refresh per rotation, the other tab adopts it (G8)', async () => {
  const context = browser.context
  const a = await openApp(browser, site)
  const b = await openApp(browser, site)
  const who = email()
  await a.evaluate(
    async ({ url, key, who }) => {
      window.client = window.authwire.createClient(url, key)
      window.events = []
      window.client.auth.onAuthStateChange((e) => window.events.push(e))
      await window.client.auth.signUp({ email: who, password: 'correct horse' })
    },
    { url: server.url, key: server.config.publishableKey, who },
  )
  await b.evaluate(
    async ({ url, key }) => {
      window.client = window.authwire.createClient(url, key)
      window.events = []
      window.client.auth.onAuthStateChange((e) => window.events.push(e))
      await window.client.auth.getSession()
    },
    { url: server.url, key: server.config.publishableKey },
  )
  // 8 s tokens refresh 2 s before expiry: wait for two rotations, then for the last one to
  // settle in both tabs (a rotation may be in flight when the wait ends).
  await new Promise((r) => setTimeout(r, 13_000))
  let state
  for (let i = 0; i < 40; i++) {
    const eventsA = await a.evaluate(() => window.events)
    const eventsB = await b.evaluate(() => window.events)
    const tokens = await Promise.all([a, b].map((p) => p.evaluate(async () => (await window.client.auth.getSession()).data.session?.access_token)))
    state = {
      rotationsA: eventsA.filter((e) => e === 'TOKEN_REFRESHED').length,
      rotationsB: eventsB.filter((e) => e === 'TOKEN_REFRESHED').length,
      refreshes: refreshRequests([a, b]).length,
      same: tokens[0] === tokens[1],
    }
    if (state.same && state.rotationsA === state.rotationsB && state.refreshes === state.rotationsA) break
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(state.rotationsA >= 2, JSON.stringify(state))
  assert.equal(state.rotationsB, state.rotationsA, `tab B saw every rotation: ${JSON.stringify(state)}`)
  assert.equal(state.refreshes, state.rotationsA, `one refresh request per rotation across both tabs: ${JSON.stringify(state)}`)
  assert.ok(state.same, 'both tabs hold the same, newest token')
  void context
  await a.close()
  await b.close()
})
