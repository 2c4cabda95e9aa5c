// Case 3: broadcast (self, ack, binary), presence (sync/join/leave, track update), and HTTP
// broadcast (httpSend, send() without subscribing) through supabase-js.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fanoutBarrier } from '../lib/support.mjs'
import { subscribe, waitFor } from '../../support/wait.mjs'

export default function broadcastCases(ctx) {
  describe('broadcast and presence (supabase-js)', () => {
    test('broadcast: self and ack; send() resolves ok; binary payloads', async () => {
      const a = ctx.clients.make()
      const b = ctx.clients.make()
      const gotA = []
      const gotB = []
      const chA = await subscribe(a.channel('bc-room', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => gotA.push(m)))
      const chB = await subscribe(b.channel('bc-room').on('broadcast', { event: 'hello' }, (m) => gotB.push(m)))
      assert.equal(await chA.send({ type: 'broadcast', event: 'hello', payload: { n: 1 } }), 'ok')
      await waitFor(() => gotA.length === 1 && gotB.length === 1, { what: 'hello on both' })
      assert.deepEqual(gotA[0], { type: 'broadcast', event: 'hello', payload: { n: 1 } })
      assert.deepEqual(gotB[0], { type: 'broadcast', event: 'hello', payload: { n: 1 } })
      // Without self, the sender does not hear itself; without ack, send() resolves at once.
      assert.equal(await chB.send({ type: 'broadcast', event: 'from-b', payload: { n: 2 } }), 'ok')
      await waitFor(() => gotA.length === 2, { what: 'from-b on a' })
      assert.equal(gotA[1].event, 'from-b')
      // Binary payloads (an ArrayBuffer: realtime-js JSON-encodes a Uint8Array) arrive as
      // ArrayBuffer (kind 3 in, kind 4 out).
      assert.equal(await chA.send({ type: 'broadcast', event: 'hello', payload: new Uint8Array([1, 2, 255]).buffer }), 'ok')
      await waitFor(() => gotB.length === 2, { what: 'binary on b' })
      assert.ok(gotB[1].payload instanceof ArrayBuffer)
      assert.deepEqual([...new Uint8Array(gotB[1].payload)], [1, 2, 255])
      // Nothing else reaches b: everything sent so far was queued for b's socket before this.
      await fanoutBarrier(b)
      assert.deepEqual(gotB.map((m) => m.event), ['hello', 'hello'])
    })

    test('a supabase-js client on the V1 serializer (vsn 1.0.0) and one on V2 talk to each other', async () => {
      const v1 = ctx.clients.make(undefined, { realtime: { vsn: '1.0.0' } })
      const v2 = ctx.clients.make()
      const got1 = []
      const got2 = []
      const ch1 = await subscribe(v1.channel('vsn-room', { config: { broadcast: { ack: true } } }).on('broadcast', { event: '*' }, (m) => got1.push(m)))
      const ch2 = await subscribe(v2.channel('vsn-room', { config: { broadcast: { ack: true } } }).on('broadcast', { event: '*' }, (m) => got2.push(m)))
      assert.equal(await ch2.send({ type: 'broadcast', event: 'from-v2', payload: { a: 1 } }), 'ok')
      assert.equal(await ch1.send({ type: 'broadcast', event: 'from-v1', payload: { b: 2 } }), 'ok')
      await waitFor(() => got1.length === 1 && got2.length === 1, { what: 'one message each way' })
      assert.deepEqual(got1[0], { type: 'broadcast', event: 'from-v2', payload: { a: 1 } })
      assert.deepEqual(got2[0], { type: 'broadcast', event: 'from-v1', payload: { b: 2 } })
    })

    test('presence: sync, join, leave, and a track update', async () => {
      const a = ctx.clients.make()
      const b = ctx.clients.make()
      const log = []
      const chA = a.channel('lobby', { config: { presence: { key: 'ada' } } })
      chA
        .on('presence', { event: 'sync' }, () => log.push(['sync', structuredClone(chA.presenceState())]))
        .on('presence', { event: 'join' }, ({ key, newPresences }) => log.push(['join', key, newPresences.map(({ presence_ref, ...m }) => (assert.ok(presence_ref), m))]))
        .on('presence', { event: 'leave' }, ({ key, leftPresences }) => log.push(['leave', key, leftPresences.map(({ presence_ref, ...m }) => m)]))
      await subscribe(chA)
      const chB = await subscribe(b.channel('lobby', { config: { presence: { key: 'bob' } } }).on('presence', { event: 'sync' }, () => {}))
      assert.equal(await chB.track({ status: 'online' }), 'ok')
      await waitFor(() => log.some(([e, k]) => e === 'join' && k === 'bob'), { what: 'join of bob' })
      assert.deepEqual(log.find(([e]) => e === 'join'), ['join', 'bob', [{ status: 'online' }]])
      await waitFor(() => chA.presenceState().bob?.length === 1, { what: 'state with bob' })
      assert.equal(chA.presenceState().bob[0].status, 'online')
      // The same key tracks again: one meta, updated (joins and leaves in one diff).
      log.length = 0
      assert.equal(await chB.track({ status: 'away' }), 'ok')
      await waitFor(() => log.some(([e]) => e === 'sync') && chA.presenceState().bob?.[0]?.status === 'away', { what: 'update' })
      assert.equal(chA.presenceState().bob.length, 1)
      assert.deepEqual(log.filter(([e]) => e !== 'sync'), [
        ['join', 'bob', [{ status: 'away' }]],
        ['leave', 'bob', [{ status: 'online' }]],
      ])
      // untrack: a leave.
      log.length = 0
      assert.equal(await chB.untrack(), 'ok')
      await waitFor(() => log.some(([e]) => e === 'leave'), { what: 'leave' })
      assert.deepEqual(log.find(([e]) => e === 'leave'), ['leave', 'bob', [{ status: 'away' }]])
      assert.deepEqual(chA.presenceState(), {})
      // A tracked member that leaves the channel.
      await chB.track({ status: 'back' })
      await waitFor(() => chA.presenceState().bob, { what: 'bob back' })
      log.length = 0
      await b.removeChannel(chB)
      await waitFor(() => log.some(([e]) => e === 'leave'), { what: 'leave on removeChannel' })
      assert.deepEqual(chA.presenceState(), {})
    })

    test('HTTP broadcast: httpSend() and send() without subscribing', async () => {
      const listener = ctx.clients.make()
      const got = []
      await subscribe(listener.channel('http-room').on('broadcast', { event: '*' }, (m) => got.push(m)))
      const sender = ctx.clients.make()
      const ch = sender.channel('http-room')
      assert.deepEqual(await ch.httpSend('via-http', { x: 1 }), { success: true })
      await waitFor(() => got.length === 1, { what: 'httpSend message' })
      assert.deepEqual(got[0], { type: 'broadcast', event: 'via-http', payload: { x: 1 } })
      // send() on a channel that is not joined falls back to the batch endpoint (with a warning).
      const warn = console.warn
      const warnings = []
      console.warn = (...a) => warnings.push(a.join(' '))
      try {
        assert.equal(await ch.send({ type: 'broadcast', event: 'via-rest', payload: { y: 2 } }), 'ok')
      } finally {
        console.warn = warn
      }
      assert.match(warnings.join('\n'), /falling back to REST API/)
      await waitFor(() => got.length === 2, { what: 'REST fallback message' })
      assert.deepEqual(got[1], { type: 'broadcast', event: 'via-rest', payload: { y: 2 } })
      // httpSend with binary content.
      assert.deepEqual(await ch.httpSend('bin', new Uint8Array([7, 8])), { success: true })
      await waitFor(() => got.length === 3, { what: 'binary httpSend' })
      assert.deepEqual([...new Uint8Array(got[2].payload)], [7, 8])
      await sender.removeChannel(ch)
    })
  })
}
