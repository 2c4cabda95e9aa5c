// Conformance against an authwire-dev in raw mode (`--mode raw`: a bare Realtime server, no
// gateway): the publishable key is refused at the socket with the real 401 body (case 6),
// while every HTTP endpoint still takes it; then the tenant-wide limits of
// realtime-protocol.md §9.4 / §11 ("max_concurrent_users", last because it trips the whole
// server; "max_joins_per_second" on a server of its own, so that no earlier join counts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { conformanceFixture, rawUpgrade, signHS256, now } from './lib/support.mjs'
import { subscribe, waitFor, within } from '../support/wait.mjs'
import { email } from '../support/fixture.mjs'
import { stats } from '../support/dev.mjs'
import { Phx, joinPayload } from './lib/phx.mjs'

const f = conformanceFixture({ server: { args: ['--mode', 'raw'] }, burst: { args: ['--mode', 'raw'] } })

/** Resolves once the server has no socket left (they are unregistered when they end). */
const noSockets = (server) => waitFor(async () => (await stats(server)).realtime.connections === 0, { what: 'the server to drop every socket' })

const ws = (q) => `/realtime/v1/websocket?vsn=2.0.0${q}`

test('the publishable key is refused at the handshake with the real 401 body', async () => {
  const r = await rawUpgrade(f.server.url, ws(`&apikey=${f.server.config.publishableKey}`))
  assert.equal(r.status, 401)
  assert.match(r.headers['content-type'], /application\/json/)
  assert.equal(r.body, '{"error":"The token provided is not a valid JWT"}')
  // Also in the x-api-key header, and the secret key likewise.
  const h = await rawUpgrade(f.server.url, ws(''), { 'x-api-key': f.server.config.secretKey })
  assert.deepEqual([h.status, JSON.parse(h.body)], [401, { error: 'The token provided is not a valid JWT' }])
  const none = await rawUpgrade(f.server.url, ws(''))
  assert.deepEqual([none.status, JSON.parse(none.body)], [401, { error: 'API key is missing' }])
  // A forged user token: strict sessions apply in raw mode too.
  const forged = signHS256({ sub: randomUUID(), role: 'authenticated', exp: now() + 600 }, f.server.config.jwtSecret)
  const up = await rawUpgrade(f.server.url, ws(`&apikey=${forged}`))
  assert.deepEqual([up.status, JSON.parse(up.body)], [403, { error: 'User from sub claim in JWT does not exist' }])
})

test('supabase-js with the publishable key: HTTP works, the socket never opens (CHANNEL_ERROR, no SUBSCRIBED)', async () => {
  const c = f.clients.make(f.server.config.publishableKey, { realtime: { reconnectAfterMs: () => 60_000 } })
  // Every HTTP endpoint accepts the project keys in both modes.
  const up = await c.auth.signUp({ email: email('raw'), password: 'correct-horse-1' })
  assert.equal(up.error, null)
  await c.auth.signOut()
  const seen = []
  c.channel('raw-room').subscribe((s, e) => seen.push([s, e?.message]))
  await waitFor(() => seen.length, { what: 'the first status of raw-room' })
  assert.equal(seen[0]?.[0], 'CHANNEL_ERROR', JSON.stringify(seen))
  assert.ok(!seen.some(([s]) => s === 'SUBSCRIBED'))
  c.realtime.disconnect()
  // The legacy anon key is a JWT: it works in raw mode.
  const anon = f.clients.make(f.server.config.anonKey)
  await subscribe(anon.channel('raw-room'))
})

test('max_joins_per_second: over 100/s on average, joins are refused, the socket closed with 1001, handshakes 429', async () => {
  // A server of its own: the join rate is averaged over 5 s, and no earlier join may count.
  const server = f.burst
  const sockets = await Promise.all(Array.from({ length: 7 }, () => Phx.connect(server.url, { apikey: server.config.anonKey })))
  try {
    // Pipelined joins, 90 per socket (under the 100 channels per socket).
    const replies = sockets.map((s, k) =>
      Array.from({ length: 90 }, (_, i) => {
        const ref = s.push(`j${i}`, `realtime:burst-${k}-${i}`, 'phx_join', joinPayload(), `j${i}`)
        return s.reply(ref, 10_000).then(
          (r) => r.payload,
          () => null,
        )
      }),
    )
    const t0 = Date.now()
    const first = await within(Promise.any(sockets.map((s) => s.closed)), { timeoutMs: 10_000, what: 'a socket closed' }).catch(() => null)
    const h = await rawUpgrade(server.url, ws(`&apikey=${server.config.anonKey}`))
    const all = (await Promise.all(replies.flat())).filter(Boolean)
    const note = `first close ${JSON.stringify(first)} after ${Date.now() - t0} ms; ${all.length} replies`
    assert.equal(first?.code, 1001, note)
    assert.deepEqual([h.status, h.body], [429, '{"error":"Too many joins per second"}'], note)
    const refused = all.filter((p) => p.status === 'error')
    assert.ok(refused.length > 0 && all.length - refused.length >= 500, `${all.length} replies, ${refused.length} refused (${[...new Set(refused.map((p) => p.response.reason))].join('; ')}); ${note}`)
    assert.deepEqual(new Set(refused.map((p) => p.response.reason)), new Set(['ClientJoinRateLimitReached: Too many joins per second']))
  } finally {
    for (const s of sockets) s.close()
  }
})

test('max_concurrent_users: the 201st user socket is refused (join reason, then handshake 429)', async () => {
  await f.clients.closeAll()
  await noSockets(f.server)
  // Sockets count once they have a channel: connect 201 first, then join on each.
  const sockets = []
  try {
    for (let i = 0; i < 201; i++) sockets.push(await Phx.connect(f.server.url, { apikey: f.server.config.anonKey }))
    for (let i = 0; i < 200; i++) await sockets[i].joinOk(`realtime:users-${i}`, joinPayload())
    const r = await sockets[200].join('realtime:users-extra', joinPayload())
    assert.deepEqual([r.status, r.response], ['error', { reason: 'ConnectionRateLimitReached: Too many connected users' }])
    const h = await rawUpgrade(f.server.url, ws(`&apikey=${f.server.config.anonKey}`))
    assert.deepEqual([h.status, JSON.parse(h.body)], [429, { error: 'Too many connected users' }])
  } finally {
    for (const s of sockets) s.close()
  }
  // Closing them frees the slots.
  await Promise.all(sockets.map((s) => s.closed))
  await noSockets(f.server)
  const again = await Phx.connect(f.server.url, { apikey: f.server.config.anonKey })
  await again.joinOk('realtime:users-again', joinPayload())
  again.close()
})
