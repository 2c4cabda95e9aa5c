// REST through supabase-js (postgrest-js 2.119) on the RLS table: what apps rely on besides
// the change feed — counts, single-row reads, RLS violations, upserts.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'

export default function restCases(ctx) {
  describe('REST (supabase-js)', () => {
    test('count, single, RLS violation, upsert', async () => {
      const alice = await ctx.clients.user('rest-a')
      const bob = await ctx.clients.user('rest-b')
      const ins = await alice.from('notes').insert([{ title: 'r1' }, { title: 'r2' }]).select('id, title')
      assert.equal(ins.error, null)
      assert.equal(ins.status, 201)
      const count = await alice.from('notes').select('*', { count: 'exact', head: true })
      assert.equal(count.error, null)
      assert.equal(count.count, 2)
      assert.equal(count.data, null)
      const one = await alice.from('notes').select('title').eq('id', ins.data[0].id).single()
      assert.deepEqual(one.data, { title: 'r1' })
      const none = await bob.from('notes').select('title').eq('id', ins.data[0].id).single()
      assert.equal(none.status, 406)
      assert.equal(none.error?.code, 'PGRST116')
      const maybe = await bob.from('notes').select('title').eq('id', ins.data[0].id).maybeSingle()
      assert.deepEqual([maybe.error, maybe.data], [null, null])
      // Writing a row for someone else: the insert policy refuses it.
      const forBob = await alice.from('notes').insert({ title: 'x', owner: bob.userId })
      assert.equal(forBob.status, 403)
      assert.equal(forBob.error?.code, '42501')
      assert.equal(forBob.error?.message, 'new row violates row-level security policy for table "notes"')
      const anon = await ctx.clients.make().from('notes').insert({ title: 'x', owner: bob.userId })
      assert.equal(anon.status, 401)
      assert.equal(anon.error?.code, '42501')
      // Upsert on the key.
      const up = await alice.from('notes').upsert({ id: ins.data[0].id, title: 'r1b' }).select('id, title')
      assert.equal(up.error, null)
      assert.deepEqual(up.data, [{ id: ins.data[0].id, title: 'r1b' }])
      // Bob cannot touch alice's rows: the update matches nothing.
      const hijack = await bob.from('notes').update({ title: 'mine' }).eq('id', ins.data[0].id).select()
      assert.deepEqual([hijack.error, hijack.data], [null, []])
    })
  })
}
