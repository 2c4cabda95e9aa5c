// Realtime features of the release build in Chromium against a real authwire-dev: payload
// shapes as supabase-js delivers them, binary broadcasts, presence (with the `update` event),
// Postgres changes with RLS and column types, HTTP broadcast, teardown, listener isolation,
// the V1 serializer and third-party tokens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { fixture } from '../support/fixture.mjs'
import { commitBarrier, fault, psql, BARRIER_EVENT } from '../support/dev.mjs'

const root = resolve(import.meta.dirname, '..', '..')
let page
const f = fixture({
  servers: { server: { args: ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql')] } },
  site: 'dist-test',
  browser: true,
  setup: async () => {
    page = await f.openApp()
  },
})

const args = () => ({ url: f.server.url, key: f.server.config.publishableKey, anon: f.server.config.anonKey, barrier: BARRIER_EVENT })

test('broadcast: self, ack, JSON and binary payloads, and a throwing listener does not break others', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = []
    const chA = await window.subscribe(a.channel('bc', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => got.push(['a', m.event, m.payload instanceof ArrayBuffer ? [...new Uint8Array(m.payload)] : m.payload])))
    const chB = b.channel('bc')
    chB.on('broadcast', { event: 'hello' }, () => {
      throw new Error('listener bug')
    })
    chB.on('broadcast', { event: 'hello' }, (m) => got.push(['b', m.event, m.payload, m.type]))
    await window.subscribe(chB)
    const errors = []
    window.addEventListener('error', (e) => errors.push(e.message))
    const ack = await chA.send({ type: 'broadcast', event: 'hello', payload: { n: 1 } })
    const bin = await chA.send({ type: 'broadcast', event: 'bin', payload: new Uint8Array([1, 2, 3]) })
    await window.waitFor(() => got.length >= 3, { timeoutMs: 10_000, what: 'three broadcasts' })
    return { ack, bin, got, errors }
  }, args())
  assert.equal(r.ack, 'ok')
  assert.equal(r.bin, 'ok')
  assert.deepEqual(r.got.find((g) => g[0] === 'b'), ['b', 'hello', { n: 1 }, 'broadcast'])
  assert.deepEqual(r.got.filter((g) => g[0] === 'a').map((g) => g[1]).sort(), ['bin', 'hello'])
  assert.deepEqual(r.got.find((g) => g[1] === 'bin')[2], [1, 2, 3])
  assert.ok(r.errors.some((e) => e.includes('listener bug')), 'the throwing listener is reported, asynchronously')
})

test('presence: sync, join, leave, one update per re-track, presenceState in supabase-js shape', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const ev = []
    const watcher = a.channel('room-p', { config: { presence: { key: 'watcher' } } })
    for (const e of ['sync', 'join', 'leave', 'update']) watcher.on('presence', { event: e }, (p) => ev.push(p?.event ?? e))
    await window.subscribe(watcher)
    const mover = await window.subscribe(b.channel('room-p', { config: { presence: { key: 'mover' } } }))
    await mover.track({ status: 'online' })
    await window.waitFor(() => Object.keys(watcher.presenceState()).includes('mover'), { timeoutMs: 10_000, what: 'mover in the state' })
    const first = watcher.presenceState().mover
    await mover.track({ status: 'away' })
    await window.waitFor(() => ev.includes('update'), { timeoutMs: 10_000, what: 'the update event' })
    const second = watcher.presenceState().mover
    await mover.untrack()
    await window.waitFor(() => !('mover' in watcher.presenceState()), { timeoutMs: 10_000, what: 'mover gone from the state' })
    return { ev, first, second, state: watcher.presenceState() }
  }, args())
  assert.equal(r.first.length, 1)
  assert.equal(r.first[0].status, 'online')
  assert.ok(r.first[0].presence_ref && !('phx_ref' in r.first[0]))
  assert.equal(r.second[0].status, 'away')
  assert.equal(r.ev.filter((e) => e === 'update').length, 1)
  assert.deepEqual(r.ev.filter((e) => e !== 'sync'), ['join', 'join', 'leave', 'update', 'leave'])
  assert.deepEqual(r.state, {})
})

test('postgres_changes: RLS, supabase-js payload shape, typed values; anon sees nothing', async () => {
  const status = await page.evaluate(async ({ url, key, barrier }) => {
    const alice = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    await alice.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    const anon = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = (window.pg = { alice: [], anon: [], live: [], barriers: [] })
    const live = (ch) => ch.on('system', {}, (p) => p.message === 'Subscribed to PostgreSQL' && got.live.push(p.channel))
    await window.subscribe(live(alice.channel('songs-a').on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => got.alice.push(p))))
    await window.subscribe(
      live(anon.channel('songs-anon').on('postgres_changes', { event: '*', schema: 'public', table: 'songs' }, (p) => got.anon.push(p)))
        .on('broadcast', { event: barrier }, (m) => got.barriers.push(m.payload.id)),
    )
    // The change feed serves a subscription once "Subscribed to PostgreSQL" has arrived.
    await window.waitFor(() => got.live.length === 2, { what: () => `Subscribed to PostgreSQL on both channels, saw ${got.live}` })
    const res = await alice.fetch(`${url}/rest/v1/songs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'return=representation' },
      body: JSON.stringify({ band_id: 'ba4d0000-0000-4000-8000-000000000001', title: 'Typed', bpm: 99 }),
    })
    await window.waitFor(() => got.alice.length >= 1, { timeoutMs: 10_000, what: "alice's INSERT" })
    return res.status
  }, args())
  // anon must not get the INSERT: a broadcast committed after it reaches anon's channel behind it.
  const barrier = await commitBarrier(f.server, ['songs-anon'])
  const r = await page.evaluate(async (barrier) => {
    await window.waitFor(() => window.pg.barriers.includes(barrier), { timeoutMs: 10_000, what: 'the change-feed barrier on songs-anon' })
    return { alice: window.pg.alice, anon: window.pg.anon.length }
  }, barrier)
  r.status = status
  assert.equal(r.status, 201)
  assert.equal(r.anon, 0, 'RLS: anon receives nothing')
  const p = r.alice[0]
  assert.deepEqual(Object.keys(p).sort(), ['commit_timestamp', 'errors', 'eventType', 'new', 'old', 'schema', 'table'])
  assert.equal(p.eventType, 'INSERT')
  assert.equal(p.table, 'songs')
  assert.equal(p.new.title, 'Typed')
  assert.equal(p.new.bpm, 99)
  assert.equal(typeof p.new.id, 'number')
  assert.deepEqual(p.old, {})
})

test('httpSend, unsubscribe, removeChannel and destroy', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const rx = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = []
    await window.subscribe(rx.channel('http-bc').on('broadcast', { event: 'x' }, (m) => got.push(m.payload)))
    const ch = c.channel('http-bc')
    const viaHttp = await ch.httpSend('x', { via: 'http' })
    await window.waitFor(() => got.length === 1, { timeoutMs: 10_000, what: 'the HTTP broadcast' })
    await window.subscribe(ch)
    const unsub = await ch.unsubscribe()
    const state = ch.state
    const removed = await c.removeChannel(ch)
    const left = c.getChannels().length
    c.destroy()
    let destroyed
    try {
      c.channel('after')
    } catch (e) {
      destroyed = e.code
    }
    return { viaHttp, got, unsub, state, removed, left, destroyed }
  }, args())
  assert.deepEqual(r.viaHttp, { success: true })
  assert.deepEqual(r.got, [{ via: 'http' }])
  assert.equal(r.unsub, 'ok')
  assert.equal(r.state, 'closed')
  assert.equal(r.removed, 'ok')
  assert.equal(r.left, 0)
  assert.equal(r.destroyed, 'destroyed')
})

test("the V1 serializer works too, and third-party tokens come from accessToken()", async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const v1 = window.authwire.createClient(url, key, { auth: { persistSession: false }, realtime: { vsn: '1.0.0' } })
    await window.subscribe(v1.channel('v1-room'))
    const issuer = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const { data } = await issuer.auth.signInWithPassword({ email: 'bob@example.com', password: 'password123' })
    let calls = 0
    const tp = window.authwire.createClient(url, key, {
      accessToken: async () => {
        calls++
        return data.session.access_token
      },
    })
    const ch = await window.subscribe(tp.channel('band:ba4d0000-0000-4000-8000-000000000001', { config: { private: true } }))
    const viaAuth = await tp.auth.getSession()
    return { v1: v1.realtime.connectionState(), role: ch.effectiveRole(), calls, authError: viaAuth.error?.code, mode: tp.diagnose().auth.mode }
  }, args())
  assert.equal(r.v1, 'open')
  assert.equal(r.role, 'authenticated')
  assert.ok(r.calls >= 1)
  assert.equal(r.authError, 'not_supported')
  assert.equal(r.mode, 'third_party')
})

test('a dropped socket: the rejoin reports one gap event with its window before any live message; gap-only listeners get nothing else', async () => {
  const r0 = await page.evaluate(async ({ url, key }) => {
    const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const seen = []
    const ch = a
      .channel('gappy')
      .on('system', { event: 'gap' }, (p) => seen.push(['gap', p.event, p.reason, p.from, p.to]))
      .on('system', {}, (p) => seen.push(['system', p.event ?? p.message]))
      .on('broadcast', { event: 'live' }, (m) => seen.push(['broadcast', m.payload.n]))
    const subscribing = Date.now()
    ch.subscribe((s) => seen.push([s]))
    await window.waitFor(() => seen.some((x) => x[0] === 'SUBSCRIBED'), { what: 'SUBSCRIBED' })
    const sender = await window.subscribe(b.channel('gappy'))
    window.gap = { a, b, seen, ch, sender, subscribing, droppedAt: Date.now() }
    return seen.length
  }, args())
  assert.equal(r0, 1)
  const dropped = await fault(f.server, { realtime: { dropSockets: {} } })
  assert.equal(dropped.status, 200, dropped.text)
  const r = await page.evaluate(async () => {
    const { a, b, seen, sender, subscribing, droppedAt } = window.gap
    await window.waitFor(() => seen.filter((x) => x[0] === 'SUBSCRIBED').length === 2, { timeoutMs: 10_000, what: () => `the rejoin, saw ${JSON.stringify(seen)}` })
    // b was dropped too: wait for its rejoin, then send live.
    await window.waitFor(() => sender.state === 'joined', { timeoutMs: 10_000, what: 'the sender rejoined' })
    await sender.send({ type: 'broadcast', event: 'live', payload: { n: 1 } })
    await window.waitFor(() => seen.some((x) => x[0] === 'broadcast'), { what: 'the live broadcast' })
    const d = JSON.parse(JSON.stringify(a.diagnose()))
    a.destroy()
    b.destroy()
    return { seen, subscribing, droppedAt, lastGap: d.realtime.channels.find((c) => c.topic === 'realtime:gappy')?.lastGap }
  })
  const what = JSON.stringify(r)
  const kinds = r.seen.map((x) => x[0])
  // SUBSCRIBED, the drop, SUBSCRIBED, the gap (to both system listeners), then live.
  assert.deepEqual(kinds.filter((k) => k !== 'CHANNEL_ERROR' && k !== 'CLOSED'), ['SUBSCRIBED', 'SUBSCRIBED', 'gap', 'system', 'broadcast'], what)
  const gap = r.seen.find((x) => x[0] === 'gap')
  assert.deepEqual(gap.slice(1, 3), ['gap', 'public_channel'], what)
  // It starts 5 s before the last frame a's socket heard (its join's reply: after subscribing,
  // before the drop) and ends at the rejoin.
  assert.ok(gap[3] >= r.subscribing - 5_000 && gap[3] <= r.droppedAt - 5_000 && gap[3] <= gap[4] && gap[4] <= Date.now(), what)
  assert.deepEqual(r.lastGap, { from: gap[3], to: gap[4], reason: 'public_channel' }, what)
})

test('a private channel that rejoins replays what it missed (a database broadcast stored meanwhile), once, with no gap', async () => {
  const BAND = 'ba4d0000-0000-4000-8000-000000000001'
  await page.evaluate(async ({ url, key, band }) => {
    const c = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const { error } = await c.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    if (error) throw new Error(error.message)
    const seen = []
    const ch = c
      .channel(`band:${band}`, { config: { private: true } })
      .on('broadcast', { event: '*' }, (m) => seen.push(['broadcast', m.event, m.payload.n, m.meta?.replayed ?? false]))
      .on('system', { event: 'gap' }, (g) => seen.push(['gap', g.reason]))
    ch.subscribe((s, e) => seen.push([s, e?.code ?? null]))
    await window.waitFor(() => seen.some((x) => x[0] === 'SUBSCRIBED'), { what: 'SUBSCRIBED' })
    window.replay = { c, seen }
  }, { ...args(), band: BAND })
  // The next two joins of the band channel are refused, so it stays away for seconds; the
  // socket is dropped; meanwhile the database stores a broadcast for the band.
  const armed = await fault(f.server, { realtime: { refuseJoins: { topic: `band:${BAND}`, count: 2, reason: 'Unauthorized: not now' } } })
  assert.equal(armed.status, 200, armed.text)
  const dropped = await fault(f.server, { realtime: { dropSockets: {} } })
  assert.equal(dropped.status, 200, dropped.text)
  await psql(f.server, `select realtime.send('{"n": 7}'::jsonb, 'missed', 'band:${BAND}', true)`)
  const r = await page.evaluate(async () => {
    const { c, seen } = window.replay
    await window.waitFor(() => seen.some((x) => x[0] === 'broadcast'), { timeoutMs: 15_000, what: () => `the replayed message, saw ${JSON.stringify(seen)}` })
    c.destroy()
    return seen
  })
  const what = JSON.stringify(r)
  assert.deepEqual(r.filter((x) => x[0] === 'broadcast'), [['broadcast', 'missed', 7, true]], what)
  assert.ok(!r.some((x) => x[0] === 'gap'), `nothing lost, no gap: ${what}`)
  assert.equal(r.filter((x) => x[0] === 'SUBSCRIBED').length, 2, what)
})
