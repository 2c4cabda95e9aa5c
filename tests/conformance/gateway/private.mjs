// Case 4: private channels through supabase-js: allowed by a policy on realtime.messages
// (realtime.topic()), denied with the real reason.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fanoutBarrier } from '../lib/support.mjs'
import { subscribe, waitFor } from '../../support/wait.mjs'

const denied = (name) => `Unauthorized: You do not have permissions to read from this Channel topic: ${name}`

export default function privateCases(ctx) {
  describe('private channels (supabase-js)', () => {
    test('allowed: join, broadcast with ack between two users', async () => {
      const alice = await ctx.clients.user('pa')
      const bob = await ctx.clients.user('pb')
      const got = []
      const chA = await subscribe(alice.channel('team-blue', { config: { private: true, broadcast: { ack: true } } }))
      await subscribe(bob.channel('team-blue', { config: { private: true } }).on('broadcast', { event: '*' }, (m) => got.push(m)))
      assert.equal(await chA.send({ type: 'broadcast', event: 'plan', payload: { go: true } }), 'ok')
      await waitFor(() => got.length === 1, { what: 'private broadcast' })
      assert.deepEqual(got[0].payload, { go: true })
      // A per-user topic: its owner reads it but may not write (no insert policy): broadcasts
      // are dropped without a reply (an acked send times out), presence track is refused.
      const own = await subscribe(alice.channel(`user-${alice.userId}`, { config: { private: true, broadcast: { ack: true } } }))
      assert.equal(await own.send({ type: 'broadcast', event: 'e', payload: {} }, { timeout: 1000 }), 'timed out')
      assert.equal(await own.track({ here: true }), 'error')
    })

    test('denied: CHANNEL_ERROR with the real reason (no policy, other user, anon)', async () => {
      const alice = await ctx.clients.user('pc')
      const bob = await ctx.clients.user('pd')
      const anon = ctx.clients.make()
      const cases = [
        [alice, 'secret-plans'],
        [bob, `user-${alice.userId}`],
        [anon, 'team-blue'],
      ]
      for (const [client, name] of cases) {
        const ch = client.channel(name, { config: { private: true } })
        const err = await subscribe(ch).then(
          () => null,
          (e) => e,
        )
        assert.equal(err?.status, 'CHANNEL_ERROR', `${name} joined`)
        assert.equal(err.reason, denied(name))
        // realtime-js keeps rejoining a refused channel; the app removes it.
        await client.removeChannel(ch)
      }
    })

    test('a private and a public channel of the same name are different topics', async () => {
      const alice = await ctx.clients.user('pe')
      const anon = ctx.clients.make()
      const pub = []
      const priv = []
      await subscribe(alice.channel('team-split', { config: { private: true } }).on('broadcast', { event: '*' }, (m) => priv.push(m)))
      const chPub = await subscribe(anon.channel('team-split', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => pub.push(m)))
      assert.equal(await chPub.send({ type: 'broadcast', event: 'e', payload: {} }), 'ok')
      await waitFor(() => pub.length === 1, { what: 'public copy' })
      // The acknowledged send was queued for every member before the barrier is.
      await fanoutBarrier(alice)
      assert.equal(priv.length, 0)
    })
  })
}
