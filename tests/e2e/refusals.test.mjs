// Issue 11, "every refusal explained": forged, dead and refused tokens against
// `authwire-dev --strict-sessions true`, in gateway mode (the socket's apikey is the project
// key, the token goes in `phx_join`) and raw mode (`realtime.apikey: 'session'`: the token is
// the socket's apikey, so a refusal is an HTTP answer to the upgrade the browser cannot read).
// For each case: the server's own answer (handshake status and body, the join reply, the
// `system` message of an `access_token` push, REST, `GET /auth/v1/user`) and the SDK's code on
// the channel, in `diagnose().refusal` and, where the session is over, in `signOutReason()`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto'
import { fixture, email } from '../support/fixture.mjs'
import { service } from '../support/dev.mjs'

const strict = ['--seed', 'none', '--strict-sessions', 'true']
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
      const ch = c.channel(`refusal-${Math.random().toString(36).slice(2)}`)
      ch.subscribe((status, err) => statuses.push({ status, code: err?.code ?? null, message: err?.message ?? null }))
      try {
        await window.waitFor(() => statuses.some((s) => s.status !== 'SUBSCRIBED' && s.code && s.code !== 'connect_failed' && s.code !== 'socket_closed') || statuses.some((s) => s.status === 'SUBSCRIBED'), { timeoutMs: waitMs, what: 'a status' })
      } catch {}
      const d = JSON.parse(JSON.stringify(c.diagnose()))
      const out = { statuses, refusal: d.realtime.refusal, calls, state: ch.state }
      c.destroy()
      return out
    },
    { url: srv.url, key: srv.config.publishableKey, mode, token, waitMs },
  )
}

test('explore', async (t) => {
  const page = await f.openApp()
  for (const [name, srv, mode] of [['gateway', f.gateway, 'project'], ['raw', f.raw, 'session']]) {
    const user = await realUser(t, srv)
    const tokens = forge(srv, user)
    const userAnswer = async (tok) => {
      const r = await fetch(`${srv.url}/auth/v1/user`, { headers: { apikey: srv.config.publishableKey, authorization: `Bearer ${tok}` } })
      return `${r.status} ${await r.text()}`
    }
    for (const [k, tok] of Object.entries(tokens)) {
      const r = await joinWith(page, srv, mode, tok)
      console.log(name, k, JSON.stringify(r), '| /user:', await userAnswer(tok))
    }
  }
  await page.close()
})
