// Conformance against an authwire-dev with 3-second access tokens and a 1-second refresh-token
// reuse interval: supabase-js auto-refresh (auth and the Realtime hand-off), a channel closed by
// its token's expiry (case 5), and refresh-token reuse detection (case 1).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { conformanceFixture, decodeJwt } from './lib/support.mjs'
import { subscribe, waitFor, untilClock } from '../support/wait.mjs'
import { email } from '../support/fixture.mjs'

const TTL = 3
const REUSE_INTERVAL_MS = 1000
const f = conformanceFixture({ server: { args: ['--token-ttl', String(TTL), '--refresh-reuse-interval', String(REUSE_INTERVAL_MS / 1000)] } })

test('tokens live --token-ttl seconds', async () => {
  const c = await f.clients.user('ttl')
  const claims = decodeJwt(c.session.access_token)
  assert.equal(claims.exp - claims.iat, TTL)
  assert.equal(c.session.expires_in, TTL)
})

test('auto-refresh: the ticker refreshes an expiring session; an expired one is refreshed on use', async () => {
  const c = f.clients.make(undefined, { auth: { autoRefreshToken: true } })
  const events = []
  c.auth.onAuthStateChange((e, s) => events.push([e, s?.access_token]))
  const { data } = await c.auth.signUp({ email: email('auto'), password: 'correct-horse-1' })
  const first = data.session
  // In Node the ticker runs all the time; a tick now (as on start-up) sees a session that
  // expires within 3 ticks and refreshes it.
  await c.auth.startAutoRefresh()
  await waitFor(() => events.some(([e]) => e === 'TOKEN_REFRESHED'), { what: 'TOKEN_REFRESHED from the ticker' })
  const refreshed = events.find(([e]) => e === 'TOKEN_REFRESHED')[1]
  assert.notEqual(refreshed, first.access_token)
  c.auth.stopAutoRefresh()
  // Past its exp the token is refused by GoTrue: asked until it is (the server's clock
  // decides), and the refusal must be the expiry...
  const checker = f.clients.make()
  const stale = await waitFor(
    async () => {
      const r = await checker.auth.getUser(refreshed)
      return r.error ? r : null
    },
    { timeoutMs: (TTL + 2) * 1000, intervalMs: 100, what: 'GoTrue to refuse the refreshed token' },
  )
  assert.equal(stale.error?.status, 403)
  assert.equal(stale.error?.code, 'bad_jwt')
  // ...and supabase-js refreshes it before using it.
  const n = events.length
  const user = await c.auth.getUser()
  assert.equal(user.error, null)
  assert.equal(user.data.user.id, first.user.id)
  assert.ok(events.slice(n).some(([e]) => e === 'TOKEN_REFRESHED'))
})

test('Realtime: supabase-js hands refreshed tokens to the channel, which outlives the first token', async () => {
  // Heartbeats every second: each one asks supabase-js for the current token (setAuth), which
  // refreshes the session when it is about to expire and pushes access_token to the channel.
  const c = f.clients.make(undefined, { realtime: { heartbeatIntervalMs: 1000 } })
  await c.auth.signUp({ email: email('rt-refresh'), password: 'correct-horse-1' })
  await c.realtime.setAuth()
  const system = []
  const got = []
  const ch = await subscribe(c.channel('ttl-room', { config: { broadcast: { self: true, ack: true } } }).on('system', {}, (p) => system.push(p)).on('broadcast', { event: '*' }, (m) => got.push(m)))
  // The token the channel joined with (or a later one, which only makes the wait longer).
  const first = decodeJwt(c.realtime.accessTokenValue)
  // What is under test is time: the channel must outlive that token. The server checks a
  // channel's token when it expires (whole seconds: by exp + 1 s) and would then send "Token
  // has expired" and close the channel. Nothing observable marks that check, so wait for it on
  // the clock, anchored to the token's exp. The ack of a broadcast sent after it comes behind
  // anything the check sent (the server handles a socket in one task, in order).
  await untilClock((first.exp + 1) * 1000 + 250)
  const sent = await ch.send({ type: 'broadcast', event: 'still', payload: {} })
  assert.deepEqual(system, [])
  assert.equal(ch.state, 'joined')
  assert.equal(sent, 'ok')
  await waitFor(() => got.length === 1, { what: 'a broadcast after the first token expired' })
  await c.removeChannel(ch)
})

test('an expired token closes the channel: system "Token has expired N seconds ago", then CLOSED', async () => {
  const c = await f.clients.user('expire')
  // A fixed token (no callback): nothing refreshes it.
  await c.realtime.setAuth(c.session.access_token)
  const system = []
  const seen = []
  const ch = c.channel('expiring-room').on('system', {}, (p) => system.push(p))
  const t0 = Date.now()
  await new Promise((ok, fail) =>
    ch.subscribe((s, e) => {
      seen.push(s)
      if (s === 'SUBSCRIBED') ok()
      if (s === 'CHANNEL_ERROR') fail(e)
    }),
  )
  await waitFor(() => seen.includes('CLOSED'), { timeoutMs: (TTL + 3) * 1000, what: 'CLOSED' })
  const took = Date.now() - t0
  assert.equal(system.length, 1)
  assert.match(system[0].message, /^Token has expired \d+ seconds ago$/)
  assert.deepEqual({ ...system[0], message: '' }, { extension: 'system', status: 'error', message: '', channel: 'expiring-room' })
  assert.ok(took <= (TTL + 2) * 1000, `closed after ${took} ms`)
  assert.deepEqual(seen, ['SUBSCRIBED', 'CLOSED'])
})

test('refresh-token reuse outside the interval: refresh_token_already_used, and the session is revoked', async () => {
  const holder = await f.clients.user('reuse')
  const t0 = holder.session.refresh_token
  const t1 = (await f.clients.make().auth.refreshSession({ refresh_token: t0 })).data.session.refresh_token
  // t0 was revoked before this answer arrived.
  const t0RevokedBy = Date.now()
  // The holder rotates again: its session now has t2 (t0 and t1 revoked).
  const r2 = await holder.auth.refreshSession({ refresh_token: t1 })
  assert.equal(r2.error, null)
  // A revoked token's reuse window runs on the server's clock, which no answer shows (and
  // asking with t0 inside it would rotate it again): wait on the same machine clock until the
  // window that began before t0RevokedBy is over.
  await untilClock(t0RevokedBy + REUSE_INTERVAL_MS + 100)
  // t0 is neither active nor the parent of the active token, and its reuse window is over.
  const reuse = await f.clients.make().auth.refreshSession({ refresh_token: t0 })
  const familyRevokedBy = Date.now()
  assert.equal(reuse.error?.status, 400)
  assert.equal(reuse.error?.code, 'refresh_token_already_used')
  assert.equal(reuse.error?.message, 'Invalid Refresh Token: Already Used')
  // The whole family was revoked: the holder's current token is refused too (once the reuse
  // window of that revocation has passed). supabase-js keeps a session whose refresh failed
  // while its access token is still valid (auth-session.md §4.8), so wait for the token's exp:
  // then reading the session refreshes, fails for good, and drops it. supabase-js judges the
  // exp by its own clock, so that is the clock to wait on.
  const expiresAt = r2.data.session.expires_at
  await untilClock(Math.max(familyRevokedBy + REUSE_INTERVAL_MS + 100, (expiresAt + 1) * 1000))
  const events = []
  holder.auth.onAuthStateChange((e) => events.push(e))
  const { data, error } = await holder.auth.getSession()
  assert.equal(data.session, null)
  assert.equal(error?.code, 'refresh_token_already_used')
  assert.ok(events.includes('SIGNED_OUT'), JSON.stringify(events))
  const direct = await f.clients.make().auth.refreshSession({ refresh_token: r2.data.session.refresh_token })
  assert.equal(direct.error?.code, 'refresh_token_already_used')
})
