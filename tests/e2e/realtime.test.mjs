// Realtime features of the release build in Chromium against a real authwire-dev: payload
// shapes as supabase-js delivers them, binary broadcasts, presence (with the `update` event),
// Postgres changes with RLS and column types, HTTP broadcast, teardown, listener isolation,
// the V1 serializer and third-party tokens.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { startDevserver } from '../support/devserver.mjs'
import { launchBrowser } from '../support/browser.mjs'
import { testSite, openApp } from '../support/app.mjs'

const root = resolve(import.meta.dirname, '..', '..')
let server, site, browser, page

before(async () => {
  server = await startDevserver({ args: ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql')] })
  site = await testSite()
  browser = await launchBrowser()
  page = await openApp(browser, site)
  await page.evaluate(() => {
    window.sub = (ch) =>
      new Promise((ok, fail) => ch.subscribe((s, e) => (s === 'SUBSCRIBED' ? ok(ch) : s === 'CHANNEL_ERROR' || s === 'TIMED_OUT' ? fail(new Error(`${s} ${e?.code}`)) : 0)))
    window.wait = (pred, ms = 10_000) =>
      new Promise((ok, fail) => {
        const t0 = Date.now()
        const tick = () => (pred() ? ok() : Date.now() - t0 > ms ? fail(new Error('timeout')) : setTimeout(tick, 20))
        tick()
      })
  })
})

after(async () => {
  await browser?.close()
  await site?.close()
  await server?.stop()
})

const args = () => ({ url: server.url, key: server.config.publishableKey, anon: server.config.anonKey })

test('broadcast: self, ack, JSON and binary payloads, and a throwing listener does not break others', async () => {
  const r = await page.evaluate(async ({ url, key }) => {
    const a = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const b = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = []
    const chA = await window.sub(a.channel('bc', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => got.push(['a', m.event, m.payload instanceof ArrayBuffer ? [...new Uint8Array(m.payload)] : m.payload])))
    const chB = b.channel('bc')
    chB.on('broadcast', { event: 'hello' }, () => {
      throw new Error('listener bug')
    })
    chB.on('broadcast', { event: 'hello' }, (m) => got.push(['b', m.event, m.payload, m.type]))
    await window.sub(chB)
    const errors = []
    window.addEventListener('error', (e) => errors.push(e.message))
    const ack = await chA.send({ type: 'broadcast', event: 'hello', payload: { n: 1 } })
    const bin = await chA.send({ type: 'broadcast', event: 'bin', payload: new Uint8Array([1, 2, 3]) })
    await window.wait(() => got.length >= 3)
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
    await window.sub(watcher)
    const mover = await window.sub(b.channel('room-p', { config: { presence: { key: 'mover' } } }))
    await mover.track({ status: 'online' })
    await window.wait(() => Object.keys(watcher.presenceState()).includes('mover'))
    const first = watcher.presenceState().mover
    await mover.track({ status: 'away' })
    await window.wait(() => ev.includes('update'))
    const second = watcher.presenceState().mover
    await mover.untrack()
    await window.wait(() => !('mover' in watcher.presenceState()))
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
  const r = await page.evaluate(async ({ url, key }) => {
    const alice = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    await alice.auth.signInWithPassword({ email: 'alice@example.com', password: 'password123' })
    const anon = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const got = { alice: [], anon: [] }
    await window.sub(alice.channel('songs-a').on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => got.alice.push(p)))
    await window.sub(anon.channel('songs-anon').on('postgres_changes', { event: '*', schema: 'public', table: 'songs' }, (p) => got.anon.push(p)))
    const res = await alice.fetch(`${url}/rest/v1/songs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'return=representation' },
      body: JSON.stringify({ band_id: 'ba4d0000-0000-4000-8000-000000000001', title: 'Typed', bpm: 99 }),
    })
    await window.wait(() => got.alice.length >= 1)
    await new Promise((ok) => setTimeout(ok, 300))
    return { status: res.status, alice: got.alice, anon: got.anon.length }
  }, args())
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
    await window.sub(rx.channel('http-bc').on('broadcast', { event: 'x' }, (m) => got.push(m.payload)))
    const ch = c.channel('http-bc')
    const viaHttp = await ch.httpSend('x', { via: 'http' })
    await window.wait(() => got.length === 1)
    await window.sub(ch)
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
  assert.equal(r.viaHttp, 'ok')
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
    await window.sub(v1.channel('v1-room'))
    const issuer = window.authwire.createClient(url, key, { auth: { persistSession: false } })
    const { data } = await issuer.auth.signInWithPassword({ email: 'bob@example.com', password: 'password123' })
    let calls = 0
    const tp = window.authwire.createClient(url, key, {
      accessToken: async () => {
        calls++
        return data.session.access_token
      },
    })
    const ch = await window.sub(tp.channel('band:ba4d0000-0000-4000-8000-000000000001', { config: { private: true } }))
    const viaAuth = await tp.auth.getSession()
    return { v1: v1.realtime.connectionState(), role: ch.effectiveRole(), calls, authError: viaAuth.error?.code, mode: tp.diagnose().auth.mode }
  }, args())
  assert.equal(r.v1, 'open')
  assert.equal(r.role, 'authenticated')
  assert.ok(r.calls >= 1)
  assert.equal(r.authError, 'not_supported')
  assert.equal(r.mode, 'third_party')
})
