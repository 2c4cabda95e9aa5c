// Issue 15, "against a real Supabase project": the demo's scenarios that need no `/_dev` faults,
// run with the release build in Chromium against any Supabase-compatible project —
// `npm run test:remote` with AUTHWIRE_REMOTE_URL, AUTHWIRE_REMOTE_ANON_KEY (the anon or
// publishable key) and AUTHWIRE_REMOTE_SERVICE_KEY (service role or secret key) set, on a
// project where `www/schema.sql` was applied (README, "Against your own project"). Without
// them it prints a notice and skips. `npm test` runs it against a local authwire-dev so the
// harness cannot rot. Users are created through the admin API and deleted afterwards.
//
// 1 two members of one band, four private channels each SUBSCRIBED (both socket modes), a
//   song added by A reaches B (latency recorded);
// 2 a member of the other band: the band's channel is refused, and an unfiltered changes
//   subscription sees only its own band's song (the barrier), not A's;
// 4 sign-out in A ends A's channels (`signed_out`); B still receives;
// 7 a member deleted through the admin API: `getUser()` answers `user_not_found` and the
//   session ends with that reason.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { fixture } from '../support/fixture.mjs'

const url = process.env.AUTHWIRE_REMOTE_URL?.replace(/\/+$/, '')
const anon = process.env.AUTHWIRE_REMOTE_ANON_KEY
const service = process.env.AUTHWIRE_REMOTE_SERVICE_KEY
const configured = Boolean(url && anon && service)
if (!configured) {
  console.log(
    'test:remote skipped: set AUTHWIRE_REMOTE_URL, AUTHWIRE_REMOTE_ANON_KEY and AUTHWIRE_REMOTE_SERVICE_KEY ' +
      '(a Supabase project with www/schema.sql applied) to run the demo scenarios against it',
  )
}

// www/schema.sql's two bands; a new user joins the band in its app_metadata.band.
const BAND = 'ba4d0000-0000-4000-8000-000000000001'
const OTHER_BAND = 'ba4d0000-0000-4000-8000-000000000002'
const TABLES = ['songs', 'setlists', 'shows', 'practice_sessions']
const admin = { apikey: service, authorization: `Bearer ${service}`, 'content-type': 'application/json' }

const f = fixture(configured ? { site: 'dist-test', browser: true } : {})

/** A user made through the admin API (deleted after the test), in `band`. */
async function member(t, band = BAND) {
  const email = `remote-${randomUUID().slice(0, 8)}@example.com`
  const r = await fetch(`${url}/auth/v1/admin/users`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ email, password: 'password123', email_confirm: true, app_metadata: { band } }),
  })
  const user = await r.json()
  assert.equal(r.status, 200, JSON.stringify(user))
  t.after(() => fetch(`${url}/auth/v1/admin/users/${user.id}`, { method: 'DELETE', headers: admin }))
  return { id: user.id, email }
}

/** A page with a signed-in client (`window.c`) and the band's four channels subscribed; events in `window.got`. */
async function signedIn(t, who, apikey = 'project', band = BAND) {
  const page = await f.openApp()
  t.after(() => page.close())
  await page.evaluate(
    async ({ url, anon, email, apikey, band, tables }) => {
      window.c = window.authwire.createClient(url, anon, { auth: { persistSession: false }, realtime: { apikey } })
      const { error } = await window.c.auth.signInWithPassword({ email, password: 'password123' })
      if (error) throw new Error(`sign-in: ${error.code} ${error.message}`)
      window.got = []
      window.statuses = {}
      for (const table of tables) {
        const name = `band:${band}:${table}`
        window.statuses[name] = []
        window.c
          .channel(name, { config: { private: true } })
          .on('postgres_changes', { event: '*', schema: 'public', table, filter: `band_id=eq.${band}` }, (p) =>
            window.got.push({ table, type: p.eventType, title: p.new?.title, at: Date.now() }),
          )
          .subscribe((s, e) => window.statuses[name].push(e?.code ? `${s}:${e.code}` : s))
      }
      await window.waitFor(() => Object.values(window.statuses).every((s) => s.includes('SUBSCRIBED')), {
        timeoutMs: 15_000,
        what: () => `four channels SUBSCRIBED, saw ${JSON.stringify(window.statuses)}`,
      })
    },
    { url, anon, email: who.email, apikey, band, tables: TABLES },
  )
  return page
}

/** Adds a song as the page's user (PostgREST through `client.fetch`: the session's token). */
function addSong(page, title, band = BAND) {
  return page.evaluate(
    async ({ url, title, band }) => {
      const r = await window.c.fetch(`${url}/rest/v1/songs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'return=minimal' },
        body: JSON.stringify({ band_id: band, title }),
      })
      if (r.status !== 201) throw new Error(`insert: ${r.status} ${await r.text()}`)
      return Date.now()
    },
    { url, title, band },
  )
}

const seen = (page, title, timeoutMs = 10_000) =>
  page.evaluate(
    ({ title, timeoutMs }) => window.waitFor(() => window.got.find((g) => g.title === title)?.at, { timeoutMs, what: `"${title}"` }),
    { title, timeoutMs },
  )

for (const apikey of ['project', 'session']) {
  test(`1 (apikey '${apikey}'): two members, four private channels each SUBSCRIBED, a song added by A reaches B`, { skip: !configured }, async (t) => {
    const [alice, bob] = await Promise.all([member(t), member(t)])
    const [A, B] = await Promise.all([signedIn(t, alice, apikey), signedIn(t, bob, apikey)])
    const title = `Remote song ${randomUUID().slice(0, 6)}`
    const sent = await addSong(A, title)
    const at = await seen(B, title)
    t.diagnostic(`A → B ${at - sent} ms`)
  })
}

test('2: a member of the other band sees none of the band’s changes', { skip: !configured }, async (t) => {
  const [alice, outsider] = await Promise.all([member(t), member(t, OTHER_BAND)])
  const A = await signedIn(t, alice)
  const C = await signedIn(t, outsider, 'project', OTHER_BAND)
  const probe = await C.evaluate(async (band) => {
    window.probe = { changes: [], refusal: null }
    window.c.channel('probe-songs').on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => window.probe.changes.push(p.new?.title)).subscribe()
    window.c.channel(`band:${band}:songs`, { config: { private: true } }).subscribe((s, e) => s === 'CHANNEL_ERROR' && (window.probe.refusal = e?.code ?? s))
    await window.waitFor(() => window.probe.refusal && window.c.getChannels().find((x) => x.topic === 'realtime:probe-songs')?.state === 'joined', { timeoutMs: 15_000, what: 'the probe joined, the foreign channel refused' })
    return window.probe.refusal
  }, BAND)
  assert.equal(probe, 'unauthorized')
  const secret = `Secret song ${randomUUID().slice(0, 6)}`
  await addSong(A, secret)
  await seen(A, secret)
  // The barrier: a song of C's band committed after A's; once C has it, A's would have come.
  const barrier = `Barrier song ${randomUUID().slice(0, 6)}`
  await addSong(C, barrier, OTHER_BAND)
  await seen(C, barrier)
  await C.evaluate((b) => window.waitFor(() => window.probe.changes.includes(b), { timeoutMs: 10_000, what: 'the barrier on the probe' }), barrier)
  const r = await C.evaluate(() => ({ changes: window.probe.changes, got: window.got.map((g) => g.title) }))
  assert.deepEqual(r.changes, [barrier], 'RLS: the unfiltered probe saw only its own band')
  assert.ok(!r.got.includes(secret))
})

test('4: sign-out in A ends A’s band channels at once; B still receives', { skip: !configured }, async (t) => {
  const [alice, bob] = await Promise.all([member(t), member(t)])
  const [A, B] = await Promise.all([signedIn(t, alice), signedIn(t, bob)])
  const ended = await A.evaluate(async () => {
    await window.c.auth.signOut()
    return Object.values(window.statuses).map((s) => s.at(-1))
  })
  assert.deepEqual(ended, Array(4).fill('CLOSED:signed_out'))
  const title = `After sign-out ${randomUUID().slice(0, 6)}`
  await addSong(B, title)
  await seen(B, title)
  assert.equal(await A.evaluate((x) => window.got.some((g) => g.title === x), title), false)
})

test('7: a member deleted through the admin API: getUser() says user_not_found and the session ends with it', { skip: !configured }, async (t) => {
  const ghost = await member(t)
  const A = await signedIn(t, ghost)
  const r0 = await fetch(`${url}/auth/v1/admin/users/${ghost.id}`, { method: 'DELETE', headers: admin })
  assert.equal(r0.status, 200)
  const r = await A.evaluate(async () => {
    const { error } = await window.c.auth.getUser()
    return { code: error?.code, reason: window.c.auth.signOutReason() }
  })
  assert.deepEqual(r, { code: 'user_not_found', reason: { reason: 'session_revoked', code: 'user_not_found' } })
})
