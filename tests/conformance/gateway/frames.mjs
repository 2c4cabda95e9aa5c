// Case 8: raw Phoenix frames from a plain `ws` client. Cross-checks from the outside of what
// clients depend on most (the Rust tests in crates/devserver/tests/realtime*.rs check them from
// the inside), plus server tests of realtime-protocol.md §11 those tests do not cover: tokens
// that lose their claims or their format between joins, `user_token`, decimal exp/iat, and
// private-channel policies re-read on a new access_token (read and write).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Phx, joinPayload, userBroadcastPush } from '../lib/phx.mjs'
import { signHS256, now } from '../lib/support.mjs'
import { psql, commitBarrier } from '../../support/dev.mjs'

const VSNS = ['1.0.0', '2.0.0']

export default function frameCases(ctx) {
  const connect = (opts = {}) => Phx.connect(ctx.server.url, { apikey: ctx.server.config.anonKey, ...opts })
  const anonToken = (ttl = 60, extra = {}) => signHS256({ role: 'anon', iss: 'supabase', iat: now(), exp: now() + ttl, ...extra }, ctx.server.config.jwtSecret)

  describe('raw Phoenix frames', () => {
    test('heartbeat reply shape, V1 and V2', async () => {
      const v1 = await connect({ vsn: '1.0.0' })
      v1.sendRaw('{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"7"}')
      const r1 = await v1.reply('7')
      assert.deepEqual(r1.json, { topic: 'phoenix', event: 'phx_reply', payload: { status: 'ok', response: {} }, ref: '7' })
      const v2 = await connect()
      v2.sendRaw('[null,"12","phoenix","heartbeat",{}]')
      const r2 = await v2.reply('12')
      assert.deepEqual(r2.json, [null, '12', 'phoenix', 'phx_reply', { status: 'ok', response: {} }])
      // No vsn at all means V1.
      const none = await connect({ vsn: null })
      none.sendRaw('{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}')
      assert.equal((await none.reply('1')).json.event, 'phx_reply')
      for (const s of [v1, v2, none]) s.close()
    })

    test('join reply: postgres_changes echoed in order with integer ids; then Subscribed to PostgreSQL', async () => {
      for (const vsn of VSNS) {
        const ws = await connect({ vsn })
        const bindings = [
          { event: 'INSERT', schema: 'public', table: 'notes' },
          { event: '*', schema: 'public', table: 'notes', filter: 'title=eq.x' },
          { table: 'notes', event: 'DELETE', schema: 'public' },
        ]
        const ref = ws.push('1', 'realtime:raw-pg', 'phx_join', joinPayload({ postgres_changes: bindings }), '1')
        const reply = await ws.reply(ref)
        if (vsn === '2.0.0') {
          assert.equal(reply.joinRef, '1')
          assert.equal(reply.json.length, 5)
        } else assert.deepEqual(Object.keys(reply.json).sort(), ['event', 'payload', 'ref', 'topic'])
        assert.equal(reply.payload.status, 'ok')
        const pc = reply.payload.response.postgres_changes
        assert.equal(pc.length, 3)
        for (const [i, b] of bindings.entries()) {
          const { id, ...rest } = pc[i]
          assert.ok(Number.isInteger(id), JSON.stringify(pc[i]))
          // Exactly the client's keys, in the client's order, plus id.
          assert.deepEqual(Object.keys(rest), Object.keys(b))
          assert.deepEqual(rest, b)
        }
        assert.equal(new Set(pc.map((p) => p.id)).size, 3)
        const sys = await ws.event('realtime:raw-pg', 'system')
        assert.deepEqual(sys.payload, { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: 'raw-pg' })
        if (vsn === '2.0.0') assert.equal(sys.joinRef, '1')
        // The same bindings on another socket get the same ids (a hash of the parameters).
        const other = await connect({ vsn })
        const { response } = await other.join('realtime:raw-pg-2', joinPayload({ postgres_changes: bindings }))
        assert.deepEqual(response.postgres_changes.map((p) => p.id), pc.map((p) => p.id))
        // No bindings: an empty list, always present.
        assert.deepEqual((await other.join('realtime:raw-empty', joinPayload())).response, { postgres_changes: [] })
        ws.close()
        other.close()
      }
    })

    test('unmatched topic; malformed frames are dropped and the socket kept', async () => {
      for (const vsn of VSNS) {
        const ws = await connect({ vsn })
        for (const bad of ['not json', '[1,2]', '{"topic":"x"}', '[null,null,"t","e"]', '{}', '[]', '"str"', '']) ws.sendRaw(bad)
        ws.sendRaw(Buffer.from([9, 9, 9]))
        ws.sendRaw(Buffer.from([3, 200]))
        assert.equal((await ws.heartbeat()).payload.status, 'ok')
        const ref = ws.push('5', 'realtime:nobody', 'broadcast', { type: 'broadcast', event: 'e', payload: {} })
        const r = await ws.reply(ref)
        assert.equal(r.topic, 'realtime:nobody')
        assert.deepEqual(r.payload, { status: 'error', response: { reason: 'unmatched topic' } })
        assert.deepEqual((await ws.join('lobby')).response, { reason: 'unmatched topic' })
        assert.deepEqual((await ws.join('realtime:')).response, { reason: 'TopicNameRequired: You must provide a topic name' })
        await ws.settled()
        ws.close()
      }
    })

    test('phx_leave: ok reply, then phx_close with ref = join_ref', async () => {
      for (const vsn of VSNS) {
        const ws = await connect({ vsn })
        const jr = await ws.joinOk('realtime:leave-me', joinPayload())
        const ref = ws.push(jr, 'realtime:leave-me', 'phx_leave', {})
        const reply = await ws.reply(ref)
        assert.deepEqual(reply.payload, { status: 'ok', response: {} })
        const close = await ws.event('realtime:leave-me', 'phx_close')
        assert.deepEqual(close.payload, {})
        if (vsn === '2.0.0') assert.deepEqual(close.json, [jr, jr, 'realtime:leave-me', 'phx_close', {}])
        else assert.deepEqual(close.json, { topic: 'realtime:leave-me', event: 'phx_close', payload: {}, ref: jr })
        assert.ok(reply.seq < close.seq, 'the reply comes before phx_close')
        ws.close()
      }
    })

    test('kind-3 broadcasts reach V2 sockets as kind 4 (byte layout) and V1 sockets as JSON', async () => {
      const topic = 'realtime:room1'
      const sender = await connect()
      const v2 = await connect()
      const v1 = await connect({ vsn: '1.0.0' })
      const js = await sender.joinOk(topic, joinPayload({ broadcast: { ack: true, self: false } }))
      await v2.joinOk(topic, joinPayload())
      await v1.joinOk(topic, joinPayload())
      sender.sendRaw(userBroadcastPush(js, '7', topic, 'cursor', { x: 1 }))
      assert.deepEqual((await sender.reply('7')).payload, { status: 'ok', response: {} })
      const f = await v2.event(topic, 'broadcast')
      // realtime-protocol.md §2.3: 04 0E 06 00 01 | "realtime:room1" "cursor" | {"x":1}
      assert.deepEqual(f.raw, Buffer.concat([Buffer.from([4, 14, 6, 0, 1]), Buffer.from('realtime:room1cursor{"x":1}')]))
      const j = await v1.event(topic, 'broadcast')
      assert.deepEqual(j.json, { topic, event: 'broadcast', payload: { event: 'cursor', payload: { x: 1 }, type: 'broadcast' }, ref: null })
      // A broadcast pushed as JSON text stays a JSON broadcast (fastlane, null refs), extra keys kept.
      const body = { type: 'broadcast', event: 'json', payload: { y: 2 }, extra: [1] }
      sender.push(js, topic, 'broadcast', body, '8')
      await sender.reply('8')
      assert.deepEqual((await v2.event(topic, 'broadcast')).json, [null, null, topic, 'broadcast', body])
      assert.deepEqual((await v1.event(topic, 'broadcast')).json, { topic, event: 'broadcast', payload: body, ref: null })
      // Binary payloads: V2 only.
      sender.sendRaw(userBroadcastPush(js, '9', topic, 'blob', [0, 1, 255], { binary: true }))
      await sender.reply('9')
      const f3 = await v2.event(topic, 'broadcast')
      assert.deepEqual(f3.raw, Buffer.concat([Buffer.from([4, 14, 4, 0, 0]), Buffer.from('realtime:room1blob'), Buffer.from([0, 1, 255])]))
      // Nothing reaches v1: a JSON broadcast the sender pushes next arrives behind it.
      const isBarrier = (f) => f.topic === topic && f.event === 'broadcast' && f.payload?.event === 'barrier'
      sender.push(js, topic, 'broadcast', { type: 'broadcast', event: 'barrier', payload: {} }, '10')
      await sender.reply('10')
      await v1.nothingBefore(isBarrier, { what: 'the JSON broadcast after the binary one' })
      await v2.next(isBarrier, undefined, 'the barrier on v2')
      // Database broadcasts (an insert into realtime.messages) carry meta.id.
      await psql(ctx.server, `insert into realtime.messages (topic, extension, event, private, payload) values ('room1', 'broadcast', 'db', false, '{"z":3}')`)
      const f4 = await v2.event(topic, 'broadcast', 3000)
      assert.equal(f4.binary, true)
      assert.equal(f4.payload.event, 'db')
      assert.deepEqual(f4.payload.payload, { z: 3 })
      assert.match(f4.payload.meta?.id ?? '', /^[0-9a-f-]{36}$/)
      const j4 = await v1.event(topic, 'broadcast', 3000)
      assert.equal(j4.payload.event, 'db')
      assert.deepEqual(j4.payload.payload, { z: 3 })
      for (const s of [sender, v1, v2]) s.close()
    })

    test('sb_ access tokens are ignored (join uses the connect token; access_token push does nothing)', async () => {
      for (const vsn of VSNS) {
        const ws = await connect({ vsn })
        const jr = await ws.joinOk('realtime:sb-room', joinPayload({}, 'sb_publishable_not_a_jwt'))
        ws.push(jr, 'realtime:sb-room', 'access_token', { access_token: 'sb_publishable_still_not' })
        await ws.settled()
        assert.equal((await ws.heartbeat()).payload.status, 'ok')
        ws.close()
      }
    })

    test('a rejoin with a token that lost its claims or its format: phx_close of the old join, then the error', async () => {
      for (const vsn of VSNS) {
        const ws = await connect({ vsn })
        const topic = 'realtime:rejoin'
        const jr = await ws.joinOk(topic, joinPayload({}, anonToken()))
        const noRole = signHS256({ exp: now() + 60, iat: now() }, ctx.server.config.jwtSecret)
        const r = await ws.join(topic, joinPayload({}, noRole))
        assert.deepEqual([r.status, r.response], ['error', { reason: 'InvalidJWTToken: Fields `role` and `exp` are required in JWT' }])
        const close = await ws.event(topic, 'phx_close')
        if (vsn === '2.0.0') assert.equal(close.joinRef, jr)
        else assert.equal(close.ref, jr)
        assert.ok(close.seq < r.frame.seq, 'phx_close of the old join comes before the reply')
        const jr2 = await ws.joinOk(topic, joinPayload({}, anonToken()))
        const r2 = await ws.join(topic, joinPayload({}, 'potato'))
        assert.deepEqual(r2.response, { reason: 'MalformedJWT: The token provided is not a valid JWT' })
        const close2 = await ws.event(topic, 'phx_close')
        assert.equal(vsn === '2.0.0' ? close2.joinRef : close2.ref, jr2)
        ws.close()
      }
    })

    test('user_token is used when valid; decimal exp and iat are accepted', async () => {
      const ws = await connect()
      // user_token wins over access_token: a private team topic needs an authenticated user.
      const u = await ctx.clients.user('utok')
      const p = joinPayload({ private: true }, ctx.server.config.anonKey)
      p.user_token = u.session.access_token
      assert.equal((await ws.join('realtime:team-ut', p)).status, 'ok')
      const q = joinPayload({ private: true }, u.session.access_token)
      q.user_token = ctx.server.config.anonKey
      assert.deepEqual((await ws.join('realtime:team-ut2', q)).response, {
        reason: 'Unauthorized: You do not have permissions to read from this Channel topic: team-ut2',
      })
      const decimal = signHS256({ role: 'anon', iat: now() - 0.5, exp: now() + 60.5 }, ctx.server.config.jwtSecret)
      assert.equal((await ws.join('realtime:decimal', joinPayload({}, decimal))).status, 'ok')
      ws.close()
    })

    test('a new access_token re-reads the private channel policies (write, then read)', async () => {
      const alice = await ctx.clients.user('flip')
      const fresh = async () => (await alice.auth.refreshSession()).data.session.access_token
      await psql(ctx.server, `insert into public.rt_grants values ('flip-a', true, true)`)
      const a = await connect()
      const b = await connect()
      const topic = 'realtime:flip-a'
      const ja = await a.joinOk(topic, joinPayload({ private: true, broadcast: { ack: true } }, alice.session.access_token))
      await b.joinOk(topic, joinPayload({ private: true }, alice.session.access_token))
      const send = (ref) => a.push(ja, topic, 'broadcast', { type: 'broadcast', event: 'e', payload: { ref } }, ref)
      send('w1')
      assert.equal((await a.reply('w1')).payload.status, 'ok')
      assert.deepEqual((await b.event(topic, 'broadcast')).payload.payload, { ref: 'w1' })
      // Write revoked: the cached decision holds until a new token arrives...
      await psql(ctx.server, `update public.rt_grants set can_write = false where topic = 'flip-a'`)
      send('w2')
      assert.equal((await a.reply('w2')).payload.status, 'ok')
      await b.event(topic, 'broadcast')
      // ...then broadcasts are dropped silently, even with ack.
      // (The server handles a socket's frames in order: the token, with its policy queries, is
      // in force before w3 is looked at.)
      a.push(ja, topic, 'access_token', { access_token: await fresh() })
      send('w3')
      await a.settled()
      // w3 has been handled, so a copy for b would already be queued; a database broadcast
      // committed now is queued behind it.
      const barrier = await commitBarrier(ctx.server, [{ name: 'flip-a', private: true }])
      await b.nothingBefore((f) => f.event === 'broadcast' && f.payload?.payload?.id === barrier, { what: 'the change-feed barrier', timeoutMs: 5000 })
      // Read revoked: the next token closes the channel.
      await psql(ctx.server, `update public.rt_grants set can_read = false where topic = 'flip-a'`)
      a.push(ja, topic, 'access_token', { access_token: await fresh() })
      const sys = await a.event(topic, 'system')
      assert.deepEqual(sys.payload, { extension: 'system', status: 'error', message: 'You do not have permissions to read from this Channel topic: flip-a', channel: 'flip-a' })
      await a.event(topic, 'phx_close')
      assert.equal((await a.heartbeat()).payload.status, 'ok')
      a.close()
      b.close()
    })
  })
}
