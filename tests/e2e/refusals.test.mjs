// Issue 11, "every refusal explained": forged, dead and refused tokens against
// `authwire-dev --strict-sessions true`, in gateway mode (the socket's apikey is the project
// key, the token goes in `phx_join`) and raw mode (`realtime.apikey: 'session'`: the token is
// the socket's apikey, so a refusal is an HTTP answer to the upgrade the browser cannot read).
// For each case: the server's own answer (handshake status and body, the join reply, the
// `system` message of an `access_token` push, REST, `GET /auth/v1/user`) and the SDK's code on
// the channel, in `diagnose().refusal` and, where the session is over, in `signOutReason()`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto'
import { request } from 'node:http'
import { fixture, email } from '../support/fixture.mjs'
import { service } from '../support/dev.mjs'

const strict = ['--seed', 'none', '--strict-sessions', 'true', '--sql', new URL('./refusals.sql', import.meta.url).pathname]
const f = fixture({
  servers: { gateway: { args: strict }, raw: { args: [...strict, '--mode', 'raw'] } },
  site: 'dist-test',
  browser: true,
})

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url')
const hs256 = (secret, header, claims) => {
  const head = `${b64(header)}.${b64(claims)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}
const now = () => Math.floor(Date.now() / 1000)
const admin = (srv) => ({ authorization: `Bearer ${srv.config.serviceRoleKey}` })

/** A real user signed in over the API: `{ id, access_token, refresh_token, claims }`; deleted after the test. */
async function realUser(t, srv) {
  const address = email('refusal')
  const created = await service(srv, '/auth/v1/admin/users', {
    method: 'POST',
    headers: admin(srv),
    body: JSON.stringify({ email: address, password: 'password123', email_confirm: true }),
  })
  assert.equal(created.status, 200, created.text)
  t.after(() => service(srv, `/auth/v1/admin/users/${created.json.id}`, { method: 'DELETE', headers: admin(srv) }))
  const r = await fetch(`${srv.url}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { apikey: srv.config.publishableKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: address, password: 'password123' }),
  })
  const s = await r.json()
  assert.equal(r.status, 200, JSON.stringify(s))
  const claims = JSON.parse(Buffer.from(s.access_token.split('.')[1], 'base64url'))
  return { id: created.json.id, email: address, ...s, claims }
}

/** The forged tokens of the matrix, from a real user's claims. */
function forge(srv, user) {
  const secret = srv.config.jwtSecret
  const hs = (claims, header = { alg: 'HS256', typ: 'JWT' }) => hs256(secret, header, claims)
  const base = { ...user.claims }
  const [h, p, sig] = user.access_token.split('.')
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const es = (header, claims) => {
    const head = `${b64(header)}.${b64(claims)}`
    return `${head}.${cryptoSign('sha256', Buffer.from(head), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  }
  const jwk = JSON.stringify(srv.config.jwks.keys[0])
  return {
    unknown_user: hs({ ...base, sub: randomUUID(), session_id: randomUUID() }),
    unknown_session: hs({ ...base, session_id: randomUUID() }),
    bad_signature: `${h}.${p}.${sig.slice(0, -6)}AAAAAA`,
    wrong_key: hs256('not-the-project-secret-not-the-project-secret', { alg: 'HS256', typ: 'JWT' }, base),
    alg_none: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
    // Algorithm confusion: HS256 keyed with the published ES256 public key.
    alg_confusion: hs256(jwk, { alg: 'HS256', typ: 'JWT', kid: srv.config.jwks.keys[0].kid }, base),
    unknown_kid: es({ alg: 'ES256', typ: 'JWT', kid: 'not-a-published-kid' }, base),
    expired: hs({ ...base, iat: now() - 7200, exp: now() - 3600 }),
    nbf_future: hs({ ...base, nbf: now() + 3600 }),
    missing_role: hs(Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'role'))),
    missing_exp: hs(Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'exp'))),
    wrong_aud: hs({ ...base, aud: 'someone-else' }),
  }
}

/**
 * In a page: a client whose `accessToken()` returns `token`, one channel subscribed; what the
 * subscribe callback saw, `diagnose()`, how often `accessToken()` was asked.
 */
async function joinWith(page, srv, mode, token, { waitMs = 8000 } = {}) {
  return page.evaluate(
    async ({ url, key, mode, token, waitMs }) => {
      let calls = 0
      const c = window.authwire.createClient(url, key, {
        accessToken: async () => (calls++, token),
        realtime: { apikey: mode },
      })
      const statuses = []
      // A presence listener: an accepted join is then answered with presence_state too.
      const ch = c.channel(`refusal-${Math.random().toString(36).slice(2)}`).on('presence', { event: 'sync' }, () => {})
      ch.subscribe((status, err) => statuses.push({ status, code: err?.code ?? null, message: err?.message ?? null }))
      try {
        await window.waitFor(() => statuses.some((s) => s.status !== 'SUBSCRIBED' && s.code && s.code !== 'connect_failed' && s.code !== 'socket_closed') || statuses.some((s) => s.status === 'SUBSCRIBED'), { timeoutMs: waitMs, what: 'a status' })
      } catch {}
      // A user or session gone is confirmed by the auth server (one request).
      if (statuses.some((s) => /_not_found$|_banned$/.test(s.code ?? ''))) {
        await window.waitFor(() => c.diagnose().realtime.refusal?.authCode, { timeoutMs: 3000, what: 'the auth server' }).catch(() => {})
      }
      const d = JSON.parse(JSON.stringify(c.diagnose()))
      const out = { statuses, refusal: d.realtime.refusal, calls, state: ch.state, topic: ch.topic }
      c.destroy()
      return out
    },
    { url: srv.url, key: srv.config.publishableKey, mode, token, waitMs },
  )
}

/** The answer to a WebSocket upgrade with `token` as the apikey: what a browser cannot read. */
function handshake(srv, token) {
  return new Promise((ok, fail) => {
    const u = new URL(`${srv.url}/realtime/v1/websocket?apikey=${encodeURIComponent(token)}&vsn=2.0.0`)
    const req = request(u, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
    })
    req.on('upgrade', (res, socket) => (socket.destroy(), ok(`${res.statusCode}`)))
    req.on('response', (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => ok(`${res.statusCode} ${body}`))
    })
    req.on('error', fail)
    req.end()
  })
}

/** `GET /auth/v1/user` and a REST read with the token: `status error_code|code`. */
async function httpAnswers(srv, token) {
  const headers = { apikey: srv.config.publishableKey, authorization: `Bearer ${token}` }
  const u = await fetch(`${srv.url}/auth/v1/user`, { headers })
  const uj = await u.json()
  const r = await fetch(`${srv.url}/rest/v1/refusal_probe?select=id`, { headers })
  const rj = await r.json().catch(() => ({}))
  return { user: `${u.status} ${uj.error_code ?? ''}`.trim(), userMessage: uj.msg ?? uj.message ?? '', rest: `${r.status} ${rj.code ?? ''}`.trim() }
}

// case → [SDK code in gateway mode, SDK code in raw mode, GET /user answer]; `SUBSCRIBED`
// where both real servers accept the token (Realtime checks only exp, iat, role; GoTrue also
// nbf; neither checks aud unless configured to).
const FORGED = {
  unknown_user: ['user_not_found', 'user_not_found', '403 user_not_found'],
  unknown_session: ['session_not_found', 'session_not_found', '403 session_not_found'],
  bad_signature: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  wrong_key: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  alg_none: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  alg_confusion: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  unknown_kid: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  expired: ['token_expired', 'token_expired', '403 bad_jwt'],
  missing_role: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  missing_exp: ['invalid_jwt', 'invalid_jwt', '403 bad_jwt'],
  nbf_future: ['SUBSCRIBED', 'SUBSCRIBED', '403 bad_jwt'],
  wrong_aud: ['SUBSCRIBED', 'SUBSCRIBED', '200'],
}

const table = []

test('forged tokens: each refused with the server\'s reason and its own code, at the handshake, the join, REST and /user, in both modes', async (t) => {
  const page = await f.openApp()
  for (const [mode, srv, apikey] of [['gateway', f.gateway, 'project'], ['raw', f.raw, 'session']]) {
    const user = await realUser(t, srv)
    const tokens = forge(srv, user)
    const from = (await service(srv, '/_dev/events?kind=ws_refused')).json.next
    const refusedTopics = []
    for (const [name, token] of Object.entries(tokens)) {
      const [gw, raw, userAnswer] = FORGED[name]
      const want = mode === 'gateway' ? gw : raw
      const r = await joinWith(page, srv, apikey, token)
      const http = await httpAnswers(srv, token)
      const hs = mode === 'raw' ? await handshake(srv, token) : '—'
      const first = r.statuses.find((s) => s.code && s.code !== 'connect_failed')
      const row = { mode, name, handshake: hs, join: first?.message ?? r.statuses[0]?.status, code: first?.code ?? r.statuses[0]?.status, refusal: r.refusal, user: http.user, rest: http.rest, calls: r.calls }
      table.push(row)
      const what = JSON.stringify(row)
      assert.equal(http.user, userAnswer, what)
      if (want === 'SUBSCRIBED') {
        assert.equal(r.statuses[0]?.status, 'SUBSCRIBED', what)
        continue
      }
      refusedTopics.push(r.topic)
      // Never SUBSCRIBED, never a bare timeout: the cause on the channel and in diagnose().
      assert.ok(!r.statuses.some((s) => s.status === 'SUBSCRIBED' || s.status === 'TIMED_OUT'), what)
      assert.equal(first?.code, want, what)
      assert.equal(r.refusal?.code, want, what)
      assert.ok(r.calls <= 3, `accessToken() asked ${r.calls} times: ${what}`)
      assert.notEqual(http.rest.split(' ')[0], '200', what)
      if (mode === 'raw' && name !== 'expired') {
        // The browser saw close 1006; the reason is GoTrue's answer about the same token.
        assert.match(hs, /^40[13] \{"error":/, what)
        assert.equal(r.refusal.authCode, userAnswer.split(' ')[1], what)
        assert.equal(r.refusal.message, http.userMessage, what)
      }
      // A user or session gone is confirmed by the auth server; a bad token is Realtime's word.
      if (mode === 'gateway') assert.equal(r.refusal.authCode, want.endsWith('_not_found') ? want : null, what)
    }
    // No data first: by the server's own record, a refused topic got nothing but the refusal
    // (a join the server accepted would have been answered with presence_state at least).
    const rec = (await service(srv, `/_dev/events?after=${from}&kind=frame_out`)).json.events
    const data = rec.filter((e) => refusedTopics.includes(e.topic) && !['phx_reply', 'phx_close', 'system'].includes(e.event))
    assert.deepEqual(data, [], `${mode}: frames sent on refused topics`)
    const accepted = rec.filter((e) => e.event === 'presence_state').length
    assert.ok(accepted >= 2, `${mode}: the accepted tokens' joins got presence_state (${accepted}), so the record would show data`)
  }
  await page.close()
})

test('a refused token pushed to a joined channel (access_token) closes it with the cause', async (t) => {
  const page = await f.openApp()
  const user = await realUser(t, f.gateway)
  const tokens = forge(f.gateway, user)
  for (const [name, want, reason] of [
    ['unknown_session', 'session_not_found', 'Session from session_id claim in JWT does not exist'],
    ['missing_role', 'invalid_jwt', 'Fields `role` and `exp` are required in JWT'],
  ]) {
    const r = await page.evaluate(
      async ({ url, key, good, bad }) => {
        let current = good
        const c = window.authwire.createClient(url, key, { accessToken: async () => current })
        const statuses = []
        const system = []
        const ch = c.channel(`push-${Math.random().toString(36).slice(2)}`)
        ch.on('system', {}, (p) => system.push(p))
        ch.subscribe((status, err) => statuses.push({ status, code: err?.code ?? null }))
        await window.waitFor(() => statuses.some((s) => s.status === 'SUBSCRIBED'), { what: 'SUBSCRIBED' })
        current = bad
        c.realtime.setAuth()
        await window.waitFor(() => statuses.some((s) => s.status === 'CLOSED'), { timeoutMs: 8000, what: 'CLOSED' })
        const d = JSON.parse(JSON.stringify(c.diagnose()))
        c.destroy()
        return { statuses, system, refusal: d.realtime.refusal }
      },
      { url: f.gateway.url, key: f.gateway.config.publishableKey, good: user.access_token, bad: tokens[name] },
    )
    const what = JSON.stringify(r)
    table.push({ mode: 'gateway', name: `${name} (access_token push)`, handshake: '—', join: r.system.find((p) => p.status === 'error')?.message, code: r.statuses.at(-1).code, refusal: r.refusal, user: '', rest: '', calls: '' })
    assert.deepEqual(r.statuses.map((s) => s.status), ['SUBSCRIBED', 'CLOSED'], what)
    assert.equal(r.statuses.at(-1).code, want, what)
    assert.equal(r.system.find((p) => p.status === 'error')?.message, reason, what)
    assert.equal(r.refusal?.code, want, what)
  }
  await page.close()
})

test("an accessToken() that keeps returning an expired token is asked with backoff and the page stays responsive", async () => {
  const page = await f.openApp()
  const expired = hs256(f.gateway.config.jwtSecret, { alg: 'HS256', typ: 'JWT' }, { sub: randomUUID(), role: 'authenticated', exp: now() - 60 })
  const r = await page.evaluate(
    async ({ url, key, expired }) => {
      const asked = []
      const t0 = performance.now()
      const c = window.authwire.createClient(url, key, { accessToken: async () => (asked.push(Math.round(performance.now() - t0)), expired) })
      const statuses = []
      c.channel('expired-forever').subscribe((status, err) => statuses.push({ status, code: err?.code ?? null }))
      // A timer that must keep firing: a microtask loop would starve it.
      let ticks = 0
      const tick = setInterval(() => ticks++, 100)
      await new Promise((ok) => setTimeout(ok, 9_500))
      clearInterval(tick)
      const d = JSON.parse(JSON.stringify(c.diagnose()))
      const seen = [...statuses]
      c.destroy()
      return { asked, statuses: seen, ticks, refusal: d.realtime.refusal }
    },
    { url: f.gateway.url, key: f.gateway.config.publishableKey, expired },
  )
  const what = JSON.stringify(r)
  // Asked at 0, 1, 3 and 8 s (then 18, 48 s and once a minute: the unit test covers the minute).
  assert.equal(r.asked.length, 4, what)
  assert.ok(r.ticks >= 60, `the page's timers ran (${r.ticks} of ~95): ${what}`)
  assert.deepEqual(r.statuses, [{ status: 'CHANNEL_ERROR', code: 'token_expired' }], what)
  assert.equal(r.refusal?.code, 'token_expired', what)
  await page.close()
})

test('the second report: real users from the admin API; deleted, banned or signed out elsewhere, each named, in both modes', async (t) => {
  const page = await f.openApp()
  for (const [mode, srv, apikey] of [['gateway', f.gateway, 'project'], ['raw', f.raw, 'session']]) {
    for (const [name, want] of [
      ['deleted before subscribe', 'user_not_found'],
      ['banned', 'user_banned'],
      ['signed out elsewhere', 'session_not_found'],
      ['deleted while subscribed', 'user_not_found'],
    ]) {
      const user = await realUser(t, srv)
      const before = name === 'deleted while subscribed' ? null : name
      const act = async (what) => {
        if (what === 'deleted before subscribe' || what === 'deleted while subscribed') {
          const r = await service(srv, `/auth/v1/admin/users/${user.id}`, { method: 'DELETE', headers: admin(srv) })
          assert.equal(r.status, 200, r.text)
        } else if (what === 'banned') {
          const r = await service(srv, `/auth/v1/admin/users/${user.id}`, { method: 'PUT', headers: admin(srv), body: JSON.stringify({ ban_duration: '24h' }) })
          assert.equal(r.status, 200, r.text)
        } else {
          const r = await fetch(`${srv.url}/auth/v1/logout?scope=global`, { method: 'POST', headers: { apikey: srv.config.publishableKey, authorization: `Bearer ${user.access_token}` } })
          assert.equal(r.status, 204)
        }
      }
      await page.evaluate(
        ({ url, key, session, apikey }) => {
          window.logs = []
          window.c = window.authwire.createClient(url, key, { auth: { persistSession: false }, realtime: { apikey, logger: (k, m) => window.logs.push(`${k} ${m}`) } })
          window.statuses = []
          return window.c.auth.setSession(session)
        },
        { url: srv.url, key: srv.config.publishableKey, apikey, session: { access_token: user.access_token, refresh_token: user.refresh_token } },
      )
      if (before) await act(before)
      const subscribed = page.evaluate(
        async ({ apikey }) => {
          window.ch = window.c.channel(`user-${Math.random().toString(36).slice(2)}`, { config: { private: true } })
          window.ch.subscribe((status, err) => window.statuses.push({ status, code: err?.code ?? null }))
          await window.waitFor(() => window.statuses.length > 0, { timeoutMs: 8000, what: 'a status' })
          return window.statuses[0].status
        },
        { apikey },
      )
      if (!before) {
        assert.equal(await subscribed, 'SUBSCRIBED')
        await act(name)
        // The next refresh finds the session gone (a timer would do it before expiry).
        await page.evaluate(() => window.c.auth.refreshSession())
      } else await subscribed
      const r = await page.evaluate(async () => {
        await window.waitFor(() => window.c.auth.signOutReason()?.reason === 'session_revoked', { timeoutMs: 8000, what: 'the session to end' }).catch(() => {})
        const d = JSON.parse(JSON.stringify(window.c.diagnose()))
        const out = { logs: window.logs.filter((l) => !/heartbeat|phx_reply|push:|receive:/.test(l)).slice(-12), statuses: [...window.statuses], reason: window.c.auth.signOutReason(), refusal: d.realtime.refusal }
        window.c.destroy()
        return out
      })
      const what = `${mode} ${name}: ${JSON.stringify(r)}`
      table.push({ mode, name, handshake: '', join: r.refusal?.message, code: r.statuses.find((s) => s.code && s.code !== 'connect_failed')?.code, refusal: r.refusal, user: '', rest: '', calls: '' })
      assert.deepEqual(r.reason, { reason: 'session_revoked', code: want }, what)
      assert.equal(r.refusal?.code, want, what)
      if (before) {
        assert.ok(!r.statuses.some((s) => s.status === 'SUBSCRIBED'), what)
        assert.equal(r.statuses.find((s) => s.code && s.code !== 'connect_failed')?.code, want, what)
      }
    }
  }
  await page.close()
})

test('the refusal table (for the README)', () => {
  const cell = (x) => String(x ?? '').replaceAll('|', '\\|').slice(0, 110)
  const lines = ['| mode | case | handshake (raw) | server reason | SDK code | diagnose().refusal |', '|---|---|---|---|---|---|']
  for (const r of table) lines.push(`| ${r.mode} | ${r.name} | ${cell(r.handshake)} | ${cell(r.join)} | \`${r.code}\` | ${r.refusal ? `\`${r.refusal.code}\`${r.refusal.authCode ? ` (auth: \`${r.refusal.authCode}\`)` : ''}` : '—'} |`)
  console.log(lines.join('\n'))
  assert.ok(table.length >= 30)
})

test('setSession() with a forged, expired or refused token settles with a typed error, no session', async (t) => {
  const page = await f.openApp()
  const user = await realUser(t, f.gateway)
  const tokens = forge(f.gateway, user)
  const r = await page.evaluate(
    async ({ url, key, tokens, refresh }) => {
      const out = {}
      for (const [name, access_token] of Object.entries(tokens)) {
        const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
        const t0 = performance.now()
        const { data, error } = await window.within(c.auth.setSession({ access_token, refresh_token: name === 'expired' ? 'zzzzzzzzzzzz' : refresh }), { timeoutMs: 12_000, what: name })
        out[name] = { code: error?.code ?? null, session: !!data.session, ms: Math.round(performance.now() - t0), reason: c.auth.signOutReason() }
        c.destroy()
      }
      return out
    },
    { url: f.gateway.url, key: f.gateway.config.publishableKey, tokens, refresh: user.refresh_token },
  )
  const what = JSON.stringify(r)
  for (const name of ['unknown_user', 'unknown_session']) assert.equal(r[name].code, name.replace('unknown_', '') + '_not_found', what)
  for (const name of ['bad_signature', 'wrong_key', 'alg_none', 'alg_confusion', 'unknown_kid', 'missing_role', 'nbf_future']) assert.equal(r[name].code, 'bad_jwt', `${name}: ${what}`)
  // An expired token (and, as auth-js, one without `exp`) is refreshed first: an unknown
  // refresh token is refused; the user's real one gives a fresh session from the server.
  assert.equal(r.expired.code, 'refresh_token_not_found', what)
  assert.deepEqual([r.missing_exp.code, r.missing_exp.session], [null, true], what)
  for (const [name, v] of Object.entries(r)) {
    if (!['wrong_aud', 'missing_exp'].includes(name)) assert.equal(v.session, false, `${name}: ${what}`)
    assert.ok(v.ms < 10_000, `${name} settled within the request timeout: ${what}`)
  }
  console.log('setSession', what)
  await page.close()
})
