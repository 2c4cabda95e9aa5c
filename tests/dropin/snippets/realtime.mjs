// Realtime snippets: channels, broadcast, presence, postgres_changes, the socket, and the
// guarantees where authwire deliberately differs (G2, G5, G6).
import { OTHER_DEVICE, statuses, barrierSeen, signIn, subscribeToChanges, barrier } from './helpers.mjs'

export const snippets = [
  // ── channels: lifecycle ────────────────────────────────────────────────────────────────
  {
    name: 'channels: subscribe statuses, getChannels() before and after, unsubscribe()',
    run: async ({ createClient, url, key, tag, log, cb, rec, until }) => {
      const supabase = createClient(url, key)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      const channel = supabase.channel(`room-${tag}`)
      log('same name, same channel', supabase.channel(`room-${tag}`) === channel)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      log('state', channel.state)
      channel.subscribe(cb('status', 2))
      await until('status')
      log('state', channel.state)
      await rec('unsubscribe', channel.unsubscribe())
      await until('status', 2)
      log('state', channel.state)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
    },
  },
  {
    name: 'channels: removeChannel() — CLOSED to the callback, unregistered, socket closed',
    run: async ({ createClient, url, key, tag, log, cb, rec, until }) => {
      const supabase = createClient(url, key)
      const channel = supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      log('isConnected', supabase.realtime.isConnected())
      await rec('removeChannel', supabase.removeChannel(channel))
      await until('status', 2)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      log('state', channel.state)
    },
  },
  {
    name: 'channels: removeAllChannels() results and statuses, socket disconnected',
    run: async ({ createClient, url, key, tag, log, cb, rec, until }) => {
      const supabase = createClient(url, key)
      supabase.channel(`a-${tag}`).subscribe(cb('a: status', 2))
      supabase.channel(`b-${tag}`).subscribe(cb('b: status', 2))
      await until('a: status')
      await until('b: status')
      log('getChannels', supabase.getChannels().map((c) => c.topic).sort())
      await rec('removeAllChannels', supabase.removeAllChannels())
      await until('a: status', 2)
      await until('b: status', 2)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      log('isConnected', supabase.realtime.isConnected())
    },
  },
  {
    name: 'channels: re-create and re-subscribe the same name after unsubscribe()',
    run: async (t) => {
      const { createClient, url, key, tag, log, cb, rec, until, barrierEvent } = t
      const supabase = createClient(url, key)
      const name = `room-${tag}`
      const first = supabase.channel(name).on('broadcast', { event: barrierEvent }, cb('first: message')).subscribe(cb('first: status', 2))
      await until('first: status')
      await rec('unsubscribe', first.unsubscribe())
      const second = supabase.channel(name).on('broadcast', { event: barrierEvent }, cb('second: message')).subscribe(cb('second: status', 2))
      log('same object', second === first)
      await t.wait('second SUBSCRIBED', () => t.events('second: status').some((e) => e.args[0] === 'SUBSCRIBED'))
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      await barrier(t, name, 'second: message')
      await barrier(t, name, 'second: message')
    },
  },
  {
    name: 'channels: React StrictMode — subscribe, removeChannel in cleanup, same name again in the same tick',
    run: async (t) => {
      const { createClient, url, key, tag, log, cb, call, barrierEvent } = t
      const supabase = createClient(url, key)
      const name = `room-${tag}`
      // useEffect(() => { const ch = supabase.channel(name).on(…).subscribe(); return () => supabase.removeChannel(ch) })
      const effect = (label) => supabase.channel(name).on('broadcast', { event: barrierEvent }, cb(`${label}: message`)).subscribe(cb(`${label}: status`, 2))
      const first = effect('first')
      supabase.removeChannel(first).then(cb('removeChannel'))
      const second = call('second effect', () => effect('second'))
      log('same object', second === first)
      await t.wait('second SUBSCRIBED', () => t.events('second: status').some((e) => e.args[0] === 'SUBSCRIBED'))
      await t.until('removeChannel')
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      // Exactly one live join on the server: each server broadcast arrives once.
      await barrier(t, name, 'second: message')
      await barrier(t, name, 'second: message')
    },
  },
  {
    name: 'channels: a second subscribe() on a joined channel',
    run: async ({ createClient, url, key, tag, log, cb, call, until, tick }) => {
      const supabase = createClient(url, key)
      const channel = supabase.channel(`room-${tag}`)
      channel.subscribe(cb('status', 2))
      await until('status')
      call('subscribe again', () => channel.subscribe(cb('again: status', 2)))
      await tick()
      log('state', channel.state)
    },
  },
  {
    name: 'channels: subscribe() with a timeout the join cannot meet',
    run: async ({ createClient, url, key, tag, log, cb, until, dev }) => {
      await dev.fault({ realtime: { delayReplies: { ms: 1500, count: 1, event: 'phx_join', topic: `slow-${tag}` } } })
      const supabase = createClient(url, key)
      const channel = supabase.channel(`slow-${tag}`).subscribe(cb('status', 2), 500)
      await until('status')
      log('state', channel.state)
    },
  },

  {
    name: 'channels: a private channel keeps receiving across refreshSession()',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, rec, until, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const team = `team-${tag}`
      supabase.channel(team, { config: { private: true } }).on('broadcast', { event: barrierEvent }, cb('message')).subscribe(cb('status', 2))
      await until('status')
      await rec('refreshSession', supabase.auth.refreshSession())
      await barrier(t, { name: team, private: true }, 'message')
    },
  },

  // ── broadcast ──────────────────────────────────────────────────────────────────────────
  {
    name: 'broadcast: self and ack on one client',
    run: async ({ createClient, url, key, tag, cb, rec, until }) => {
      const supabase = createClient(url, key)
      const channel = supabase
        .channel(`room-${tag}`, { config: { broadcast: { self: true, ack: true } } })
        .on('broadcast', { event: 'hello' }, cb('message'))
        .subscribe(cb('status', 2))
      await until('status')
      await rec('send', channel.send({ type: 'broadcast', event: 'hello', payload: { n: 1 } }))
      await until('message')
    },
  },
  {
    name: 'broadcast: to another client, without self, "*" listener',
    run: async (t) => {
      const { createClient, url, key, tag, cb, rec, until } = t
      const name = `room-${tag}`
      const supabase = createClient(url, key)
      const other = createClient(url, key, OTHER_DEVICE)
      const mine = supabase.channel(name).on('broadcast', { event: '*' }, cb('mine: message')).subscribe(cb('mine: status', 2))
      await until('mine: status')
      other.channel(name).on('broadcast', { event: 'cursor' }, cb('other: message')).subscribe(cb('other: status', 2))
      await until('other: status')
      await rec('send', mine.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, y: 2 } }))
      await until('other: message')
      await rec('send', mine.send({ type: 'broadcast', event: 'cursor', payload: { x: 3, y: 4 } }))
      await until('other: message', 2)
      // The sender gets nothing of its own: the barrier reaches it behind anything queued.
      await barrier(t, name, 'mine: message')
    },
  },
  {
    name: 'broadcast: send() before subscribing falls back to HTTP',
    run: async ({ createClient, url, key, tag, cb, rec, until }) => {
      const name = `room-${tag}`
      const listener = createClient(url, key, OTHER_DEVICE)
      listener.channel(name).on('broadcast', { event: 'news' }, cb('listener: message')).subscribe(cb('listener: status', 2))
      await until('listener: status')
      const supabase = createClient(url, key)
      const channel = supabase.channel(name)
      const sent = channel.send({ type: 'broadcast', event: 'news', payload: { headline: 'hi' } })
      await until('listener: message')
      await rec('send', sent)
    },
  },
  {
    name: 'broadcast: httpSend()',
    run: async ({ createClient, url, key, tag, cb, rec, settle, until }) => {
      const name = `room-${tag}`
      const listener = createClient(url, key, OTHER_DEVICE)
      listener.channel(name).on('broadcast', { event: 'news' }, cb('listener: message')).subscribe(cb('listener: status', 2))
      await until('listener: status')
      const supabase = createClient(url, key)
      const channel = supabase.channel(name)
      const sent = channel.httpSend('news', { headline: 'hi' })
      await until('listener: message')
      await rec('httpSend', sent)
      await settle('httpSend without payload', channel.httpSend('news'))
    },
  },

  // ── presence ───────────────────────────────────────────────────────────────────────────
  {
    name: 'presence: sync, join, leave and presenceState() across two clients',
    run: async (t) => {
      const { createClient, url, key, tag, log, cb, rec, until } = t
      const name = `lobby-${tag}`
      const supabase = createClient(url, key)
      const other = createClient(url, key, OTHER_DEVICE)
      const watcher = supabase
        .channel(name, { config: { presence: { key: 'watcher' } } })
        .on('presence', { event: 'sync' }, cb('sync'))
        .on('presence', { event: 'join' }, cb('join'))
        .on('presence', { event: 'leave' }, cb('leave'))
        .subscribe(cb('status', 2))
      await until('status')
      await until('sync')
      const mover = other.channel(name, { config: { presence: { key: 'mover' } } }).subscribe(cb('mover: status', 2))
      await until('mover: status')
      // (Each push's result is recorded after the watcher saw its effect: two sockets.)
      const tracked = mover.track({ online_at: 'now', status: 'online' })
      await t.wait('mover in presenceState()', () => 'mover' in watcher.presenceState())
      await rec('track', tracked)
      log('presenceState', watcher.presenceState())
      const untracked = mover.untrack()
      await t.wait('mover gone from presenceState()', () => !('mover' in watcher.presenceState()))
      await rec('untrack', untracked)
      log('presenceState', watcher.presenceState())
    },
  },
  {
    name: "presence: a '*' listener through track, re-track and untrack",
    run: async (t) => {
      const { createClient, url, key, tag, cb, rec, until } = t
      const name = `lobby-${tag}`
      const supabase = createClient(url, key)
      const other = createClient(url, key, OTHER_DEVICE)
      const watcher = supabase.channel(name, { config: { presence: { key: 'watcher' } } }).on('presence', { event: '*' }, cb('presence *')).subscribe(cb('status', 2))
      await until('status')
      await until('presence *')
      const mover = other.channel(name, { config: { presence: { key: 'mover' } } }).subscribe(cb('mover: status', 2))
      await until('mover: status')
      // (Each push's result is recorded after the watcher saw its effect: two sockets.)
      const tracked = mover.track({ status: 'online' })
      await t.wait('mover online', () => watcher.presenceState().mover?.[0]?.status === 'online')
      await rec('track', tracked)
      const retracked = mover.track({ status: 'away' })
      await t.wait('mover away', () => watcher.presenceState().mover?.[0]?.status === 'away')
      await rec('track again', retracked)
      const untracked = mover.untrack()
      await t.wait('mover gone', () => !('mover' in watcher.presenceState()))
      await rec('untrack', untracked)
    },
  },

  // ── postgres_changes on an RLS table ───────────────────────────────────────────────────
  {
    name: "postgres_changes: INSERT, UPDATE, DELETE with event '*', RLS hides another user's row",
    users: 2,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      await subscribeToChanges(
        t,
        supabase
          .channel(name)
          .on('postgres_changes', { event: '*', schema: 'public', table: 'notes' }, cb('change')),
      )
      const [mine, theirs] = users.map((u) => u.id)
      await dev.sql(`insert into public.notes (owner, title) values ('${theirs}', 'not yours')`)
      await dev.sql(`insert into public.notes (owner, title) values ('${mine}', 'buy milk')`)
      await until('change')
      await dev.sql(`update public.notes set body = 'done' where owner = '${mine}'`)
      await until('change', 2)
      await dev.sql(`delete from public.notes where owner = '${mine}'`)
      await until('change', 3)
      await barrier(t, name)
    },
  },
  {
    name: 'postgres_changes: a filter (title=eq.urgent) and two listeners on one channel',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      await subscribeToChanges(
        t,
        supabase
          .channel(name)
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter: 'title=eq.urgent' }, cb('urgent'))
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes' }, cb('all')),
      )
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'later')`)
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'urgent')`)
      await until('all', 2)
      await barrier(t, name)
    },
  },
  {
    name: "postgres_changes: lower-case events ('insert', 'delete')",
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      await subscribeToChanges(
        t,
        supabase
          .channel(name)
          .on('postgres_changes', { event: 'insert', schema: 'public', table: 'notes' }, cb('insert'))
          .on('postgres_changes', { event: 'delete', schema: 'public', table: 'notes' }, cb('delete')),
      )
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'walk the dog')`)
      await until('insert')
      await dev.sql(`delete from public.notes where owner = '${users[0].id}'`)
      await until('delete')
      await barrier(t, name)
    },
  },
  {
    name: 'postgres_changes: a filter built with postgresChangesFilter()',
    users: 1,
    run: async (t) => {
      const { createClient, sdk, url, key, users, tag, cb, call, until, dev } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      const filter = call('postgresChangesFilter().in(…).build()', () => sdk.postgresChangesFilter().in('title', ['urgent', 'now']).build())
      await subscribeToChanges(
        t,
        supabase
          .channel(name)
          .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter }, cb('insert')),
      )
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'later'), ('${users[0].id}', 'now')`)
      await until('insert')
      await barrier(t, name)
    },
  },
  {
    name: 'postgres_changes: an invalid filter',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, call, log, until } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const channel = supabase.channel(`notes-${tag}`)
      call('on', () => channel.on('postgres_changes', { event: '*', schema: 'public', table: 'notes', filter: 'title=like' }, cb('change')))
      channel.on('system', {}, cb('system'))
      channel.subscribe(cb('status', 2))
      await t.wait('a status other than SUBSCRIBED, or a system message', () => t.events('status').some((e) => e.args[0] !== 'SUBSCRIBED') || t.count('system') > 0)
      await until('status')
      log('state', channel.state)
    },
  },

  // ── the setAuth workaround ─────────────────────────────────────────────────────────────
  {
    name: 'realtime: setAuth(session.access_token) workaround, then a private channel',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, log, cb, rec, until } = t
      const supabase = createClient(url, key)
      const { data } = await signIn(t, supabase, users[0])
      const result = supabase.realtime.setAuth(data.session.access_token)
      log('setAuth returns a promise', result instanceof Promise)
      await rec('setAuth', result)
      const channel = supabase
        .channel(`team-${tag}`, { config: { private: true, broadcast: { self: true } } })
        .on('broadcast', { event: 'hi' }, cb('message'))
        .subscribe(cb('status', 2))
      await until('status')
      await rec('send', channel.send({ type: 'broadcast', event: 'hi', payload: {} }))
      await until('message')
    },
  },
  {
    name: 'realtime: setAuth() with no argument, signed out',
    run: async ({ createClient, url, key, tag, log, cb, rec, until }) => {
      const supabase = createClient(url, key)
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      const auth = supabase.realtime.setAuth()
      log('setAuth() returns a promise', auth instanceof Promise)
      await rec('setAuth()', auth)
    },
  },
  {
    name: 'realtime: disconnect() returns a promise; what joined channels see',
    run: async ({ createClient, url, key, tag, log, cb, rec, until }) => {
      const supabase = createClient(url, key)
      const channel = supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      const off = supabase.realtime.disconnect()
      log('disconnect() returns a promise', off instanceof Promise)
      await rec('disconnect()', off)
      log('isConnected', supabase.realtime.isConnected())
      log('state', channel.state)
      log('getChannels', supabase.getChannels().map((c) => c.topic))
    },
  },
  {
    name: 'realtime: createClient with realtime.params.eventsPerSecond: 10',
    run: async ({ createClient, url, key, tag, cb, call, until }) => {
      const supabase = call('createClient', () => createClient(url, key, { realtime: { params: { eventsPerSecond: 10 } } }))
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
    },
  },

  {
    name: 'realtime: onHeartbeat() statuses with heartbeatIntervalMs: 1500',
    run: async ({ createClient, url, key, tag, cb, until }) => {
      // (An interval the reply always beats, even on a loaded machine: a late reply is a timeout.)
      const supabase = createClient(url, key, { realtime: { heartbeatIntervalMs: 1500 } })
      supabase.realtime.onHeartbeat(cb('heartbeat'))
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      await until('heartbeat', 2)
    },
  },
  {
    name: 'realtime: a dropped socket reconnects through reconnectAfterMs(tries) and rejoins',
    run: async ({ createClient, url, key, tag, cb, until, wait, events, dev }) => {
      const supabase = createClient(url, key, { realtime: { reconnectAfterMs: (tries) => (cb('reconnectAfterMs')(tries), 200) } })
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      await dev.fault({ realtime: { dropSockets: {} } })
      await wait('SUBSCRIBED again', () => events('status').filter((e) => e.args[0] === 'SUBSCRIBED').length >= 2)
    },
  },

  // ── where authwire keeps a guarantee supabase-js breaks ────────────────────────────────
  {
    name: 'G2: a private channel subscribed at page load with a stored session',
    users: 1,
    deliberate: {
      guarantee: 'G2',
      difference: 'with a stored session, a private channel subscribed in the same tick as createClient() joins as the user at once (SUBSCRIBED); supabase-js joins with the project key first',
      project: statuses('status'),
      want: ['SUBSCRIBED'],
    },
    run: [
      async (t) => {
        const supabase = t.createClient(t.url, t.key)
        await signIn(t, supabase, t.users[0])
      },
      async (t) => {
        const supabase = t.createClient(t.url, t.key)
        supabase.channel(`team-${t.tag}`, { config: { private: true } }).subscribe(t.cb('status', 2))
        await t.until('status')
      },
    ],
  },
  {
    name: 'G5: signOut() ends a private channel and rejoins a public one as anon',
    users: 1,
    deliberate: {
      guarantee: 'G5',
      difference:
        "after signOut() a private channel leaves with CLOSED (`signed_out`) and a public one rejoins as anon; supabase-js keeps both joined on the signed-out user's token, and the private channel goes on receiving the topic's messages",
      project: (log) => ({
        team: statuses('team: status')(log),
        room: statuses('room: status')(log),
        'private message after sign-out': log.some((e) => e.step === 'team: message'),
      }),
      want: { team: ['SUBSCRIBED', 'CLOSED:signed_out'], room: ['SUBSCRIBED', 'SUBSCRIBED'], 'private message after sign-out': false },
    },
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, rec, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const team = `team-${tag}`
      const room = `room-${tag}`
      supabase.channel(team, { config: { private: true } }).on('broadcast', { event: barrierEvent }, cb('team: message')).subscribe(cb('team: status', 2))
      supabase.channel(room).on('broadcast', { event: barrierEvent }, cb('room: message')).subscribe(cb('room: status', 2))
      await until('team: status')
      await until('room: status')
      await rec('signOut', supabase.auth.signOut())
      // supabase-js changes nothing here: this wait gives up after 3 s and the snippet goes on.
      await t.softWait('a second status on both channels', () => t.count('team: status') >= 2 && t.count('room: status') >= 2, 3000)
      // One commit to both topics: the private one's message is queued first on the socket.
      const id = await dev.barrier([{ name: team, private: true }, room])
      await barrierSeen(t, 'room: message', id)
    },
  },
  {
    name: 'G6: a server close for an expired token shows RECOVERING and rejoins',
    users: 1,
    deliberate: {
      guarantee: 'G6',
      difference: "a server `system` \"Token has expired\" + `phx_close` is healed: the channel reports RECOVERING (`token_expired`), refreshes and rejoins (SUBSCRIBED); supabase-js's channel ends with CHANNEL_ERROR/CLOSED and stays down",
      project: statuses('status'),
      want: ['SUBSCRIBED', 'RECOVERING:token_expired', 'SUBSCRIBED'],
    },
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      supabase.channel(`team-${tag}`, { config: { private: true } }).subscribe(cb('status', 2))
      await until('status')
      await dev.fault({ realtime: { expireTokens: { userId: users[0].id } } })
      await until('status', 3, 4000)
    },
  },
]
