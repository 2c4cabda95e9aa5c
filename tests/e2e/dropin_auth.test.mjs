// supabase-js-style auth snippets, each run twice on the same authwire-dev: with
// @supabase/supabase-js 2.119.1 (in Node) and with the release build of authwire (in
// Chromium). The results are compared after normalising ids, tokens, times and addresses; a
// snippet passes when both clients give the same result. Where authwire differs on purpose,
// the test says so and asserts authwire's side.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import * as supabase from '@supabase/supabase-js'
import { fixture, email } from '../support/fixture.mjs'
import { service } from '../support/dev.mjs'
import { within } from '../support/wait.mjs'

const f = fixture({ servers: { server: {} }, site: 'dist-test', browser: true })

const GUARDS = [
  'isAuthError',
  'isAuthApiError',
  'isAuthSessionMissingError',
  'isAuthImplicitGrantRedirectError',
  'isAuthPKCECodeVerifierMissingError',
  'isAuthRetryableFetchError',
  'isAuthRefreshDiscardedError',
  'isAuthWeakPasswordError',
]

// Runs in Node and in the page (as source text): an in-memory storage, and `desc`, which
// turns a result into plain JSON (errors become their class chain, fields and guard results;
// byte arrays their length).
function helpers(guards) {
  const memory = () => {
    const m = new Map()
    return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) }
  }
  // The error's own class, made again with auth-js's constructor arguments for it: the same
  // name, an instance of that class and of Error (class names are minified in the bundle).
  const remade = (e) => {
    const C = e.constructor
    const x = new C('m', 400, e.name === 'AuthWeakPasswordError' ? ['length'] : 'c')
    return { name: x.name, sameClass: x instanceof C && Object.getPrototypeOf(x) === Object.getPrototypeOf(e), isError: x instanceof Error }
  }
  const desc = (v, lib) => {
    if (v instanceof Error || (v && typeof v === 'object' && '__isAuthError' in v)) {
      const g = {}
      for (const name of guards) g[name] = lib[name](v)
      return {
        $error: remade(v),
        name: v.name,
        message: v.message,
        status: v.status ?? null,
        code: v.code ?? null,
        reasons: v.reasons,
        details: v.details,
        json: JSON.parse(JSON.stringify(v)),
        guards: g,
      }
    }
    if (v instanceof Uint8Array) return { $bytes: v.length }
    if (Array.isArray(v)) return v.map((x) => desc(x, lib))
    if (v && typeof v === 'object') {
      const o = {}
      for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = desc(x, lib)
      return o
    }
    return v
  }
  return { memory, desc }
}

/** Where an emailed link redirects to (the devserver answers 303). */
async function follow(url) {
  const r = await fetch(url, { redirect: 'manual' })
  return r.headers.get('location')
}

async function mails(address) {
  const r = await service(f.server, `/_dev/mail?email=${encodeURIComponent(address)}`)
  return r.json.messages
}

/** The snippet's environment: fresh addresses per run, and the devserver's mailbox. */
function environment() {
  return { email: email('dropin'), email2: email('dropin2'), redirect: `${f.site.url}/index.html` }
}

/** Runs `snippet` with supabase-js in Node. */
async function withSupabase(snippet) {
  const h = helpers(GUARDS)
  const clients = []
  const make = (opts = {}) => {
    const c = supabase.createClient(f.server.url, f.server.config.publishableKey, {
      auth: { storage: h.memory(), autoRefreshToken: false, detectSessionInUrl: false, ...opts.auth },
      realtime: { transport: WebSocket },
    })
    clients.push(c)
    return c
  }
  const env = { ...environment(), mails, follow }
  try {
    return h.desc(await snippet({ make, lib: supabase, env, within }), supabase)
  } finally {
    for (const c of clients) await c.realtime.disconnect()
  }
}

/** Runs `snippet` with authwire in Chromium. */
async function withAuthwire(snippet) {
  const page = await f.openApp()
  await page.exposeFunction('devMails', mails)
  await page.exposeFunction('devFollow', follow)
  try {
    return await page.evaluate(
      async ({ src, helpersSrc, guards, url, key, env }) => {
        const h = (0, eval)(`(${helpersSrc})`)(guards)
        const snippet = (0, eval)(`(${src})`)
        const lib = window.authwire
        const clients = []
        const make = (opts = {}) => {
          const c = lib.createClient(url, key, {
            auth: { storage: h.memory(), autoRefreshToken: false, detectSessionInUrl: false, ...opts.auth },
          })
          clients.push(c)
          return c
        }
        const full = { ...env, mails: window.devMails, follow: window.devFollow }
        try {
          return h.desc(await snippet({ make, lib, env: full, within: window.within }), lib)
        } finally {
          for (const c of clients) c.destroy()
        }
      },
      {
        src: snippet.toString(),
        helpersSrc: helpers.toString(),
        guards: GUARDS,
        url: f.server.url,
        key: f.server.config.publishableKey,
        env: environment(),
      },
    )
  } finally {
    await page.close()
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/
const EMAIL = /^[\w.+-]+@example\.com$/
const VOLATILE_NUMBERS = new Set(['expires_at', 'iat', 'exp', 'timestamp'])

/** Ids, tokens, times and addresses replaced by placeholders. */
function normalise(v, key) {
  if (typeof v === 'string') {
    if (key === 'refresh_token') return '<refresh token>'
    if (UUID.test(v)) return '<uuid>'
    if (JWT.test(v)) return '<jwt>'
    if (TIME.test(v)) return '<time>'
    if (EMAIL.test(v)) return '<email>'
    return v
  }
  if (typeof v === 'number' && VOLATILE_NUMBERS.has(key)) return '<number>'
  if (Array.isArray(v)) return v.map((x) => normalise(x))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x, k)]))
  return v
}

/**
 * authwire sets a stable `code` on errors where auth-js leaves it undefined (a deliberate
 * difference, README): there the code must be a string, and it is then left out of the
 * comparison.
 */
function codesAsAuthJs(aw, sj) {
  if (Array.isArray(aw) && Array.isArray(sj)) return aw.map((x, i) => codesAsAuthJs(x, sj[i]))
  if (!aw || !sj || typeof aw !== 'object' || typeof sj !== 'object') return aw
  const out = {}
  for (const [k, x] of Object.entries(aw)) out[k] = codesAsAuthJs(x, sj[k])
  if (aw.$error && sj.$error && sj.code === null) {
    assert.equal(typeof aw.code, 'string', `authwire's ${aw.name} has a code`)
    out.code = null
    if (out.json) {
      out.json = { ...out.json }
      delete out.json.code
    }
  }
  return out
}

/** Runs the snippet with both clients and asserts the same (normalised) result. */
async function same(snippet) {
  const [sj, aw] = await Promise.all([withSupabase(snippet), withAuthwire(snippet)])
  const a = normalise(aw)
  const s = normalise(sj)
  assert.deepEqual(codesAsAuthJs(a, s), s)
  return { aw: a, sj: s }
}

test('getSession() right after createClient() resolves: empty storage, then a stored session', async () => {
  const { aw } = await same(async ({ make, env, within }) => {
    const first = make()
    const empty = await within(first.auth.getSession(), { timeoutMs: 5000, what: 'the first getSession()' })
    await first.auth.signUp({ email: env.email, password: 'password-1' })
    // A page load with that session stored: a new client on the same storage, asked at once.
    const kept = {}
    const storage = { getItem: (k) => kept[k] ?? null, setItem: (k, v) => void (kept[k] = v), removeItem: (k) => void delete kept[k] }
    await make({ auth: { storage } }).auth.signInWithPassword({ email: env.email, password: 'password-1' })
    const reloaded = make({ auth: { storage } })
    const again = await within(reloaded.auth.getSession(), { timeoutMs: 5000, what: 'getSession() after a reload' })
    const user = await reloaded.auth.getUser()
    return { empty, reloadedUser: again.data.session?.user?.email, getUser: user.data.user?.email, error: again.error }
  })
  assert.deepEqual(aw.empty, { data: { session: null }, error: null })
  assert.equal(aw.reloadedUser, '<email>')
})

test('errors: weak password (reasons), wrong password, no address; classes, guards, toJSON', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    const weak = await c.auth.signUp({ email: env.email, password: '123' })
    const wrong = await c.auth.signInWithPassword({ email: env.email, password: 'nope-nope' })
    const noAddress = await c.auth.signInWithPassword({ password: 'password-1' })
    return { weak, wrong, noAddress }
  })
  assert.deepEqual(aw.weak.error.$error, { name: 'AuthWeakPasswordError', sameClass: true, isError: true })
  assert.deepEqual(aw.weak.error.reasons, ['length'])
  assert.equal(aw.weak.error.guards.isAuthWeakPasswordError, true)
  assert.equal(aw.wrong.error.name, 'AuthApiError')
  assert.equal(aw.noAddress.error.name, 'AuthInvalidCredentialsError')
})

test('getClaims(): { claims, header, signature } with the signature as bytes', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    const none = await c.auth.getClaims()
    const { data } = await c.auth.signUp({ email: env.email, password: 'password-1' })
    const claims = await c.auth.getClaims()
    return {
      none,
      keys: Object.keys(claims.data),
      bytes: claims.data.signature instanceof Uint8Array,
      header: claims.data.header,
      sub: claims.data.claims.sub === data.user.id,
      role: claims.data.claims.role,
      claims,
    }
  })
  assert.deepEqual(aw.keys, ['claims', 'header', 'signature'])
  assert.equal(aw.bytes, true)
  assert.deepEqual(aw.claims.data.signature, { $bytes: 64 })
})

test('signInWithOtp: the email result has no messageId; phone is refused by the devserver alike', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    const mail = await c.auth.signInWithOtp({ email: env.email })
    const phone = await c.auth.signInWithOtp({ phone: '+15555550100' })
    return { mail, hasMessageId: 'messageId' in mail.data, phone }
  })
  assert.deepEqual(aw.mail, { data: { user: null, session: null }, error: null })
  assert.equal(aw.phone.error.code, 'phone_provider_disabled')
})

test('resetPasswordForEmail with PKCE, then exchangeCodeForSession: redirectType recovery, PASSWORD_RECOVERY', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make({ auth: { flowType: 'pkce' } })
    await c.auth.signUp({ email: env.email, password: 'password-1' })
    const events = []
    c.auth.onAuthStateChange((e) => events.push(e))
    const reset = await c.auth.resetPasswordForEmail(env.email, { redirectTo: env.redirect })
    const [mail] = await env.mails(env.email)
    const location = await env.follow(mail.link)
    const code = new URL(location).searchParams.get('code')
    const exchange = await c.auth.exchangeCodeForSession(code)
    const again = await c.auth.exchangeCodeForSession(code)
    // An unknown address gets the same answer (and no mail).
    const unknown = await make().auth.resetPasswordForEmail(env.email2)
    return {
      reset,
      unknown,
      kind: mail.kind,
      redirectType: exchange.data.redirectType,
      keys: Object.keys(exchange.data).sort(),
      error: exchange.error,
      again,
      events,
    }
  })
  assert.equal(aw.redirectType, 'recovery')
  assert.deepEqual(aw.reset, { data: {}, error: null })
  assert.deepEqual(aw.again.data, { user: null, session: null, redirectType: null })
  assert.deepEqual(aw.events, ['INITIAL_SESSION', 'PASSWORD_RECOVERY'])
})

test('resend: a new signup mail; sms refused by the devserver; no address is AuthInvalidCredentialsError', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    await c.auth.signInWithOtp({ email: env.email })
    const before = (await env.mails(env.email)).length
    const signup = await c.auth.resend({ type: 'signup', email: env.email, options: { emailRedirectTo: env.redirect } })
    const after = await env.mails(env.email)
    const sms = await c.auth.resend({ type: 'sms', phone: '+15555550100' })
    const none = await c.auth.resend({ type: 'signup' })
    return { signup, newMails: after.length - before, kind: after[0].kind, sms, none }
  })
  assert.deepEqual(aw.signup, { data: { user: null, session: null }, error: null })
  assert.equal(aw.newMails, 1)
  assert.equal(aw.none.error.name, 'AuthInvalidCredentialsError')
})

test('reauthenticate, getUserIdentities and mfa (listFactors, getAuthenticatorAssuranceLevel, unenroll), signed out and in', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    const calls = async () => ({
      reauthenticate: await c.auth.reauthenticate(),
      identities: await c.auth.getUserIdentities(),
      factors: await c.auth.mfa.listFactors(),
      aal: await c.auth.mfa.getAuthenticatorAssuranceLevel(),
      unenroll: await c.auth.mfa.unenroll({ factorId: '00000000-0000-4000-8000-000000000000' }),
    })
    const signedOut = await calls()
    await c.auth.signUp({ email: env.email, password: 'password-1' })
    const signedIn = await calls()
    const badId = await c.auth.mfa.unenroll({ factorId: 'not-a-uuid' })
    const [mail] = await env.mails(env.email)
    return { signedOut, signedIn, badId, mail: mail.kind }
  })
  assert.equal(aw.signedOut.reauthenticate.error.name, 'AuthSessionMissingError')
  assert.equal(aw.signedIn.reauthenticate.error, null)
  assert.equal(aw.mail, 'reauthentication')
  assert.equal(aw.signedIn.identities.data.identities[0].provider, 'email')
  assert.equal(aw.signedIn.aal.data.currentLevel, 'aal1')
  assert.equal(aw.signedIn.unenroll.error.code, 'mfa_factor_not_found')
})

test("every method of supabase-js's auth exists; the out-of-scope ones resolve with not_supported", async () => {
  // supabase-js's own method list, walked on a live client.
  const c = supabase.createClient(f.server.url, f.server.config.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket },
  })
  const methods = (obj) => {
    const names = new Set()
    for (let p = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const n of Object.getOwnPropertyNames(p)) {
        const d = Object.getOwnPropertyDescriptor(p, n)
        if (n !== 'constructor' && !n.startsWith('_') && typeof d.value === 'function') names.add(n)
      }
    }
    // Not API: the injected fetch and logger.
    names.delete('fetch')
    names.delete('logger')
    return [...names].sort()
  }
  const paths = ['', 'mfa', 'mfa.webauthn', 'mfa.recoveryCodes', 'admin', 'admin.mfa', 'admin.oauth', 'admin.customProviders', 'admin.passkey', 'oauth', 'passkey']
  const at = (o, path) => (path ? path.split('.').reduce((x, k) => x[k], o) : o)
  const wanted = paths.map((p) => [p, methods(at(c.auth, p))])
  await c.realtime.disconnect()
  assert.ok(wanted[0][1].includes('resetPasswordForEmail') && wanted[0][1].length > 30, wanted[0][1].join(' '))
  const notSupported = [
    'signInWithSSO', 'signInWithWeb3', 'signInWithEthereum', 'signInWithSolana', 'signInWithPasskey', 'registerPasskey',
    'linkIdentity', 'linkIdentityOAuth', 'linkIdentityIdToken', 'unlinkIdentity',
    'mfa.enroll', 'mfa.challenge', 'mfa.verify', 'mfa.challengeAndVerify',
    ...wanted.filter(([p]) => ['mfa.webauthn', 'mfa.recoveryCodes', 'admin', 'admin.mfa', 'admin.oauth', 'admin.customProviders', 'admin.passkey', 'oauth', 'passkey'].includes(p)).flatMap(([p, ms]) => ms.map((m) => `${p}.${m}`)),
  ]
  const page = await f.openApp()
  const r = await page.evaluate(
    async ({ url, key, wanted, notSupported }) => {
      const client = window.authwire.createClient(url, key, { auth: { persistSession: false } })
      const at = (o, path) => (path ? path.split('.').reduce((x, k) => x[k], o) : o)
      const missing = []
      for (const [path, names] of wanted) for (const n of names) if (typeof at(client.auth, path)?.[n] !== 'function') missing.push(`${path}.${n}`)
      const wrong = []
      for (const full of notSupported) {
        const i = full.lastIndexOf('.')
        const [path, n] = i < 0 ? ['', full] : [full.slice(0, i), full.slice(i + 1)]
        const owner = at(client.auth, path)
        const res = await owner[n]({})
        if (res?.data !== null || res?.error?.code !== 'not_supported' || !window.authwire.isAuthError(res.error)) wrong.push(full)
      }
      const props = { jwks: client.auth.jwks, jwksCachedAt: client.auth.jwks_cached_at, throwOnError: client.auth.isThrowOnErrorEnabled() }
      const fetchJwk = await client.auth.fetchJwk('k').then(() => 'resolved', (e) => e.code)
      client.destroy()
      return { missing, wrong, props, fetchJwk }
    },
    { url: f.server.url, key: f.server.config.publishableKey, wanted, notSupported },
  )
  await page.close()
  assert.deepEqual(r.missing, [])
  assert.deepEqual(r.wrong, [])
  assert.deepEqual(r.props, { jwks: { keys: [] }, jwksCachedAt: Number.MIN_SAFE_INTEGER, throwOnError: false })
  assert.equal(r.fetchJwk, 'not_supported')
})

test('client.auth and its namespaces are the same objects on every access', async () => {
  const { aw } = await same(async ({ make }) => {
    const c = make()
    return {
      auth: c.auth === c.auth,
      mfa: c.auth.mfa === c.auth.mfa,
      admin: c.auth.admin === c.auth.admin,
      webauthn: c.auth.mfa.webauthn === c.auth.mfa.webauthn,
      initialize: await c.auth.initialize(),
    }
  })
  assert.deepEqual(aw, { auth: true, mfa: true, admin: true, webauthn: true, initialize: { error: null } })
})

test('event order for sign-up, refresh, updateUser and each signOut scope, and the scopes\' results', async () => {
  const { aw } = await same(async ({ make, env }) => {
    const c = make()
    const events = []
    c.auth.onAuthStateChange((e, s) => events.push([e, s ? s.user.email : null]))
    const steps = {}
    await c.auth.signUp({ email: env.email, password: 'password-1' })
    steps.refresh = (await c.auth.refreshSession()).error
    steps.update = (await c.auth.updateUser({ data: { band: 'the wires' } })).data.user.user_metadata
    steps.others = await c.auth.signOut({ scope: 'others' })
    steps.afterOthers = (await c.auth.getSession()).data.session !== null
    steps.local = await c.auth.signOut({ scope: 'local' })
    await c.auth.signInWithPassword({ email: env.email, password: 'password-1' })
    steps.global = await c.auth.signOut()
    steps.afterGlobal = (await c.auth.getSession()).data.session
    return { events, steps }
  })
  assert.deepEqual(
    aw.events.map(([e]) => e),
    ['INITIAL_SESSION', 'SIGNED_IN', 'TOKEN_REFRESHED', 'USER_UPDATED', 'SIGNED_OUT', 'SIGNED_IN', 'SIGNED_OUT'],
  )
  assert.deepEqual(aw.steps.global, { error: null })
})

test('deliberate difference: signOut() without a session emits no SIGNED_OUT (supabase-js emits one)', async () => {
  const snippet = async ({ make }) => {
    const c = make()
    const events = []
    c.auth.onAuthStateChange((e) => events.push(e))
    const result = await c.auth.signOut()
    return { result, events }
  }
  const [sj, aw] = await Promise.all([withSupabase(snippet), withAuthwire(snippet)])
  assert.deepEqual(sj.result, { error: null })
  assert.deepEqual(aw.result, { error: null })
  assert.deepEqual(sj.events, ['INITIAL_SESSION', 'SIGNED_OUT'])
  // authwire fires only real transitions (api.md): there was no session to end.
  assert.deepEqual(aw.events, ['INITIAL_SESSION'])
})
