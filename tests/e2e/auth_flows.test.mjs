// The remaining auth flows of the release build in Chromium against a real authwire-dev: OTP,
// OAuth redirects (PKCE and implicit, taken from the page URL), setSession, updateUser,
// getUser, getClaims (ES256 verified with WebCrypto), signInWithIdToken, not-supported APIs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fixture, email } from '../support/fixture.mjs'
import { lastMail } from '../support/dev.mjs'

const f = fixture({ servers: { server: {} }, site: 'dist-test', browser: true })

test('email OTP: signInWithOtp, code from the dev mailbox, verifyOtp signs in', async () => {
  const page = await f.openApp()
  const who = email('f')
  await page.evaluate(
    async ({ url, key, who }) => {
      window.client = window.authwire.createClient(url, key)
      window.events = []
      window.client.auth.onAuthStateChange((e) => window.events.push(e))
      const { error } = await window.client.auth.signInWithOtp({ email: who })
      if (error) throw new Error(error.message)
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  const mail = await lastMail(f.server, who)
  assert.ok(mail, `no mail for ${who}`)
  const { otp } = mail
  const r = await page.evaluate(
    async ({ who, otp }) => {
      const bad = await window.client.auth.verifyOtp({ email: who, token: '000000', type: 'email' })
      const good = await window.client.auth.verifyOtp({ email: who, token: otp, type: 'email' })
      return { bad: bad.error?.code, user: good.data.user?.email, error: good.error, events: window.events }
    },
    { who, otp },
  )
  assert.equal(r.bad, 'otp_expired')
  assert.equal(r.error, null)
  assert.equal(r.user, who)
  assert.deepEqual(r.events, ['INITIAL_SESSION', 'SIGNED_IN'])
  await page.close()
})

test('OAuth with PKCE: redirect to the dev provider and back, the session is taken from the URL', async () => {
  const page = await f.openApp()
  const who = email('f')
  const start = await page.evaluate(
    async ({ url, key, who, back }) => {
      const client = window.authwire.createClient(url, key, { auth: { flowType: 'pkce' } })
      const { data, error } = await client.auth.signInWithOAuth({
        provider: 'dev',
        options: { redirectTo: back, queryParams: { login_hint: who }, skipBrowserRedirect: true },
      })
      return { url: data.url, error, verifier: Object.keys(localStorage).filter((k) => k.endsWith('-code-verifier')) }
    },
    { url: f.server.url, key: f.server.config.publishableKey, who, back: `${f.site.url}/index.html?next=1` },
  )
  assert.equal(start.error, null)
  assert.match(start.url, /code_challenge=.+&code_challenge_method=s256/)
  assert.equal(start.verifier.length, 1)
  // The real navigation: the provider redirects back with ?code=…
  await page.goto(start.url)
  await page.waitForURL(/code=/)
  await page.evaluate(() => window.authwireReady)
  const r = await page.evaluate(
    async ({ url, key }) => {
      const client = window.authwire.createClient(url, key, { auth: { flowType: 'pkce' } })
      const initial = await window.within(new Promise((ok) => client.auth.onAuthStateChange((e, s) => ok([e, s?.user?.email]))), {
        what: 'INITIAL_SESSION',
      })
      return { initial, href: location.href, verifier: localStorage.getItem('sb-127-auth-token-code-verifier') }
    },
    { url: f.server.url, key: f.server.config.publishableKey },
  )
  assert.deepEqual(r.initial, ['INITIAL_SESSION', who])
  assert.ok(!r.href.includes('code='), `the code is removed from the URL: ${r.href}`)
  assert.ok(r.href.includes('next=1'), 'other query parameters stay')
  assert.equal(r.verifier, null, 'the verifier is single-use')
  await page.close()
})

test('OAuth implicit flow: the fragment session is validated with /user and the URL cleaned', async () => {
  const page = await f.openApp()
  const who = email('f')
  const target = await page.evaluate(
    async ({ url, key, who, back }) => {
      const client = window.authwire.createClient(url, key)
      const { data } = await client.auth.signInWithOAuth({
        provider: 'dev',
        options: { redirectTo: back, queryParams: { login_hint: who }, skipBrowserRedirect: true },
      })
      return data.url
    },
    { url: f.server.url, key: f.server.config.publishableKey, who, back: `${f.site.url}/index.html` },
  )
  assert.ok(!target.includes('code_challenge'))
  await page.goto(target)
  await page.waitForURL(/access_token=/)
  await page.evaluate(() => window.authwireReady)
  const r = await page.evaluate(
    async ({ url, key }) => {
      const client = window.authwire.createClient(url, key)
      const events = []
      client.auth.onAuthStateChange((e, s) => events.push([e, s?.user?.email]))
      // SIGNED_IN follows INITIAL_SESSION once /user has validated the fragment's token.
      await window.waitFor(() => events.length >= 2, { what: () => `INITIAL_SESSION then SIGNED_IN, saw ${JSON.stringify(events)}` })
      return { events, hash: location.hash, stored: !!localStorage.getItem('sb-127-auth-token') }
    },
    { url: f.server.url, key: f.server.config.publishableKey },
  )
  assert.deepEqual(r.events.slice(0, 2), [['INITIAL_SESSION', who], ['SIGNED_IN', who]])
  assert.equal(r.hash, '')
  assert.equal(r.stored, true)
  await page.close()
})

test('setSession, updateUser, getUser and getClaims (ES256 verified with WebCrypto)', async () => {
  const page = await f.openApp()
  const who = email('f')
  const r = await page.evaluate(
    async ({ url, key, who }) => {
      const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
      const { data } = await a.auth.signUp({ email: who, password: 'correct horse' })
      const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
      const events = []
      b.auth.onAuthStateChange((e) => events.push(e))
      const set = await b.auth.setSession({ access_token: data.session.access_token, refresh_token: data.session.refresh_token })
      const upd = await b.auth.updateUser({ data: { instrument: 'bass' } })
      const user = await b.auth.getUser()
      const claims = await b.auth.getClaims()
      const forged = data.session.access_token.slice(0, -4) + 'AAAA'
      const bad = await b.auth.getClaims(forged)
      const garbage = await b.auth.getClaims('not-a-jwt')
      return {
        setUser: set.data.user?.email,
        setError: set.error,
        meta: upd.data.user?.user_metadata?.instrument,
        getUser: user.data.user?.email,
        sub: claims.data?.claims?.sub,
        alg: claims.data?.header?.alg,
        claimsError: claims.error,
        bad: bad.error?.code,
        badMessage: bad.error?.message,
        garbage: garbage.error?.code,
        events,
        id: data.user.id,
      }
    },
    { url: f.server.url, key: f.server.config.publishableKey, who },
  )
  assert.equal(r.setError, null)
  assert.equal(r.setUser, who)
  assert.equal(r.meta, 'bass')
  assert.equal(r.getUser, who)
  assert.equal(r.claimsError, null)
  assert.equal(r.alg, 'ES256')
  assert.equal(r.sub, r.id)
  assert.equal(r.bad, 'invalid_jwt')
  assert.match(r.badMessage, /signature/i)
  assert.equal(r.garbage, 'invalid_jwt')
  assert.deepEqual(r.events, ['INITIAL_SESSION', 'SIGNED_IN', 'USER_UPDATED'])
  await page.close()
})

test('signInWithIdToken with the dev provider; anonymous sign-in; out-of-scope APIs are typed errors', async () => {
  const page = await f.openApp()
  const r = await page.evaluate(
    async ({ url, key, sub }) => {
      const enc = (o) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
      const idToken = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub, email: `${sub}@example.com`, email_verified: true })}.`
      const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
      const id = await c.auth.signInWithIdToken({ provider: 'dev', token: idToken })
      const anonClient = window.authwire.createClient(url, key, { auth: { persistSession: false } })
      const anon = await anonClient.auth.signInAnonymously()
      const mfa = await c.auth.mfa.enroll({ factorType: 'totp' })
      const sso = await c.auth.signInWithSSO({ domain: 'x' })
      return {
        idEmail: id.data.user?.email,
        idError: id.error,
        anon: anon.data.user?.is_anonymous,
        mfa: mfa.error?.code,
        sso: sso.error?.code,
      }
    },
    { url: f.server.url, key: f.server.config.publishableKey, sub: `dev-${Math.random().toString(36).slice(2)}` },
  )
  assert.equal(r.idError, null)
  assert.match(r.idEmail, /@example\.com$/)
  assert.equal(r.anon, true)
  assert.equal(r.mfa, 'not_supported')
  assert.equal(r.sso, 'not_supported')
  await page.close()
})
