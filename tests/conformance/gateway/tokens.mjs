// Cases 6 (gateway half) and 7: the publishable key behind the gateway, and a forged token
// (valid HS256 signature, unknown `sub`) refused with the specific reason everywhere.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { rawUpgrade, signHS256, now } from '../lib/support.mjs'
import { subscribe, waitFor } from '../../support/wait.mjs'
import { fault } from '../../support/dev.mjs'

export default function tokenCases(ctx) {
  describe('keys and forged tokens', () => {
    test('gateway mode: the publishable key (and the legacy anon key) join and receive', async () => {
      for (const key of [ctx.server.config.publishableKey, ctx.server.config.anonKey]) {
        const c = ctx.clients.make(key)
        const got = []
        const ch = await subscribe(c.channel('pk-room', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: 'e' }, (m) => got.push(m)))
        assert.equal(await ch.send({ type: 'broadcast', event: 'e', payload: { k: key.slice(0, 3) } }), 'ok')
        await waitFor(() => got.length === 1, { what: 'own broadcast' })
        await c.removeChannel(ch)
      }
      const up = await rawUpgrade(ctx.server.url, `/realtime/v1/websocket?apikey=${ctx.server.config.publishableKey}&vsn=2.0.0`)
      assert.equal(up.status, 101)
    })

    test('after signOut, supabase-js hands Realtime the publishable key, which Realtime ignores: the channel lives on', async () => {
      // realtime-protocol.md §1.5: the access_token push of an sb_ key is a no-op on the server.
      const u = await ctx.clients.user('signout-rt')
      const got = []
      const ch = await subscribe(u.channel('after-signout', { config: { broadcast: { self: true, ack: true } } }).on('broadcast', { event: '*' }, (m) => got.push(m)))
      assert.equal((await u.auth.signOut()).error, null)
      await waitFor(() => u.realtime.accessTokenValue === ctx.server.config.publishableKey, { what: 'setAuth with the key' })
      // setAuth pushed access_token to the channel when it took the key. The server handles a
      // socket's frames in order, so the ack of a broadcast sent now comes after its answer to
      // that push (a phx_close would arrive first and leave the channel closed).
      const sent = await ch.send({ type: 'broadcast', event: 'still-here', payload: {} })
      assert.equal(ch.state, 'joined')
      assert.equal(sent, 'ok')
      await waitFor(() => got.length === 1, { what: 'broadcast after sign-out' })
    })

    test('a forged token with an unknown sub: handshake 403, join Unauthorized, GoTrue user_not_found', async () => {
      const forged = signHS256(
        { sub: randomUUID(), role: 'authenticated', aud: 'authenticated', email: 'ghost@conformance.test', iat: now(), exp: now() + 600 },
        ctx.server.config.jwtSecret,
      )
      const up = await rawUpgrade(ctx.server.url, `/realtime/v1/websocket?apikey=${forged}&vsn=2.0.0`)
      assert.equal(up.status, 403)
      assert.match(up.headers['content-type'], /application\/json/)
      assert.deepEqual(JSON.parse(up.body), { error: 'User from sub claim in JWT does not exist' })

      // supabase-js with a third-party style token callback: the socket connects with the
      // publishable key, the join carries the forged token.
      const c = ctx.clients.make(undefined, { accessToken: async () => forged })
      await c.realtime.setAuth()
      const ch = c.channel('forged-room')
      const err = await subscribe(ch).then(
        () => null,
        (e) => e,
      )
      assert.equal(err?.status, 'CHANNEL_ERROR')
      assert.equal(err.reason, 'Unauthorized: User from sub claim in JWT does not exist')
      await c.removeChannel(ch)

      const user = await ctx.clients.make().auth.getUser(forged)
      assert.equal(user.error?.status, 403)
      assert.equal(user.error?.code, 'user_not_found')
      assert.equal(user.data.user, null)
      // REST accepts it (PostgREST checks only the signature): RLS sees a user with no rows.
      const rest = await c.from('notes').select('id')
      assert.equal(rest.error, null)
      assert.deepEqual(rest.data, [])
    })

    test('the realtime.expireTokens fault: system "Token has expired 0 seconds ago", then CLOSED (case 5)', async () => {
      const c = await ctx.clients.user('expire-fault')
      const other = await ctx.clients.user('expire-other')
      const system = []
      const seen = []
      const track = (client, name, sys) =>
        new Promise((ok) =>
          client
            .channel(name)
            .on('system', {}, (p) => sys.push(p))
            .subscribe((s) => {
              seen.push([name, s])
              if (s === 'SUBSCRIBED') ok()
            }),
        )
      await track(c, 'fault-room', system)
      const untouched = []
      await track(other, 'fault-other', untouched)
      const r = await fault(ctx.server, { realtime: { expireTokens: { userId: c.userId } } })
      assert.equal(r.status, 200, r.text)
      await waitFor(() => seen.some(([n, s]) => n === 'fault-room' && s === 'CLOSED'), { what: 'CLOSED' })
      assert.deepEqual(system, [{ extension: 'system', status: 'error', message: 'Token has expired 0 seconds ago', channel: 'fault-room' }])
      assert.deepEqual(untouched, [])
      assert.deepEqual(seen.filter(([n]) => n === 'fault-other'), [['fault-other', 'SUBSCRIBED']])
    })

    test('a banned, then deleted user: GoTrue and Realtime refuse their still-unexpired token', async () => {
      const admin = ctx.clients.make(ctx.server.config.secretKey)
      const u = await ctx.clients.user('banned')
      const token = u.session.access_token
      const joinWith = async (name) => {
        const c = ctx.clients.make(undefined, { accessToken: async () => token })
        await c.realtime.setAuth()
        const ch = c.channel(name)
        const err = await subscribe(ch).then(
          () => null,
          (e) => e,
        )
        await c.removeChannel(ch)
        return err?.reason ?? 'SUBSCRIBED'
      }
      assert.equal(await joinWith('ban-1'), 'SUBSCRIBED')
      assert.equal((await admin.auth.admin.updateUserById(u.userId, { ban_duration: '24h' })).error, null)
      const signIn = await ctx.clients.make().auth.signInWithPassword({ email: u.email, password: 'correct-horse-1' })
      assert.deepEqual([signIn.error?.status, signIn.error?.code], [400, 'user_banned'])
      // GoTrue looks at the ban before the password.
      const wrong = await ctx.clients.make().auth.signInWithPassword({ email: u.email, password: 'not-the-password' })
      assert.deepEqual([wrong.error?.status, wrong.error?.code, wrong.error?.message], [400, 'user_banned', 'User is banned'])
      const refresh = await ctx.clients.make().auth.refreshSession({ refresh_token: u.session.refresh_token })
      assert.deepEqual([refresh.error?.status, refresh.error?.code], [400, 'user_banned'])
      const got = await ctx.clients.make().auth.getUser(token)
      assert.deepEqual([got.error?.status, got.error?.code], [403, 'user_banned'])
      assert.equal(await joinWith('ban-2'), 'Unauthorized: User is banned')
      const up = await rawUpgrade(ctx.server.url, `/realtime/v1/websocket?apikey=${token}&vsn=2.0.0`)
      assert.deepEqual([up.status, JSON.parse(up.body)], [403, { error: 'User is banned' }])

      assert.equal((await admin.auth.admin.deleteUser(u.userId)).error, null)
      const gone = await ctx.clients.make().auth.getUser(token)
      assert.deepEqual([gone.error?.status, gone.error?.code], [403, 'user_not_found'])
      assert.equal(await joinWith('ban-3'), 'Unauthorized: User from sub claim in JWT does not exist')
    })

    test('a forged token signed with another secret is a bad signature', async () => {
      const other = signHS256({ sub: randomUUID(), role: 'authenticated', exp: now() + 600 }, 'not-the-project-secret-not-the-project-secret')
      const up = await rawUpgrade(ctx.server.url, `/realtime/v1/websocket?apikey=${other}&vsn=2.0.0`)
      assert.equal(up.status, 401)
      assert.deepEqual(JSON.parse(up.body), { error: 'Failed to validate JWT signature' })
      const user = await ctx.clients.make().auth.getUser(other)
      assert.equal(user.error?.status, 403)
      assert.equal(user.error?.code, 'bad_jwt')
    })
  })
}
