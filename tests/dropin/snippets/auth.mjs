// Auth snippets (results, errors, sessions and events) and PostgREST with the session.
import { OTHER_DEVICE, twoDevices, signIn } from './helpers.mjs'

export const snippets = [
  // ── auth: results and errors ───────────────────────────────────────────────────────────
  {
    name: 'auth: getSession() right after createClient(), nothing stored',
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
    users: 1,
    deliberate: {
      guarantee: 'api.md: INITIAL_SESSION first',
      difference:
        'after a reload with a stored session, a listener gets INITIAL_SESSION with that session and no SIGNED_IN (nobody signed in); supabase-js emits SIGNED_IN first on every page load',
      project: (log) => ({
        events: log.filter((e) => e.step === 'onAuthStateChange').map((e) => e.args[0]),
        'getSession has the session': !!log.find((e) => e.step === 'getSession')?.args?.[0]?.data?.session,
      }),
      want: { events: ['INITIAL_SESSION'], 'getSession has the session': true },
    },
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

  // ── PostgREST with the client's session ────────────────────────────────────────────────
  {
    name: 'postgrest: insert and select as the signed-in user',
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
]
