// The drop-in snippets: small pieces of ordinary supabase-js app code. Each runs unchanged
// against both clients — `createClient` (and `sdk`, the imported module) is supabase-js's or
// authwire's — inside the page harness (`page/harness.mjs`), which records what the app sees:
//   rec(step, promise)   an awaited result (a rejection or a hang ends the snippet)
//   settle(step, p)      the same, but a rejection is recorded and the snippet goes on (p may
//                        be a function returning the promise: a synchronous throw counts too)
//   call(step, fn)       a synchronous call's return value or what it threw
//   cb(step, n = 1)      a callback that records each invocation's first n arguments (the
//                        parameters supabase-js's types declare: (status, err) is 2)
//   log(step, …values)   anything else the app reads (getChannels(), channel.state, …)
//   until(step, n) / wait(what, pred)   wait for something recorded (a timeout is recorded too)
// and provides: url, key (the publishable key), users (fresh confirmed users made through the
// admin API: { email, password, id }), emails (unused addresses), tag (unique per run, for
// channel names), barrierEvent, rest(client) (PostgREST on the `notes` table of tests/conformance/lib/schema.mjs: supabase-js's own `from()`; for
// authwire `@supabase/postgrest-js` on `client.fetch`), dev.sql / dev.barrier / dev.fault /
// dev.authorize (the devserver: SQL, change-feed barriers, faults, the `dev` OAuth provider).
//
// Snippet fields: `name`; `users` (how many to make); `run` (one function, or an array of
// phases with a page reload between them); `todo` (why authwire differs today: an authwire
// gap); `deliberate` ({ guarantee, difference, project(log), want }: authwire keeps a
// guarantee supabase-js breaks, so `project(authwire's normalised log)` must equal `want`).
//
// A second client in a snippet is another device: its own storage key, so the two clients do
// not share a session through localStorage.

export const PASSWORD = 'correct-horse-1'

/** The options of a second device's client. */
const OTHER_DEVICE = { auth: { storageKey: 'other-device' } }

/** `STATUS` or `STATUS:<err code or message>` for each recorded `step` (deliberate-difference checks). */
const statuses = (step) => (log) =>
  log.filter((e) => e.step === step).map((e) => {
    const err = e.args?.[1]?.$error
    return e.args[0] + (err ? `:${typeof err.code === 'string' ? err.code : err.message}` : '')
  })

/** Waits for a `system` event whose message is `message` (postgres_changes readiness). */
const systemSaid = (t, step, message) => t.wait(`${step}: ${message}`, () => t.events(step).some((e) => e.args[0]?.message === message))

/** Waits until a broadcast with the barrier `id` was recorded as `step`. */
const barrierSeen = (t, step, id) => t.wait(`barrier on ${step}`, () => t.events(step).some((e) => e.args[0]?.payload?.id === id))

/**
 * This device and another one (`other`), both signed in as `user`, the other's auth events
 * recorded from its INITIAL_SESSION on.
 */
async function twoDevices(t, user) {
  const supabase = t.createClient(t.url, t.key)
  const other = t.createClient(t.url, t.key, OTHER_DEVICE)
  await signIn(t, supabase, user)
  await signIn(t, other, user, 'other: signInWithPassword')
  other.auth.onAuthStateChange(t.cb('other: onAuthStateChange', 2))
  await t.until('other: onAuthStateChange')
  return { supabase, other }
}

/** Signs `supabase` in as `user` and records the result. */
const signIn = (t, supabase, user, step = 'signInWithPassword') => t.rec(step, supabase.auth.signInWithPassword({ email: user.email, password: user.password }))

export const snippets = [
  // ── auth: results and errors ───────────────────────────────────────────────────────────
  {
    name: 'auth: getSession() right after createClient(), nothing stored',
    todo: 'getSession() called right after createClient() never settles',
    run: async ({ createClient, url, key, rec }) => {
      const supabase = createClient(url, key)
      await rec('getSession', supabase.auth.getSession())
    },
  },
  {
    name: 'auth: signUp a new user, then getSession and getUser',
    run: async ({ createClient, url, key, emails, rec }) => {
      const supabase = createClient(url, key)
      await rec('signUp', supabase.auth.signUp({ email: emails[0], password: 'a-good-password', options: { data: { name: 'Ada' } } }))
      await rec('getSession', supabase.auth.getSession())
      await rec('getUser', supabase.auth.getUser())
    },
  },
  {
    name: 'auth: signUp with an email that is taken',
    users: 1,
    run: async ({ createClient, url, key, users, rec }) => {
      const supabase = createClient(url, key)
      await rec('signUp', supabase.auth.signUp({ email: users[0].email, password: 'another-password-1' }))
      await rec('getSession', supabase.auth.getSession())
    },
  },
  {
    name: 'auth: signUp with a weak password',
    todo: 'AuthWeakPasswordError has no `reasons` (supabase-js: [\'length\'])',
    run: async ({ createClient, url, key, emails, rec }) => {
      const supabase = createClient(url, key)
      await rec('signUp', supabase.auth.signUp({ email: emails[0], password: 'abc' }))
    },
  },
  {
    name: 'auth: signInWithPassword with a wrong password',
    users: 1,
    run: async ({ createClient, url, key, users, rec, cb }) => {
      const supabase = createClient(url, key)
      supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
      await rec('signInWithPassword', supabase.auth.signInWithPassword({ email: users[0].email, password: 'not-the-password' }))
      await rec('getSession', supabase.auth.getSession())
    },
  },
  {
    name: 'auth: signed out: getUser, refreshSession, updateUser and signOut',
    todo: 'AuthSessionMissingError has code \'session_missing\' (supabase-js: undefined); signOut() resolves { data: {}, error: null }; supabase-js { error: null }',
    run: async ({ createClient, url, key, rec }) => {
      const supabase = createClient(url, key)
      await rec('getUser', supabase.auth.getUser())
      await rec('refreshSession', supabase.auth.refreshSession())
      await rec('updateUser', supabase.auth.updateUser({ data: { theme: 'dark' } }))
      await rec('signOut', supabase.auth.signOut())
    },
  },
  {
    name: 'auth: the error guards and classes supabase-js exports',
    todo: 'isAuthApiError, isAuthSessionMissingError, AuthApiError, AuthError, REALTIME_SUBSCRIBE_STATES are not exported',
    users: 1,
    run: async ({ createClient, sdk, url, key, users, log }) => {
      const supabase = createClient(url, key)
      const { error } = await supabase.auth.signInWithPassword({ email: users[0].email, password: 'not-the-password' })
      log('isAuthError', sdk.isAuthError?.(error))
      log('isAuthApiError', sdk.isAuthApiError?.(error))
      log('instanceof AuthApiError', typeof sdk.AuthApiError === 'function' && error instanceof sdk.AuthApiError)
      log('instanceof AuthError', typeof sdk.AuthError === 'function' && error instanceof sdk.AuthError)
      const { error: missing } = await supabase.auth.getUser()
      log('isAuthSessionMissingError', sdk.isAuthSessionMissingError?.(missing))
      log('REALTIME_SUBSCRIBE_STATES', sdk.REALTIME_SUBSCRIBE_STATES)
    },
  },

  {
    name: 'auth: signInAnonymously()',
    run: async ({ createClient, url, key, rec }) => {
      const supabase = createClient(url, key)
      await rec('signInAnonymously', supabase.auth.signInAnonymously())
      await rec('getUser', supabase.auth.getUser())
    },
  },
  {
    name: 'auth: getClaims() after sign-in',
    todo: 'getClaims() gives the signature as a string (supabase-js: Uint8Array)',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec } = t
      const supabase = createClient(url, key)
      await rec('getClaims signed out', supabase.auth.getClaims())
      await signIn(t, supabase, users[0])
      await rec('getClaims', supabase.auth.getClaims())
    },
  },
  {
    name: 'auth: the rest of the auth API (OTP, recovery, identities, MFA level)',
    todo: 'client.auth !== client.auth; resetPasswordForEmail, getUserIdentities, mfa.getAuthenticatorAssuranceLevel, reauthenticate are not functions; mfa.listFactors is not_supported',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, log, settle } = t
      const supabase = createClient(url, key)
      log('client.auth === client.auth', supabase.auth === supabase.auth)
      // (Each call is passed as a function, so a missing method is recorded and the snippet goes on.)
      await settle('signInWithOtp', () => supabase.auth.signInWithOtp({ email: users[0].email, options: { shouldCreateUser: false } }))
      await settle('resetPasswordForEmail', () => supabase.auth.resetPasswordForEmail(users[0].email))
      await signIn(t, supabase, users[0])
      await settle('getUserIdentities', () => supabase.auth.getUserIdentities())
      await settle('mfa.getAuthenticatorAssuranceLevel', () => supabase.auth.mfa.getAuthenticatorAssuranceLevel())
      await settle('mfa.listFactors', () => supabase.auth.mfa.listFactors())
      await settle('reauthenticate', () => supabase.auth.reauthenticate())
    },
  },

  {
    name: "auth: signInWithOAuth (PKCE, the devserver's `dev` provider) and exchangeCodeForSession",
    todo: 'signInWithOAuth() has no data.flowId, exchangeCodeForSession() no data.redirectType; the missing-verifier message is shorter',
    users: 1,
    run: async ({ createClient, url, key, users, rec, cb, until, dev }) => {
      const supabase = createClient(url, key, { auth: { flowType: 'pkce', detectSessionInUrl: false } })
      supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
      await until('onAuthStateChange')
      const { data } = await rec('signInWithOAuth', supabase.auth.signInWithOAuth({ provider: 'dev', options: { redirectTo: `${location.origin}/callback`, skipBrowserRedirect: true } }))
      // The browser would follow data.url to the provider and come back with ?code=…
      const back = new URL(await dev.authorize(data.url, users[0].email))
      await rec('exchangeCodeForSession', supabase.auth.exchangeCodeForSession(back.searchParams.get('code')))
      await rec('exchange the same code again', supabase.auth.exchangeCodeForSession(back.searchParams.get('code')))
    },
  },

  // ── auth: sessions and events ──────────────────────────────────────────────────────────
  {
    name: 'auth: onAuthStateChange order through sign-in, refresh, updateUser, sign-out',
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null } (the event order is equal)',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec, cb, until } = t
      const supabase = createClient(url, key)
      supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
      await signIn(t, supabase, users[0])
      await rec('refreshSession', supabase.auth.refreshSession())
      await rec('updateUser', supabase.auth.updateUser({ data: { theme: 'dark' } }))
      await rec('signOut', supabase.auth.signOut())
      await until('onAuthStateChange', 5)
    },
  },
  {
    name: 'auth: onAuthStateChange registered late, and unsubscribe()',
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null }',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, cb, until, rec } = t
      const supabase = createClient(url, key)
      const { data } = supabase.auth.onAuthStateChange(cb('early', 2))
      await until('early')
      data.subscription.unsubscribe()
      await signIn(t, supabase, users[0])
      supabase.auth.onAuthStateChange(cb('late', 2))
      await until('late')
      await rec('signOut', supabase.auth.signOut())
      await until('late', 2)
    },
  },
  {
    name: 'auth: refreshSession(), then with an unknown refresh token',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec, cb, until } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
      await until('onAuthStateChange')
      await rec('refreshSession', supabase.auth.refreshSession())
      await rec('refreshSession bogus', supabase.auth.refreshSession({ refresh_token: 'notarealtoken' }))
      await rec('getSession', supabase.auth.getSession())
    },
  },
  {
    name: 'auth: updateUser password and metadata, then sign in with the new password',
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null }',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      await rec('updateUser', supabase.auth.updateUser({ password: 'a-new-password-2', data: { nickname: 'ace' } }))
      await rec('getUser', supabase.auth.getUser())
      await rec('signOut', supabase.auth.signOut())
      await rec('old password', supabase.auth.signInWithPassword({ email: users[0].email, password: users[0].password }))
      await rec('new password', supabase.auth.signInWithPassword({ email: users[0].email, password: 'a-new-password-2' }))
    },
  },
  {
    name: "auth: signOut({ scope: 'local' }) leaves the other device signed in",
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null }',
    users: 1,
    run: async (t) => {
      const { rec } = t
      const { supabase, other } = await twoDevices(t, t.users[0])
      await rec('signOut', supabase.auth.signOut({ scope: 'local' }))
      await rec('getSession', supabase.auth.getSession())
      await rec('other: getUser', other.auth.getUser())
    },
  },
  {
    name: "auth: signOut({ scope: 'others' }) keeps this device, ends the other",
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null }; the ended device\'s getUser() is AuthApiError 403 session_not_found (supabase-js: AuthSessionMissingError 400)',
    users: 1,
    run: async (t) => {
      const { rec } = t
      const { supabase, other } = await twoDevices(t, t.users[0])
      await rec('signOut', supabase.auth.signOut({ scope: 'others' }))
      await rec('getUser', supabase.auth.getUser())
      await rec('other: getUser', other.auth.getUser())
    },
  },
  {
    name: 'auth: signOut() (global) ends every device',
    todo: 'signOut() resolves { data: {}, error: null }; supabase-js { error: null }; the ended device\'s getUser() is AuthApiError 403 session_not_found (supabase-js: AuthSessionMissingError 400)',
    users: 1,
    run: async (t) => {
      const { rec } = t
      const { supabase, other } = await twoDevices(t, t.users[0])
      await rec('signOut', supabase.auth.signOut())
      await rec('getSession', supabase.auth.getSession())
      await rec('other: getUser', other.auth.getUser())
      await rec('other: refreshSession', other.auth.refreshSession())
    },
  },
  {
    name: 'auth: setSession with tokens from another device',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec, cb } = t
      const other = createClient(url, key, OTHER_DEVICE)
      const { data } = await signIn(t, other, users[0], 'other: signInWithPassword')
      const supabase = createClient(url, key)
      supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
      await rec('setSession', supabase.auth.setSession({ access_token: data.session.access_token, refresh_token: data.session.refresh_token }))
      await rec('getUser', supabase.auth.getUser())
    },
  },
  {
    name: 'auth: a stored session after a reload: getSession and INITIAL_SESSION',
    todo: 'with a stored session: no SIGNED_IN before INITIAL_SESSION, and getSession() never settles',
    users: 1,
    run: [
      async (t) => {
        const supabase = t.createClient(t.url, t.key)
        await signIn(t, supabase, t.users[0])
      },
      async ({ createClient, url, key, rec, cb, until }) => {
        const supabase = createClient(url, key)
        supabase.auth.onAuthStateChange(cb('onAuthStateChange', 2))
        await rec('getSession', supabase.auth.getSession())
        await until('onAuthStateChange')
      },
    ],
  },

  // ── channels: lifecycle ────────────────────────────────────────────────────────────────
  {
    name: 'channels: subscribe statuses, getChannels() before and after, unsubscribe()',
    todo: 'an unsubscribed channel stays in getChannels()',
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
    todo: 'removeChannel(): the channel\'s subscribe callback never gets CLOSED',
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
    todo: 'removeAllChannels(): the channels\' subscribe callbacks never get CLOSED',
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
    todo: 'channel(sameName) after unsubscribe() returns the old channel and subscribe() throws already_subscribed',
    run: async (t) => {
      const { createClient, url, key, tag, log, cb, rec, until, barrierEvent, dev } = t
      const supabase = createClient(url, key)
      const name = `room-${tag}`
      const first = supabase.channel(name).on('broadcast', { event: barrierEvent }, cb('first: message')).subscribe(cb('first: status', 2))
      await until('first: status')
      await rec('unsubscribe', first.unsubscribe())
      const second = supabase.channel(name).on('broadcast', { event: barrierEvent }, cb('second: message')).subscribe(cb('second: status', 2))
      log('same object', second === first)
      await t.wait('second SUBSCRIBED', () => t.events('second: status').some((e) => e.args[0] === 'SUBSCRIBED'))
      log('getChannels', supabase.getChannels().map((c) => c.topic))
      await barrierSeen(t, 'second: message', await dev.barrier([name]))
      await barrierSeen(t, 'second: message', await dev.barrier([name]))
    },
  },
  {
    name: 'channels: React StrictMode — subscribe, removeChannel in cleanup, same name again in the same tick',
    todo: 'the removed channel\'s subscribe callback never gets CLOSED (the one live join is right)',
    run: async (t) => {
      const { createClient, url, key, tag, log, cb, call, barrierEvent, dev } = t
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
      await barrierSeen(t, 'second: message', await dev.barrier([name]))
      await barrierSeen(t, 'second: message', await dev.barrier([name]))
    },
  },
  {
    name: 'channels: a second subscribe() on a joined channel',
    todo: 'a second subscribe() throws already_subscribed (supabase-js: returns the channel)',
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
    todo: 'TIMED_OUT comes with a RealtimeError join_timeout as err (supabase-js: no err)',
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
      const { createClient, url, key, users, tag, cb, rec, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const team = `team-${tag}`
      supabase.channel(team, { config: { private: true } }).on('broadcast', { event: barrierEvent }, cb('message')).subscribe(cb('status', 2))
      await until('status')
      await rec('refreshSession', supabase.auth.refreshSession())
      await barrierSeen(t, 'message', await dev.barrier([{ name: team, private: true }]))
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
      const { createClient, url, key, tag, cb, rec, until, dev } = t
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
      await barrierSeen(t, 'mine: message', await dev.barrier([name]))
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
    todo: 'httpSend() resolves \'ok\' (supabase-js: { success: true }); without a payload it sends {} (supabase-js: rejects)',
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
    todo: 'a presence \'*\' listener also gets authwire\'s \'update\' event',
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
      const { createClient, url, key, users, tag, cb, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      supabase
        .channel(name)
        .on('postgres_changes', { event: '*', schema: 'public', table: 'notes' }, cb('change'))
        .on('broadcast', { event: barrierEvent }, cb('barrier'))
        .on('system', {}, cb('system'))
        .subscribe(cb('status', 2))
      await until('status')
      await systemSaid(t, 'system', 'Subscribed to PostgreSQL')
      const [mine, theirs] = users.map((u) => u.id)
      await dev.sql(`insert into public.notes (owner, title) values ('${theirs}', 'not yours')`)
      await dev.sql(`insert into public.notes (owner, title) values ('${mine}', 'buy milk')`)
      await until('change')
      await dev.sql(`update public.notes set body = 'done' where owner = '${mine}'`)
      await until('change', 2)
      await dev.sql(`delete from public.notes where owner = '${mine}'`)
      await until('change', 3)
      await barrierSeen(t, 'barrier', await dev.barrier([name]))
    },
  },
  {
    name: 'postgres_changes: a filter (title=eq.urgent) and two listeners on one channel',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      supabase
        .channel(name)
        .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter: 'title=eq.urgent' }, cb('urgent'))
        .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes' }, cb('all'))
        .on('broadcast', { event: barrierEvent }, cb('barrier'))
        .on('system', {}, cb('system'))
        .subscribe(cb('status', 2))
      await until('status')
      await systemSaid(t, 'system', 'Subscribed to PostgreSQL')
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'later')`)
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'urgent')`)
      await until('all', 2)
      await barrierSeen(t, 'barrier', await dev.barrier([name]))
    },
  },
  {
    name: "postgres_changes: lower-case events ('insert', 'delete')",
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, tag, cb, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      supabase
        .channel(name)
        .on('postgres_changes', { event: 'insert', schema: 'public', table: 'notes' }, cb('insert'))
        .on('postgres_changes', { event: 'delete', schema: 'public', table: 'notes' }, cb('delete'))
        .on('broadcast', { event: barrierEvent }, cb('barrier'))
        .on('system', {}, cb('system'))
        .subscribe(cb('status', 2))
      await until('status')
      await systemSaid(t, 'system', 'Subscribed to PostgreSQL')
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'walk the dog')`)
      await until('insert')
      await dev.sql(`delete from public.notes where owner = '${users[0].id}'`)
      await until('delete')
      await barrierSeen(t, 'barrier', await dev.barrier([name]))
    },
  },
  {
    name: 'postgres_changes: a filter built with postgresChangesFilter()',
    todo: 'postgresChangesFilter is not exported',
    users: 1,
    run: async (t) => {
      const { createClient, sdk, url, key, users, tag, cb, call, until, dev, barrierEvent } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const name = `notes-${tag}`
      const filter = call('postgresChangesFilter().in(…).build()', () => sdk.postgresChangesFilter().in('title', ['urgent', 'now']).build())
      supabase
        .channel(name)
        .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'notes', filter }, cb('insert'))
        .on('broadcast', { event: barrierEvent }, cb('barrier'))
        .on('system', {}, cb('system'))
        .subscribe(cb('status', 2))
      await until('status')
      await systemSaid(t, 'system', 'Subscribed to PostgreSQL')
      await dev.sql(`insert into public.notes (owner, title) values ('${users[0].id}', 'later'), ('${users[0].id}', 'now')`)
      await until('insert')
      await barrierSeen(t, 'barrier', await dev.barrier([name]))
    },
  },
  {
    name: 'postgres_changes: an invalid filter',
    todo: 'on() throws invalid_filter (supabase-js: chains, SUBSCRIBED, then a system error message)',
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
    todo: 'realtime.setAuth(token) throws not_supported',
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
    todo: 'realtime.setAuth() throws not_supported',
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
    todo: 'disconnect() returns undefined, not a promise; CHANNEL_ERROR comes synchronously with another err',
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
    name: 'realtime: onHeartbeat() statuses with heartbeatIntervalMs: 300',
    run: async ({ createClient, url, key, tag, cb, until }) => {
      const supabase = createClient(url, key, { realtime: { heartbeatIntervalMs: 300 } })
      supabase.realtime.onHeartbeat(cb('heartbeat'))
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      await until('heartbeat', 4)
    },
  },
  {
    name: 'realtime: a dropped socket reconnects through reconnectAfterMs(tries) and rejoins',
    todo: 'reconnectAfterMs is called for tries 1–16 at createClient(), not per attempt; the CHANNEL_ERROR err differs (supabase-js: Error \'socket closed: 1006\')',
    run: async ({ createClient, url, key, tag, cb, until, wait, events, dev }) => {
      const supabase = createClient(url, key, { realtime: { reconnectAfterMs: (tries) => (cb('reconnectAfterMs')(tries), 200) } })
      supabase.channel(`room-${tag}`).subscribe(cb('status', 2))
      await until('status')
      await dev.fault({ realtime: { dropSockets: {} } })
      await wait('SUBSCRIBED again', () => events('status').filter((e) => e.args[0] === 'SUBSCRIBED').length >= 2)
    },
  },

  // ── PostgREST with the client's session ────────────────────────────────────────────────
  {
    name: 'postgrest: insert and select as the signed-in user',
    todo: 'client.fetch fails unbound (TypeError reading __wbg_ptr); postgrest-js then retries the GET past the step timeout',
    users: 1,
    run: async (t) => {
      const { createClient, url, key, users, rec, rest } = t
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      const db = rest(supabase)
      await rec('insert', db.from('notes').insert({ title: 'write the suite' }).select('title, body'))
      await rec('select', db.from('notes').select('title, body, owner'))
    },
  },
  {
    name: 'postgrest: an RLS-denied insert, and anon sees no rows',
    todo: 'client.fetch fails unbound: postgrest-js retries the GET past the step timeout',
    users: 2,
    run: async (t) => {
      const { createClient, url, key, users, rec, rest } = t
      const anon = createClient(url, key, OTHER_DEVICE)
      await rec('anon select', rest(anon).from('notes').select('title'))
      await rec('anon insert', rest(anon).from('notes').insert({ title: 'sneaky', owner: users[1].id }))
      const supabase = createClient(url, key)
      await signIn(t, supabase, users[0])
      await rec('insert for another owner', rest(supabase).from('notes').insert({ title: 'not mine', owner: users[1].id }))
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
