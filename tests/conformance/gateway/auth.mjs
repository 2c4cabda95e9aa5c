// Case 1: GoTrue through supabase-js (auth-js 2.119): what an app sees, error codes included.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PASSWORD, decodeJwt } from '../lib/support.mjs'
import { email } from '../../support/fixture.mjs'
import { lastMail } from '../../support/dev.mjs'

export default function authCases(ctx) {
  describe('auth (supabase-js)', () => {
    test('sign up, sign in, wrong password, weak password, duplicate', async () => {
      const c = ctx.clients.make()
      const events = []
      c.auth.onAuthStateChange((e) => events.push(e))
      const address = email('signup')
      const up = await c.auth.signUp({ email: address, password: PASSWORD, options: { data: { plan: 'free' } } })
      assert.equal(up.error, null)
      assert.equal(up.data.user.email, address)
      assert.deepEqual(up.data.user.user_metadata.plan, 'free')
      assert.ok(up.data.session?.access_token && up.data.session.refresh_token)
      assert.match(up.data.session.refresh_token, /^[a-z0-9]{12}$/)
      const claims = decodeJwt(up.data.session.access_token)
      assert.equal(claims.sub, up.data.user.id)
      assert.equal(claims.role, 'authenticated')
      assert.equal(claims.iss, `${ctx.server.url}/auth/v1`)

      const dup = await c.auth.signUp({ email: address, password: PASSWORD })
      assert.equal(dup.error?.status, 422)
      assert.equal(dup.error?.code, 'user_already_exists')

      const weak = await c.auth.signUp({ email: email('weak'), password: '123' })
      assert.equal(weak.error?.name, 'AuthWeakPasswordError')
      assert.equal(weak.error?.status, 422)
      assert.equal(weak.error?.code, 'weak_password')
      assert.deepEqual(weak.error?.reasons, ['length'])

      const wrong = await c.auth.signInWithPassword({ email: address, password: 'not-the-password' })
      assert.equal(wrong.error?.name, 'AuthApiError')
      assert.equal(wrong.error?.status, 400)
      assert.equal(wrong.error?.code, 'invalid_credentials')
      assert.equal(wrong.error?.message, 'Invalid login credentials')
      const nobody = await c.auth.signInWithPassword({ email: email('nobody'), password: PASSWORD })
      assert.equal(nobody.error?.code, 'invalid_credentials')

      const ok = await c.auth.signInWithPassword({ email: address, password: PASSWORD })
      assert.equal(ok.error, null)
      assert.equal(ok.data.user.id, up.data.user.id)
      assert.notEqual(ok.data.session.refresh_token, up.data.session.refresh_token)
      assert.deepEqual(decodeJwt(ok.data.session.access_token).amr.map((a) => a.method), ['password'])
      assert.ok(events.includes('SIGNED_IN'))
    })

    test('getUser and updateUser (metadata, password)', async () => {
      const c = await ctx.clients.user('update')
      const events = []
      c.auth.onAuthStateChange((e) => events.push(e))
      const got = await c.auth.getUser()
      assert.equal(got.error, null)
      assert.equal(got.data.user.id, c.userId)
      assert.equal(got.data.user.email, c.email)
      // getUser(jwt) checks a token that is not the client's own session.
      const byToken = await ctx.clients.make().auth.getUser(c.session.access_token)
      assert.equal(byToken.data.user.id, c.userId)

      const upd = await c.auth.updateUser({ data: { nick: 'ada', plan: 'pro' } })
      assert.equal(upd.error, null)
      assert.equal(upd.data.user.user_metadata.nick, 'ada')
      const removed = await c.auth.updateUser({ data: { plan: null } })
      assert.equal(removed.data.user.user_metadata.nick, 'ada')
      assert.equal('plan' in removed.data.user.user_metadata, false)
      assert.ok(events.includes('USER_UPDATED'))
      const { data } = await c.auth.getSession()
      assert.equal(data.session.user.user_metadata.nick, 'ada')

      const pw = await c.auth.updateUser({ password: 'another-secret-9' })
      assert.equal(pw.error, null)
      const other = ctx.clients.make()
      assert.equal((await other.auth.signInWithPassword({ email: c.email, password: PASSWORD })).error?.code, 'invalid_credentials')
      assert.equal((await other.auth.signInWithPassword({ email: c.email, password: 'another-secret-9' })).error, null)
    })

    test('getClaims verifies the ES256 access token against the JWKS', async () => {
      const c = await ctx.clients.user('claims')
      const { data, error } = await c.auth.getClaims()
      assert.equal(error, null)
      assert.equal(data.claims.sub, c.userId)
      assert.equal(data.header.alg, 'ES256')
      assert.equal(data.header.kid, ctx.server.config.jwks.keys[0].kid)
      // A token with a tampered payload does not verify.
      const [h, , sig] = c.session.access_token.split('.')
      const body = Buffer.from(JSON.stringify({ ...decodeJwt(c.session.access_token), role: 'service_role' })).toString('base64url')
      const bad = await c.auth.getClaims(`${h}.${body}.${sig}`)
      assert.ok(bad.error, 'a tampered token verified')
    })

    test('refreshSession rotates; the parent of the active token gets the active one back', async () => {
      const c = await ctx.clients.user('refresh')
      const events = []
      c.auth.onAuthStateChange((e, s) => events.push([e, s?.refresh_token]))
      const first = c.session
      const r = await c.auth.refreshSession()
      assert.equal(r.error, null)
      assert.notEqual(r.data.session.refresh_token, first.refresh_token)
      assert.equal(r.data.session.user.id, c.userId)
      assert.deepEqual(events.at(-1), ['TOKEN_REFRESHED', r.data.session.refresh_token])
      // A client that lost the answer and presents the old token again: GoTrue returns the
      // session's active token (auth-session.md §7), not a third one.
      const again = await ctx.clients.make().auth.refreshSession({ refresh_token: first.refresh_token })
      assert.equal(again.error, null)
      assert.equal(again.data.session.refresh_token, r.data.session.refresh_token)
      // An unknown token.
      const bad = await ctx.clients.make().auth.refreshSession({ refresh_token: 'aaaaaaaaaaaa' })
      assert.equal(bad.error?.status, 400)
      assert.equal(bad.error?.code, 'refresh_token_not_found')
    })

    test('sign out: others, local, global', async () => {
      const address = email('scopes')
      await ctx.clients.make().auth.signUp({ email: address, password: PASSWORD })
      // Three sessions of one user.
      const [a, b, c] = [ctx.clients.make(), ctx.clients.make(), ctx.clients.make()]
      for (const s of [a, b, c]) assert.equal((await s.auth.signInWithPassword({ email: address, password: PASSWORD })).error, null)
      const sessionOf = async (s) => (await s.auth.getSession()).data.session
      const [, sb, sc] = await Promise.all([a, b, c].map(sessionOf))
      const refresh = async (session) => {
        const r = await ctx.clients.make().auth.refreshSession({ refresh_token: session.refresh_token })
        return r.error ? r.error.code : 'ok'
      }
      // others: every session but a's.
      assert.equal((await a.auth.signOut({ scope: 'others' })).error, null)
      assert.deepEqual([await refresh(sb), await refresh(sc)], ['refresh_token_not_found', 'refresh_token_not_found'])
      assert.equal((await a.auth.refreshSession()).error, null)
      // A signed-out session's access token is refused by GoTrue (its session is gone), which
      // supabase-js reports as a missing session.
      const gone = await ctx.clients.make().auth.getUser(sb.access_token)
      assert.equal(gone.error?.name, 'AuthSessionMissingError')
      // local: only a's own session; a's client forgets it.
      const [d, e] = [ctx.clients.make(), ctx.clients.make()]
      for (const s of [d, e]) await s.auth.signInWithPassword({ email: address, password: PASSWORD })
      const events = []
      a.auth.onAuthStateChange((ev) => events.push(ev))
      const aBefore = await sessionOf(a)
      assert.equal((await a.auth.signOut({ scope: 'local' })).error, null)
      assert.ok(events.includes('SIGNED_OUT'))
      assert.equal(await sessionOf(a), null)
      assert.equal(await refresh(aBefore), 'refresh_token_not_found')
      const se = await sessionOf(e)
      assert.equal((await d.auth.refreshSession()).error, null)
      // global (the default): all of them.
      assert.equal((await d.auth.signOut()).error, null)
      assert.equal(await refresh(se), 'refresh_token_not_found')
    })

    test('anonymous sign-in', async () => {
      const c = ctx.clients.make()
      const { data, error } = await c.auth.signInAnonymously({ options: { data: { guest: true } } })
      assert.equal(error, null)
      assert.equal(data.user.is_anonymous, true)
      assert.equal(data.user.user_metadata.guest, true)
      const claims = decodeJwt(data.session.access_token)
      assert.equal(claims.is_anonymous, true)
      assert.equal(claims.role, 'authenticated')
      assert.deepEqual(claims.amr.map((a) => a.method), ['anonymous'])
      assert.equal((await c.auth.getUser()).data.user.is_anonymous, true)
    })

    test('email OTP via /_dev/mail and verifyOtp', async () => {
      const c = ctx.clients.make()
      const address = email('otp')
      const sent = await c.auth.signInWithOtp({ email: address })
      assert.equal(sent.error, null)
      assert.equal(sent.data.session, null)
      const mail = await lastMail(ctx.server, address)
      assert.equal(mail.to, address)
      assert.match(mail.otp, /^\d{6}$/)
      const wrong = await c.auth.verifyOtp({ email: address, token: mail.otp === '000000' ? '111111' : '000000', type: 'email' })
      assert.equal(wrong.error?.status, 403)
      assert.equal(wrong.error?.code, 'otp_expired')
      const { data, error } = await c.auth.verifyOtp({ email: address, token: mail.otp, type: 'email' })
      assert.equal(error, null)
      assert.equal(data.user.email, address)
      assert.ok(data.session.access_token)
      assert.equal((await c.auth.getUser()).data.user.id, data.user.id)
      // A code works once.
      const reused = await ctx.clients.make().auth.verifyOtp({ email: address, token: mail.otp, type: 'email' })
      assert.equal(reused.error?.code, 'otp_expired')
    })

    test('password recovery: resetPasswordForEmail, the emailed code, PASSWORD_RECOVERY, a new password', async () => {
      const u = await ctx.clients.user('recover')
      const c = ctx.clients.make()
      const events = []
      c.auth.onAuthStateChange((e) => events.push(e))
      assert.equal((await c.auth.resetPasswordForEmail(u.email)).error, null)
      const mail = await lastMail(ctx.server, u.email)
      assert.equal(mail.kind, 'recovery')
      const { data, error } = await c.auth.verifyOtp({ email: u.email, token: mail.otp, type: 'recovery' })
      assert.equal(error, null)
      assert.equal(data.user.id, u.userId)
      assert.ok(events.includes('PASSWORD_RECOVERY'), JSON.stringify(events))
      assert.equal((await c.auth.updateUser({ password: 'recovered-pw-1' })).error, null)
      assert.equal((await ctx.clients.make().auth.signInWithPassword({ email: u.email, password: 'recovered-pw-1' })).error, null)
    })

    test('OTP for an unknown address with shouldCreateUser: false', async () => {
      const r = await ctx.clients.make().auth.signInWithOtp({ email: email('nobody-otp'), options: { shouldCreateUser: false } })
      assert.equal(r.error?.status, 422)
      assert.equal(r.error?.code, 'otp_disabled')
    })

    test('PKCE: signInWithOAuth (dev provider), follow the redirect, exchangeCodeForSession', async () => {
      const c = ctx.clients.make(undefined, { auth: { flowType: 'pkce' } })
      const address = email('pkce')
      const redirectTo = 'http://localhost:3000/callback'
      const { data, error } = await c.auth.signInWithOAuth({
        provider: 'dev',
        options: { redirectTo, skipBrowserRedirect: true, queryParams: { login_hint: address } },
      })
      assert.equal(error, null)
      const url = new URL(data.url)
      assert.equal(url.pathname, '/auth/v1/authorize')
      assert.equal(url.searchParams.get('code_challenge_method'), 's256')
      const res = await fetch(data.url, { redirect: 'manual' })
      assert.ok([302, 303].includes(res.status), `status ${res.status}`)
      const location = new URL(res.headers.get('location'))
      assert.equal(location.origin + location.pathname, redirectTo)
      const code = location.searchParams.get('code')
      assert.ok(code)
      const ex = await c.auth.exchangeCodeForSession(code)
      assert.equal(ex.error, null)
      assert.equal(ex.data.user.email, address)
      assert.equal(ex.data.user.app_metadata.provider, 'dev')
      assert.equal((await c.auth.getSession()).data.session.access_token, ex.data.session.access_token)
      // A code is exchanged once; a wrong verifier is refused.
      const again = await fetch(`${ctx.server.url}/auth/v1/token?grant_type=pkce`, {
        method: 'POST',
        headers: { apikey: ctx.server.config.publishableKey, 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' },
        body: JSON.stringify({ auth_code: code, code_verifier: 'x'.repeat(43) }),
      })
      assert.equal(again.status, 404)
      assert.equal((await again.json()).code, 'flow_state_not_found')
    })
  })
}
