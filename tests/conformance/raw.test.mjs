// Conformance against an authwire-dev in raw mode (`--mode raw`: a bare Realtime server, no
// gateway): the publishable key is refused at the socket with the real 401 body (case 6),
// while every HTTP endpoint still takes it; then the tenant-wide limits of
// realtime-protocol.md §9.4 / §11 ("max_concurrent_users", "max_joins_per_second"), last,
// because they trip the whole server.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { startDevserver } from '../support/devserver.mjs'
import { Clients, subscribe, rawUpgrade, signHS256, now, sleep } from './lib/support.mjs'
import { Phx, joinPayload } from './lib/phx.mjs'

let server, clients

before(async () => {
  server = await startDevserver({ args: ['--mode', 'raw'] })
  clients = new Clients(server)
})

after(async () => {
  await clients?.closeAll()
  await server?.stop()
})

const ws = (q) => `/realtime/v1/websocket?vsn=2.0.0${q}`

test('the publishable key is refused at the handshake with the real 401 body', async () => {
  const r = await rawUpgrade(server.url, ws(`&apikey=${server.config.publishableKey}`))
  assert.equal(r.status, 401)
  assert.match(r.headers['content-type'], /application\/json/)
  assert.equal(r.body, '{"error":"The token provided is not a valid JWT"}')
  // Also in the x-api-key header, and the secret key likewise.
  const h = await rawUpgrade(server.url, ws(''), { 'x-api-key': server.config.secretKey })
  assert.deepEqual([h.status, JSON.parse(h.body)], [401, { error: 'The token provided is not a valid JWT' }])
  const none = await rawUpgrade(server.url, ws(''))
  assert.deepEqual([none.status, JSON.parse(none.body)], [401, { error: 'API key is missing' }])
  // A forged user token: strict sessions apply in raw mode too.
  const forged = signHS256({ sub: randomUUID(), role: 'authenticated', exp: now() + 600 }, server.config.jwtSecret)
  const f = await rawUpgrade(server.url, ws(`&apikey=${forged}`))
  assert.deepEqual([f.status, JSON.parse(f.body)], [403, { error: 'User from sub claim in JWT does not exist' }])
})

test('supabase-js with the publishable key: HTTP works, the socket never opens (CHANNEL_ERROR, no SUBSCRIBED)', async () => {
  const c = clients.make(server.config.publishableKey, { realtime: { reconnectAfterMs: () => 60_000 } })
  // Every HTTP endpoint accepts the project keys in both modes.
  const up = await c.auth.signUp({ email: `raw-${Date.now()}@conformance.test`, password: 'correct-horse-1' })
  assert.equal(up.error, null)
  await c.auth.signOut()
  const seen = []
  c.channel('raw-room').subscribe((s, e) => seen.push([s, e?.message]))
  for (let i = 0; i < 100 && !seen.length; i++) await sleep(50)
  assert.equal(seen[0]?.[0], 'CHANNEL_ERROR', JSON.stringify(seen))
  assert.ok(!seen.some(([s]) => s === 'SUBSCRIBED'))
  c.realtime.disconnect()
  // The legacy anon key is a JWT: it works in raw mode.
  const anon = clients.make(server.config.anonKey)
  await subscribe(anon.channel('raw-room'))
})

test('max_concurrent_users: the 201st user socket is refused (join reason, then handshake 429)', async () => {
  await clients.closeAll()
  await sleep(200)
  // Sockets count once they have a channel: connect 201 first, then join on each.
  const sockets = []
  try {
    for (let i = 0; i < 201; i++) sockets.push(await Phx.connect(server.url, { apikey: server.config.anonKey }))
    for (let i = 0; i < 200; i++) await sockets[i].joinOk(`realtime:users-${i}`, joinPayload())
    const r = await sockets[200].join('realtime:users-extra', joinPayload())
    assert.deepEqual([r.status, r.response], ['error', { reason: 'ConnectionRateLimitReached: Too many connected users' }])
    const h = await rawUpgrade(server.url, ws(`&apikey=${server.config.anonKey}`))
    assert.deepEqual([h.status, JSON.parse(h.body)], [429, { error: 'Too many connected users' }])
  } finally {
    for (const s of sockets) s.close()
  }
  // Closing them frees the slots.
  await sleep(300)
  const again = await Phx.connect(server.url, { apikey: server.config.anonKey })
  await again.joinOk('realtime:users-again', joinPayload())
  again.close()
})

test('max_joins_per_second: over 100/s on average, joins are refused, the socket closed with 1001, handshakes 429', async () => {
  // The previous test made ~200 joins; let them leave the 5-second window (with a margin:
  // timers may fire a little early).
  await sleep(5500)
  const sockets = await Promise.all(Array.from({ length: 7 }, () => Phx.connect(server.url, { apikey: server.config.anonKey })))
  try {
    // Pipelined joins, 90 per socket (under the 100 channels per socket).
    const replies = sockets.map((s, k) =>
      Array.from({ length: 90 }, (_, i) => {
        const ref = s.push(`j${i}`, `realtime:burst-${k}-${i}`, 'phx_join', joinPayload(), `j${i}`)
        return s.reply(ref, 10_000).then(
          (f) => f.payload,
          () => null,
        )
      }),
    )
    const t0 = Date.now()
    const first = await Promise.race([Promise.any(sockets.map((s) => s.closed)), sleep(10_000).then(() => null)])
    const h = await rawUpgrade(server.url, ws(`&apikey=${server.config.anonKey}`))
    const all = (await Promise.all(replies.flat())).filter(Boolean)
    const note = `first close ${JSON.stringify(first)} after ${Date.now() - t0} ms; ${all.length} replies`
    assert.equal(first?.code, 1001, note)
    assert.deepEqual([h.status, h.body], [429, '{"error":"Too many joins per second"}'], note)
    const refused = all.filter((p) => p.status === 'error')
    assert.ok(refused.length > 0 && all.length - refused.length >= 500, `${all.length} replies, ${refused.length} refused`)
    assert.deepEqual(new Set(refused.map((p) => p.response.reason)), new Set(['ClientJoinRateLimitReached: Too many joins per second']))
  } finally {
    for (const s of sockets) s.close()
  }
})
