// Case 10: bad input. SQL injection through REST filters, column names and channel names is
// harmless; oversize frames and payloads are refused; wrong passwords are rate-limited.
import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { PASSWORD } from '../lib/support.mjs'
import { subscribe, waitFor } from '../../support/wait.mjs'
import { psql } from '../../support/dev.mjs'
import { email } from '../../support/fixture.mjs'
import { Phx } from '../lib/phx.mjs'

const DROP = "'; drop table public.notes; --"

export default function hostileCases(ctx) {
  describe('bad input', () => {
    let alice, bob
    const intact = async () => {
      assert.equal(await psql(ctx.server, `select to_regclass('public.notes') is not null`), 't')
      return Number(await psql(ctx.server, 'select count(*) from public.notes'))
    }

    before(async () => {
      alice = await ctx.clients.user('inj-a')
      bob = await ctx.clients.user('inj-b')
      await bob.from('notes').insert({ title: 'bob secret' })
      await alice.from('notes').insert({ title: 'alice note' })
    })

    test('SQL injection through REST filters, columns, order and table names is harmless', async () => {
      const before = await intact()
      const values = [
        alice.from('notes').select().eq('title', `x${DROP}`),
        alice.from('notes').select().like('title', "%' or '1'='1"),
        alice.from('notes').select().eq('owner', `${bob.userId}' or 'a'='a`),
        alice.from('notes').select().neq('owner', alice.userId),
        alice.from('notes').select().in('title', [`a')${DROP}`, 'b']),
      ]
      for (const r of await Promise.all(values)) {
        // Either nothing (the value is data) or an error (it does not fit the column type).
        if (r.error) assert.ok([400, 404].includes(r.status), JSON.stringify(r.error))
        else assert.deepEqual(r.data, [])
      }
      const names = [
        alice.from('notes').select(`id,title;drop table public.notes`),
        alice.from('notes').select().order(`id${DROP}`),
        alice.from('notes').select().filter(`title) or (1=1`, 'eq', 'x'),
        alice.from('notes').select().eq(`"title"${DROP}`, 'x'),
        alice.from(`notes${DROP}`).select(),
        alice.from('notes').insert({ [`title"${DROP}`]: 'x', title: 'y' }),
        alice.from('notes').select().in('id', ['1) or (1=1']),
        alice.from('notes').select().limit(`1; drop table public.notes`),
      ]
      for (const r of await Promise.all(names)) {
        assert.ok(r.error, `accepted: ${JSON.stringify(r.data)}`)
        assert.ok([400, 404, 406].includes(r.status), `${r.status} ${JSON.stringify(r.error)}`)
      }
      // Still there, and RLS still hides bob's row.
      assert.equal(await intact(), before)
      const mine = await alice.from('notes').select('title')
      assert.ok(mine.data.every((n) => n.title !== 'bob secret'))
    })

    test('SQL in channel names and postgres_changes filters is data', async () => {
      const name = `room${DROP}`
      const got = []
      const ch = await subscribe(alice.channel(name, { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => got.push(m)))
      assert.equal(await ch.send({ type: 'broadcast', event: 'e', payload: {} }), 'ok')
      await waitFor(() => got.length === 1, { what: 'broadcast on the odd name' })
      // The private-channel policy sees the name through realtime.topic(), as a value.
      const priv = alice.channel(`team-${DROP}`, { config: { private: true } })
      await subscribe(priv)
      const denied = alice.channel(`x${DROP}`, { config: { private: true } })
      const err = await subscribe(denied).then(
        () => null,
        (e) => e,
      )
      assert.equal(err?.reason, `Unauthorized: You do not have permissions to read from this Channel topic: x${DROP}`)
      await alice.removeChannel(denied)
      // A filter value with quotes matches literally.
      const title = `x'); delete from public.notes; --`
      const changes = []
      const system = []
      await subscribe(
        alice
          .channel('inj-filter')
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter: `title=eq.${title}` }, (p) => changes.push(p))
          .on('system', {}, (p) => system.push(p)),
      )
      await waitFor(() => system.length, { what: 'subscription status' })
      assert.equal(system[0].status, 'ok', JSON.stringify(system[0]))
      await alice.from('notes').insert([{ title: 'other' }, { title }])
      await waitFor(() => changes.length === 1, { what: 'the literal match' })
      assert.equal(changes[0].new.title, title)
      // Schema and table names are looked up, not spliced.
      const bad = []
      await subscribe(alice.channel('inj-table').on('postgres_changes', { event: '*', schema: 'public', table: `notes${DROP}` }, () => {}).on('system', {}, (p) => bad.push(p)))
      await waitFor(() => bad.length, { what: 'subscription error' })
      assert.equal(bad[0].status, 'error')
      assert.ok((await intact()) > 0)
    })

    test('oversize: a frame over 5,000,000 bytes closes the socket; a payload over the limit is refused', async () => {
      const ws = await Phx.connect(ctx.server.url, { apikey: ctx.server.config.anonKey })
      ws.sendRaw(`[null,"1","phoenix","heartbeat",{"x":"${'y'.repeat(5_000_100)}"}]`)
      const { code } = await ws.closed
      // 1009 (message too big), or a reset while the client was still writing (1006).
      assert.ok([1009, 1006].includes(code), `close ${code}`)
      // Just under the frame limit but over the payload limit: payload_size_exceeded.
      const a = ctx.clients.make()
      const b = ctx.clients.make()
      const got = []
      const chA = await subscribe(a.channel('big-room', { config: { broadcast: { ack: true } } }))
      await subscribe(b.channel('big-room').on('broadcast', { event: '*' }, (m) => got.push(m)))
      assert.equal(await chA.send({ type: 'broadcast', event: 'big', payload: { s: 'x'.repeat(3_100_000) } }), 'error')
      assert.equal(await chA.send({ type: 'broadcast', event: 'small', payload: { s: 'x' } }), 'ok')
      // The small one is the barrier: a's socket is handled in order, so a copy of the big one
      // would have been queued for b before it.
      await waitFor(() => got.length === 1, { what: 'the small one' })
      assert.deepEqual(got.map((m) => m.event), ['small'])
    })

    test('wrong passwords are rate-limited per address', async () => {
      const c = ctx.clients.make()
      const address = email('brute')
      await c.auth.signUp({ email: address, password: PASSWORD })
      const codes = []
      for (let i = 0; i < 11; i++) codes.push((await c.auth.signInWithPassword({ email: address, password: `wrong-${i}-xx` })).error)
      assert.deepEqual(codes.slice(0, 10).map((e) => e?.code), Array(10).fill('invalid_credentials'))
      assert.equal(codes[10]?.status, 429)
      assert.equal(codes[10]?.code, 'over_request_rate_limit')
      // The right password waits for the window too; another address is not affected.
      assert.equal((await c.auth.signInWithPassword({ email: address, password: PASSWORD })).error?.code, 'over_request_rate_limit')
      const other = await ctx.clients.user('not-brute')
      assert.equal((await ctx.clients.make().auth.signInWithPassword({ email: other.email, password: PASSWORD })).error, null)
    })
  })
}
