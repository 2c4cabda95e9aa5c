// Case 2: postgres_changes on an RLS table through supabase-js: two users each see only their
// rows; DELETE (which Realtime does not check against RLS) carries only the primary key; `eq` filters; an invalid filter gets the `system`
// error.
import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { withBarrier, feedBarrier } from '../lib/support.mjs'
import { subscribe, waitFor } from '../../support/wait.mjs'

export default function changesCases(ctx) {
  describe('postgres_changes on an RLS table (supabase-js)', () => {
    let alice, bob, anon
    const got = { alice: [], bob: [], anon: [], filtered: [], system: [] }
    const channels = {}

    before(async () => {
      alice = await ctx.clients.user('alice')
      bob = await ctx.clients.user('bob')
      anon = ctx.clients.make()
      const listen = async (c, name, list, binding) => {
        channels[name] = await subscribe(withBarrier(c.channel(name).on('postgres_changes', binding, (p) => list.push(p)).on('system', {}, (p) => got.system.push([name, p]))))
      }
      const all = { event: '*', schema: 'public', table: 'notes' }
      await Promise.all([
        listen(alice, 'notes-alice', got.alice, all),
        listen(bob, 'notes-bob', got.bob, all),
        listen(anon, 'notes-anon', got.anon, all),
        listen(alice, 'notes-filtered', got.filtered, { ...all, event: 'INSERT', filter: 'title=eq.special' }),
      ])
      // Subscriptions are live once "Subscribed to PostgreSQL" has arrived.
      await waitFor(() => got.system.filter(([, p]) => p.message === 'Subscribed to PostgreSQL').length === 4, { what: 'Subscribed to PostgreSQL x4' })
    })

    test('the system message after a subscription', () => {
      const [, p] = got.system.find(([n]) => n === 'notes-alice')
      assert.deepEqual(p, { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: 'notes-alice' })
    })

    test('INSERT, UPDATE, DELETE: each user receives only their own rows', async () => {
      const ins = async (c, title) => {
        const { data, error } = await c.from('notes').insert({ title }).select().single()
        assert.equal(error, null)
        return data
      }
      const a = await ins(alice, 'from alice')
      const b = await ins(bob, 'from bob')
      await waitFor(() => got.alice.length >= 1 && got.bob.length >= 1, { what: 'inserts' })
      const ev = got.alice[0]
      assert.equal(ev.eventType, 'INSERT')
      assert.equal(ev.schema, 'public')
      assert.equal(ev.table, 'notes')
      assert.deepEqual(ev.new, { id: a.id, owner: alice.userId, title: 'from alice', body: null })
      assert.deepEqual(ev.old, {})
      assert.equal(ev.errors, null)
      assert.ok(!Number.isNaN(Date.parse(ev.commit_timestamp)), ev.commit_timestamp)
      assert.deepEqual(got.bob[0].new, { id: b.id, owner: bob.userId, title: 'from bob', body: null })

      const upd = await alice.from('notes').update({ body: 'edited' }).eq('id', a.id).select().single()
      assert.equal(upd.error, null)
      await waitFor(() => got.alice.length >= 2, { what: 'update' })
      assert.equal(got.alice[1].eventType, 'UPDATE')
      assert.deepEqual(got.alice[1].new, { id: a.id, owner: alice.userId, title: 'from alice', body: 'edited' })
      // Default replica identity: the old record is the key.
      assert.deepEqual(got.alice[1].old, { id: a.id })

      const del = await alice.from('notes').delete().eq('id', a.id)
      assert.equal(del.error, null)
      await waitFor(() => got.alice.length >= 3, { what: 'delete' })
      assert.equal(got.alice[2].eventType, 'DELETE')
      // RLS on: the old record keeps only the primary key.
      assert.deepEqual(got.alice[2].old, { id: a.id })
      assert.deepEqual(got.alice[2].new, {})

      // Whatever else those commits were going to deliver has arrived once a later one has.
      await feedBarrier(ctx.server, Object.values(channels))
      assert.deepEqual(got.alice.map((e) => e.eventType), ['INSERT', 'UPDATE', 'DELETE'])
      // Realtime does not apply RLS to DELETE (the row is gone; nothing can be checked): every
      // subscriber of the table gets it, with nothing but the key.
      const deletes = (list) => list.filter((e) => e.eventType === 'DELETE').map((e) => [e.old, e.new])
      assert.deepEqual(deletes(got.bob), [[{ id: a.id }, {}]])
      assert.deepEqual(deletes(got.anon), [[{ id: a.id }, {}]])
      assert.deepEqual(got.bob.filter((e) => e.eventType !== 'DELETE').map((e) => [e.eventType, e.new.title]), [['INSERT', 'from bob']])
      // A client without a session (anon) sees no row through RLS.
      assert.deepEqual(got.anon.filter((e) => e.eventType !== 'DELETE'), [])
    })

    test('filters: eq and in', async () => {
      const inList = []
      const system = []
      const chIn = await subscribe(
        withBarrier(
          alice
            .channel('notes-in')
            .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter: 'title=in.(red,blue)' }, (p) => inList.push(p))
            .on('system', {}, (p) => system.push(p)),
        ),
      )
      await waitFor(() => system.length, { what: 'Subscribed to PostgreSQL' })
      await alice.from('notes').insert([{ title: 'ordinary' }, { title: 'special' }, { title: 'red' }, { title: 'green' }, { title: 'blue' }])
      await waitFor(() => got.filtered.length >= 1 && inList.length >= 2, { what: 'filtered inserts' })
      await feedBarrier(ctx.server, [channels['notes-filtered'], chIn])
      assert.deepEqual(got.filtered.map((e) => e.new.title), ['special'])
      assert.deepEqual(inList.map((e) => e.new.title), ['red', 'blue'])
    })

    test('an invalid filter gets the system error; the channel stays joined', async () => {
      const system = []
      const ch = alice
        .channel('notes-bad-filter')
        .on('postgres_changes', { event: '*', schema: 'public', table: 'notes', filter: 'nope=eq.1' }, () => {})
        .on('system', {}, (p) => system.push(p))
      await subscribe(ch)
      await waitFor(() => system.length > 0, { what: 'system message' })
      assert.deepEqual(system[0], {
        extension: 'postgres_changes',
        status: 'error',
        message:
          'Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: notes, filters: [{"nope", "eq", "1"}], select: nil]. Exception: ERROR 22023 (invalid_parameter_value) invalid column for filter nope',
        channel: 'notes-bad-filter',
      })
      assert.equal(ch.state, 'joined')
      // A filter the grammar does not know.
      const system2 = []
      const ch2 = alice
        .channel('notes-bad-op')
        .on('postgres_changes', { event: '*', schema: 'public', table: 'notes', filter: 'title=like.x%' }, () => {})
        .on('system', {}, (p) => system2.push(p))
      await subscribe(ch2)
      await waitFor(() => system2.length > 0, { what: 'system message' })
      assert.equal(system2[0].status, 'error')
      assert.equal(system2[0].message, 'Error parsing `filter` params: ["title", "like", "x%"]')
      await alice.removeChannel(ch)
      await alice.removeChannel(ch2)
    })
  })
}
