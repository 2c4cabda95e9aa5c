// The Realtime half of "drop-in for real" (issue 10): what @supabase/realtime-js 2.119.1 does
// in the same situation, checked in Chromium against a real authwire-dev of this file's own
// (so `/_dev/stats` counts only these tests' channels). Each case names what realtime-js did
// when run against the devserver (Node with `ws`, and the same bundle in Chromium).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { fixture } from '../support/fixture.mjs'
import { fault, stats } from '../support/dev.mjs'
import { waitFor } from '../support/wait.mjs'

const root = resolve(import.meta.dirname, '..', '..')
let page
const f = fixture({
  servers: { server: { args: ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql')] } },
  site: 'dist-test',
  browser: true,
  setup: async () => {
    page = await f.openApp()
    page.sockets = []
    page.on('websocket', (ws) => page.sockets.push(ws.url()))
  },
})

const BAND = 'ba4d0000-0000-4000-8000-000000000001'
const args = (extra = {}) => ({ url: f.server.url, key: f.server.config.publishableKey, band: BAND, ...extra })

/** The server's live channel memberships, once they settle at `n` (they change as frames are handled). */
async function liveChannels(n, what) {
  const live = async () => (await stats(f.server)).realtime.channels
  return waitFor(async () => (await live()) === n, { timeoutMs: 10_000, what: `${what}: ${n} live channels on the server` }).catch(
    async (e) => {
      e.message += ` (saw ${await live()})`
      throw e
    },
  )
}

test('StrictMode: subscribe, removeChannel (not awaited), channel(sameName).on().subscribe() at once — one live join', async () => {
  await liveChannels(0, 'a fresh server')
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const log = { first: [], second: [], got1: 0, got2: 0, ends: 0 }
    const first = c.channel('strict').on('broadcast', { event: 'x' }, () => log.got1++)
    first.subscribe((s, e) => log.first.push(e ? `${s}:${e.message}` : s))
    await window.waitFor(() => log.first.includes('SUBSCRIBED'), { what: 'the first channel SUBSCRIBED' })
    // React StrictMode: the effect's cleanup, then the effect again, in the same tick.
    const removed = c.removeChannel(first)
    const second = c.channel('strict')
    const chained = second
      .on('broadcast', { event: 'x' }, () => log.got2++)
      .on('broadcast', { event: 'end' }, () => log.ends++)
      .subscribe((s, e) => log.second.push(e ? `${s}:${e.message}` : s))
    const sync = { firstSaw: [...log.first], registered: c.getChannels().map((ch) => ch === second) }
    await window.waitFor(() => log.second.includes('SUBSCRIBED'), { what: () => `the second channel SUBSCRIBED, saw ${JSON.stringify(log)}` })
    window.strict = { c, log }
    return { ...sync, same: first === second, chained: chained === second, removed: await removed, log }
  }, args())
  // realtime-js (same run): the removed channel closes inside removeChannel(), its callback
  // sees CLOSED, the name gives a new channel, and that one subscribes.
  assert.equal(r.same, false)
  assert.equal(r.chained, true)
  assert.deepEqual(r.firstSaw, ['SUBSCRIBED', 'CLOSED'])
  assert.deepEqual(r.registered, [true])
  assert.equal(r.removed, 'ok')
  assert.deepEqual(r.log.second, ['SUBSCRIBED'])
  // Exactly one live join on the server, and a broadcast reaches it exactly once.
  await liveChannels(1, 'after the StrictMode pattern')
  const p = await page.evaluate(async ({ url, key }) => {
    const sender = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const out = sender.channel('strict')
    const sent = [await out.httpSend('x', { n: 1 }), await out.httpSend('end', {})]
    const { c, log } = window.strict
    await window.waitFor(() => log.ends === 1, { what: 'the closing broadcast' })
    c.destroy()
    sender.destroy()
    return { sent, got1: log.got1, got2: log.got2 }
  }, args())
  assert.deepEqual(p.sent, [{ success: true }, { success: true }])
  assert.deepEqual([p.got1, p.got2], [0, 1])
  await liveChannels(0, 'after destroy()')
})

test('StrictMode before the socket opened: one join, the first callback sees CLOSED', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const log = { first: [], second: [] }
    const first = c.channel('strict2')
    first.subscribe((s) => log.first.push(s))
    c.removeChannel(first)
    c.channel('strict2').subscribe((s) => log.second.push(s))
    await window.waitFor(() => log.second.includes('SUBSCRIBED'), { what: 'SUBSCRIBED' })
    window.strict2 = c
    return log
  }, args())
  assert.deepEqual(r, { first: ['CLOSED'], second: ['SUBSCRIBED'] })
  await liveChannels(1, 'one join')
  await page.evaluate(() => window.strict2.destroy())
  await liveChannels(0, 'after destroy()')
})

test('unsubscribe() and a server close free the name at once; the closed instance throws realtime-js\'s error on subscribe', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const seen = { a: [], sys: [] }
    const a = await window.subscribe(c.channel('free').on('system', {}, (p) => seen.sys.push(p.message)))
    a.subscribe((s) => seen.a.push(s))
    const unsub = a.unsubscribe()
    const sync = { state: a.state, channels: c.getChannels().length }
    const b = c.channel('free')
    await window.subscribe(b)
    const freeClosed = () => b.state
    let thrown
    try {
      a.subscribe()
    } catch (e) {
      thrown = { name: e.name, code: e.code, message: e.message }
    }
    // A server close: an invalid access token makes the server end the channel (system, phx_close).
    const closed = []
    const ch = c.channel('server-close').on('system', {}, (p) => seen.sys.push(p.message))
    ch.subscribe((s, e) => closed.push([s, e?.code ?? null]))
    await window.waitFor(() => closed.length === 1, { what: 'SUBSCRIBED' })
    await c.realtime.setAuth('not-a-jwt')
    await window.waitFor(() => ch.state === 'closed', { what: () => `the server close, saw ${JSON.stringify(seen)}` })
    // The token reaches every channel (G3): the server ends 'free' too.
    await window.waitFor(() => freeClosed() === 'closed', { what: "'free' closed too" })
    const after = { channels: c.getChannels().map((x) => x.topic), fresh: c.channel('server-close') !== ch }
    await c.realtime.setAuth()
    await window.subscribe(c.channel('server-close'))
    c.destroy()
    return { unsub: await unsub, sync, fresh: b !== a, thrown, seenA: seen.a, sys: seen.sys, closed, after }
  }, args())
  assert.equal(r.unsub, 'ok')
  assert.deepEqual(r.sync, { state: 'closed', channels: 0 })
  assert.equal(r.fresh, true)
  // A second subscribe() on the joined channel kept no callback (realtime-js ignores it).
  assert.deepEqual(r.seenA, [])
  assert.deepEqual(r.thrown, {
    name: 'RealtimeError',
    code: 'already_subscribed',
    message: "tried to join multiple times. 'join' can only be called a single time per channel instance",
  })
  assert.ok(r.sys.includes('The token provided is not a valid JWT'), JSON.stringify(r.sys))
  // realtime-js gives this CLOSED no `err`; authwire names the refusal (issue 11: every
  // refusal reaches the subscribe callback with its cause). The channel leaves the registry.
  assert.deepEqual(r.closed, [['SUBSCRIBED', null], ['CLOSED', 'invalid_jwt']])
  assert.deepEqual(r.after, { channels: [], fresh: true })
})

test('removeAllChannels: CLOSED for each subscribed channel, "ok" for every channel, then the socket disconnects', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const seen = []
    for (const n of ['all-1', 'all-2']) c.channel(n).subscribe((s) => seen.push(`${n}:${s}`))
    await window.waitFor(() => seen.length === 2, { what: () => `both SUBSCRIBED, saw ${seen}` })
    c.channel('all-never')
    const results = await c.removeAllChannels()
    const out = { results, seen: seen.sort(), left: c.getChannels().length, state: c.realtime.connectionState() }
    c.destroy()
    return out
  }, args())
  assert.deepEqual(r, {
    results: ['ok', 'ok', 'ok'],
    seen: ['all-1:CLOSED', 'all-1:SUBSCRIBED', 'all-2:CLOSED', 'all-2:SUBSCRIBED'],
    left: 0,
    state: 'closed',
  })
})

test('setAuth(token) without a session supplies the socket token; with a session it changes nothing; never throws', async () => {
  const r = await page.evaluate(async ({ url, key, band }) => {
    const issuer = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const { data } = await issuer.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    // No session, no accessToken option: the workaround token joins the private channel.
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const set = c.realtime.setAuth(data.session.access_token)
    const isPromise = set instanceof Promise
    await set
    const ch = await window.subscribe(c.channel(`band:${band}`, { config: { private: true } }))
    const manual = ch.effectiveRole()
    // With a session: harmless, logged once at info.
    const logs = []
    const s = window.authwire.createClient(url, key, { auth: { persistSession: false }, realtime: { logger: (kind, msg) => logs.push([kind, msg]) } })
    await s.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    const sch = await window.subscribe(s.channel(`band:${band}`, { config: { private: true } }))
    await s.realtime.setAuth('not-a-jwt')
    await s.realtime.setAuth(data.session.access_token)
    const stays = { state: sch.state, role: sch.effectiveRole() }
    const infos = logs.filter(([kind, msg]) => kind === 'info' && msg.startsWith('setAuth()'))
    for (const x of [issuer, c, s]) x.destroy()
    return { isPromise, manual, stays, infos: infos.length }
  }, args())
  assert.equal(r.isPromise, true)
  assert.equal(r.manual, 'authenticated')
  assert.deepEqual(r.stays, { state: 'joined', role: 'authenticated' })
  assert.equal(r.infos, 1)
})

test("postgres_changes: an invalid filter doesn't throw; SUBSCRIBED then the server's system error, with code invalid_filter; builders and any event case work", async () => {
  const r = await page.evaluate(async ({ url, key, band }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    await c.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    const bad = { statuses: [], sys: [] }
    const ch = c
      .channel('pg-bad')
      .on('postgres_changes', { event: '*', schema: 'public', table: 'songs', filter: 'id=foo.1' }, () => {})
      .on('system', {}, (p) => bad.sys.push(p))
    ch.subscribe((s, e) => bad.statuses.push(e ? `${s}:${e.message}` : s))
    await window.waitFor(() => bad.sys.length >= 1, { what: () => `the system message, saw ${JSON.stringify(bad)}` })
    // A realtime-js filter builder and a lowercase event.
    const good = { rows: [], live: 0 }
    c.channel('pg-good')
      .on('postgres_changes', { event: 'insert', schema: 'public', table: 'songs', filter: { build: () => 'bpm=gt.150' } }, (p) => good.rows.push([p.eventType, p.new.title]))
      .on('system', {}, (p) => p.message === 'Subscribed to PostgreSQL' && good.live++)
      .subscribe()
    await window.waitFor(() => good.live === 1, { what: 'Subscribed to PostgreSQL' })
    const insert = (title, bpm) =>
      c.fetch(`${url}/rest/v1/songs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ band_id: band, title, bpm }) })
    await insert('slow', 60)
    await insert('fast', 180)
    await window.waitFor(() => good.rows.length >= 1, { timeoutMs: 10_000, what: 'the filtered INSERT' })
    const out = { bad: structuredClone(bad), rows: good.rows }
    c.destroy()
    return out
  }, args())
  assert.deepEqual(r.bad.statuses, ['SUBSCRIBED'])
  assert.deepEqual(r.bad.sys[0], {
    extension: 'postgres_changes',
    status: 'error',
    message: 'Error parsing `filter` params: ["id", "foo", "1"]',
    channel: 'pg-bad',
    code: 'invalid_filter',
  })
  // Only the row the built filter matches ('slow' was committed first, so it would be first).
  assert.deepEqual(r.rows, [['INSERT', 'fast']])
})

test("status callbacks get realtime-js's err: none for TIMED_OUT, the close code (and cause) for a dropped socket", async () => {
  await fault(f.server, { realtime: { delayReplies: { ms: 1500, count: 1, event: 'phx_join', topic: 'slow' } } })
  const slow = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const slow = []
    c.channel('slow').subscribe((s, e) => slow.push([s, e === undefined ? 'no err' : e.message]), 500)
    await window.waitFor(() => slow.length >= 1, { what: 'TIMED_OUT' })
    const watched = []
    window.drop = { c, watched }
    c.channel('drop').subscribe((s, e) => watched.push([s, e ? { name: e.name, code: e.code, message: e.message, cause: e.cause } : 'no err']))
    await window.waitFor(() => watched.length === 1, { timeoutMs: 10_000, what: 'SUBSCRIBED' })
    return slow[0]
  }, args())
  assert.deepEqual(slow, ['TIMED_OUT', 'no err'])
  const dropped = await fault(f.server, { realtime: { dropSockets: { code: 1001, reason: 'bye' } } })
  assert.equal(dropped.status, 200, dropped.text)
  const watched = await page.evaluate(async () => {
    const { c, watched } = window.drop
    await window.waitFor(() => watched.length >= 3, { timeoutMs: 10_000, what: () => `the error and the rejoin, saw ${JSON.stringify(watched)}` })
    const out = [...watched]
    c.destroy()
    return out
  })
  assert.deepEqual(watched, [
    ['SUBSCRIBED', 'no err'],
    ['CHANNEL_ERROR', { name: 'RealtimeError', code: 'socket_closed', message: 'socket closed: 1001 (bye)', cause: { code: 1001, reason: 'bye' } }],
    ['SUBSCRIBED', 'no err'],
  ])
})

test("presence '*' listeners get sync, join and leave as realtime-js gives them; update only reaches update listeners", async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const star = []
    const updates = []
    const watcher = a
      .channel('pz', { config: { presence: { key: 'watcher' } } })
      .on('presence', { event: '*' }, (p) => star.push(p.event))
      .on('presence', { event: 'update' }, (p) => updates.push(p.key))
      .on('presence', { event: 'SYNC' }, () => star.push('SYNC listener'))
    await window.subscribe(watcher)
    const mover = await window.subscribe(b.channel('pz', { config: { presence: { key: 'mover' } } }))
    await mover.track({ s: 1 })
    await window.waitFor(() => star.filter((e) => e === 'join').length === 1, { what: 'the join' })
    await mover.track({ s: 2 })
    await window.waitFor(() => updates.length === 1, { what: 'the update' })
    await mover.untrack()
    await window.waitFor(() => !('mover' in watcher.presenceState()), { what: 'the leave' })
    a.destroy()
    b.destroy()
    return { star, updates }
  }, args())
  assert.equal(r.star.includes('update'), false)
  assert.deepEqual(r.updates, ['mover'])
  assert.deepEqual(
    r.star.filter((e) => e === 'join' || e === 'leave'),
    ['join', 'join', 'leave', 'leave'],
    'a re-track is a join and a leave, as realtime-js reports it',
  )
  assert.ok(r.star.includes('sync') && r.star.includes('SYNC listener'), 'event names match whatever their case')
})

test('send() falls back to HTTP while the channel is not joined; HTTP sends time out; httpSend uses the single-message endpoint', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const rx = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = []
    await window.subscribe(rx.channel('fallback').on('broadcast', { event: '*' }, (m) => got.push([m.event, m.payload])))
    // subscribe() was called but the socket is still connecting: realtime-js sends over HTTP.
    const ch = c.channel('fallback')
    ch.subscribe()
    const joining = ch.state
    const viaHttp = await ch.send({ type: 'broadcast', event: 'early', payload: { n: 1 } })
    const single = await c.channel('fallback').httpSend('single', { n: 2 })
    let missing
    await c
      .channel('fallback')
      .httpSend('nothing')
      .catch((e) => (missing = [e.code, e.message]))
    await window.waitFor(() => got.length === 2, { what: () => `both HTTP broadcasts, saw ${JSON.stringify(got)}` })
    // A fetch that never answers: 'timed out' (send) and a rejection (httpSend) after `timeout`.
    const hang = (u, init) => new Promise((_, fail) => init.signal?.addEventListener('abort', () => fail(new DOMException('aborted', 'AbortError'))))
    const slow = window.authwire.createClient(url, key, { auth: { persistSession: false }, global: { fetch: hang }, realtime: { timeout: 300 } })
    const t0 = performance.now()
    const timedOut = await window.within(slow.channel('x').send({ type: 'broadcast', event: 'e', payload: {} }), { what: "send()'s 'timed out'" })
    const waited = performance.now() - t0
    let rejected
    await window.within(
      slow
        .channel('x')
        .httpSend('e', {}, { timeout: 100 })
        .catch((e) => (rejected = [e.code, e.message])),
      { what: "httpSend()'s rejection" },
    )
    const bad = window.authwire.createClient(url, 'sb_publishable_nope', { auth: { persistSession: false } })
    let unauthorized
    await bad
      .channel('x')
      .httpSend('e', {})
      .catch((e) => (unauthorized = [e.code, e.message, e.status]))
    for (const x of [c, rx, slow, bad]) x.destroy()
    return { joining, viaHttp, single, missing, got, timedOut, waited, rejected, unauthorized }
  }, args())
  assert.equal(r.joining, 'joining')
  assert.equal(r.viaHttp, 'ok')
  assert.deepEqual(r.single, { success: true })
  assert.deepEqual(r.missing, ['payload_required', 'Payload is required for httpSend()'])
  assert.deepEqual(r.got.sort(), [['early', { n: 1 }], ['single', { n: 2 }]])
  assert.equal(r.timedOut, 'timed out')
  assert.ok(r.waited >= 290, `timed out after ${r.waited} ms, not before the 300 ms timeout`)
  assert.deepEqual(r.rejected, ['http_timeout', 'This operation was aborted'])
  assert.deepEqual(r.unauthorized.slice(0, 2), ['http_error', 'Unauthorized'])
  const urls = page.requests.filter((q) => q.method === 'POST' && q.url.includes('/realtime/v1/api/broadcast')).map((q) => new URL(q.url).pathname)
  assert.ok(urls.includes('/realtime/v1/api/broadcast'), 'send() used the batch endpoint')
  assert.ok(urls.includes('/realtime/v1/api/broadcast/fallback/events/single'), "httpSend() used realtime-js 2.119's endpoint")
})

test('options: params of any JSON type, logger(kind, msg, data), disconnect() returns a promise, reconnectAfterMs(tries) per attempt', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const tries = []
    const logged = []
    const c = window.authwire.createClient(url, key, {
      auth: { persistSession: false },
      realtime: {
        params: { eventsPerSecond: 10, flag: true },
        logger: function (kind, msg, data) {
          logged.push(arguments.length)
        },
        // Long enough for the devserver to finish dropping the old socket before the new one.
        reconnectAfterMs: (n) => {
          tries.push(n)
          return 300
        },
      },
    })
    const seen = []
    await window.subscribe(c.channel('opts').on('postgres_changes', { event: '*', schema: 'public', table: 'songs', filter: 'id=foo.1' }, () => {}))
    c.channel('opts-watch').subscribe((s, e) => seen.push(e ? `${s}:${e.message}` : s))
    await window.waitFor(() => seen.includes('SUBSCRIBED'), { what: 'SUBSCRIBED' })
    window.opts = { c, tries, seen, before: [...tries], logged }
  }, args())
  const dropped = await fault(f.server, { realtime: { dropSockets: {} } })
  assert.equal(dropped.status, 200, dropped.text)
  const s = await page.evaluate(async () => {
    const { c, tries, seen, before, logged } = window.opts
    await window.waitFor(() => seen.filter((x) => x === 'SUBSCRIBED').length === 2, { timeoutMs: 10_000, what: () => `the rejoin, saw ${seen}` })
    const count = seen.length
    const d = c.realtime.disconnect()
    const inCall = seen.slice(count)
    const out = { before, isPromise: d instanceof Promise, disconnected: await d, state: c.realtime.connectionState(), logged: [...new Set(logged)] }
    // realtime-js's channels see the close when the browser reports it, before the promise resolves.
    out.closeSeen = { inCall, settled: seen.at(-1) }
    out.tries = [...tries]
    c.destroy()
    return out
  })
  // realtime-js asks reconnectAfterMs once per attempt, with tries counted from 1.
  assert.deepEqual(s.before, [])
  assert.deepEqual(s.tries, [1])
  assert.equal(s.isPromise, true)
  assert.equal(s.disconnected, 'ok')
  assert.deepEqual(s.closeSeen.inCall, [], 'nothing is reported inside the disconnect() call')
  // realtime-js closes with no status code; the browser reports what the server answered.
  assert.match(s.closeSeen.settled, /^CHANNEL_ERROR:socket closed: 100[56]$/)
  assert.equal(s.state, 'closed')
  assert.deepEqual(s.logged, [3])
  const socket = page.sockets.find((u) => u.includes('eventsPerSecond'))
  assert.ok(socket, `a socket URL with the params, saw ${page.sockets}`)
  const q = new URL(socket).searchParams
  assert.equal(q.get('eventsPerSecond'), '10')
  assert.equal(q.get('flag'), 'true')
})
