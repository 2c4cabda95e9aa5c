// The drop-in proof (issue 10): each snippet of `snippets.mjs` — ordinary supabase-js app code
// — runs in headless Chromium twice on one devserver, once with supabase-js 2.119.1 and once
// with authwire (only the import differs: see `page/`), and the two event logs must be equal
// after `normalise.mjs`. A snippet marked `deliberate` is where authwire keeps a guarantee that
// supabase-js breaks: there authwire's log must show the guarantee (`deliberate.want`), and the
// difference is listed in DIFFERENCES.md. A snippet marked `todo` differs today because of an
// authwire gap (RESULTS.md has the table); node:test runs it and prints the difference.
//
// Every run's normalised logs go to tests/.tmp/dropin/results.json; `node
// tests/dropin/report.mjs` turns that into RESULTS.md (the table of the differences).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomUUID } from 'node:crypto'
import { build } from 'esbuild'
import { fixture, email } from '../support/fixture.mjs'
import { within } from '../support/wait.mjs'
import { service, fault, psql, commitBarrier } from '../support/dev.mjs'
import { snippets, PASSWORD } from './snippets.mjs'
import { normalise, firstDifference, summary, canon, alignedText, acceptAdditions } from './normalise.mjs'
import { writeMigration } from '../conformance/lib/schema.mjs'

const here = import.meta.dirname
const root = resolve(here, '..', '..')
const VARIANTS = ['supabase-js', 'authwire']
/** Where the pages are built (gitignored); the fixture serves it, files are read per request. */
const SITE = 'tests/.tmp/dropin/site'

// The conformance suite's migration: `public.notes` with RLS by `auth.uid()` in the change
// feed, and `realtime.messages` policies that let signed-in users use `team-*` private topics.
const migration = writeMigration()
after(() => migration.remove())

const f = fixture({
  servers: { server: { args: ['--sql', migration.file] } },
  site: SITE,
  browser: true,
  setup: () => buildSite(join(root, SITE)),
})

/** Both pages, bundled as a browser app bundles them (the workspace's esbuild, no plugins). */
async function buildSite(dir) {
  rmSync(dir, { recursive: true, force: true })
  await build({
    entryPoints: { 'supabase-js': join(here, 'page/supabase.mjs'), authwire: join(here, 'page/authwire.mjs') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    loader: { '.wasm': 'file' },
    assetNames: '[name]-[hash]',
    logLevel: 'warning',
    logOverride: { 'duplicate-object-key': 'silent' },
  })
  for (const v of VARIANTS) {
    writeFileSync(join(dir, `${v}.html`), `<!doctype html><meta charset="utf-8"><title>${v}</title><script type="module" src="./${v}.js"></script>\n`)
  }
}

/** What the page may ask of the devserver (`t.dev.*` in a snippet). */
const devOps = {
  sql: (text) => psql(f.server, text),
  barrier: (topics) => commitBarrier(f.server, topics),
  fault: async (body) => (await fault(f.server, body)).json,
  /** Follows an OAuth `/authorize` URL of the `dev` provider as `email` would; returns where it redirects. */
  authorize: async (url, email) => {
    const u = new URL(url)
    u.searchParams.set('login_hint', email)
    const r = await fetch(u, { redirect: 'manual' })
    return r.headers.get('location')
  },
  admin: async (method, path, body) => {
    const r = await service(f.server, `/auth/v1/admin${path}`, { method, body: body && JSON.stringify(body) })
    return { status: r.status, json: r.json }
  },
}

/** A confirmed user made through the admin API, fresh for each run (runs must not share state). */
async function makeUser() {
  const address = email('dropin')
  const r = await service(f.server, '/auth/v1/admin/users', {
    method: 'POST',
    body: JSON.stringify({ email: address, password: PASSWORD, email_confirm: true }),
  })
  if (r.status !== 200) throw new Error(`admin create user: ${r.status} ${r.text}`)
  return { email: address, password: PASSWORD, id: r.json.id }
}

/** `snippet.users` fresh users for each of `runs` runs, made concurrently. */
async function makeUsers(snippet, runs) {
  const made = await Promise.all(Array.from({ length: runs * (snippet.users ?? 0) }, makeUser))
  return Array.from({ length: runs }, (_, i) => made.slice(i * (snippet.users ?? 0), (i + 1) * (snippet.users ?? 0)))
}

/** Runs `snippet` with one client library in a fresh page; returns the raw log and what to normalise. */
async function runOnce(variant, snippet, users) {
  const tag = randomUUID().slice(0, 8)
  const emails = [email('fresh'), email('fresh')]
  const env = { url: f.server.url, key: f.server.config.publishableKey, tag, users, emails, barrierEvent: 'feed-barrier' }
  const known = { [tag]: '<tag>' }
  // (The local part too: the `dev` OAuth provider names a user after it.)
  users.forEach((u, i) => Object.assign(known, { [u.email]: `<user${i + 1}.email>`, [u.email.split('@')[0]]: `<user${i + 1}.name>`, [u.id]: `<user${i + 1}.id>` }))
  emails.forEach((e, i) => (known[e] = `<email${i + 1}>`))
  const t0 = Date.now()
  const page = await f.browser.newPage()
  await page.exposeFunction('dropinDev', (op, ...args) => devOps[op](...args))
  const log = []
  try {
    const phases = Array.isArray(snippet.run) ? snippet.run.length : 1
    for (let phase = 0; phase < phases; phase++) {
      if (phase === 0) await page.goto(`${f.site.url}/${variant}.html`)
      else await page.reload()
      await page.waitForFunction(() => window.dropinReady, null, { timeout: 10_000 })
      // Every run starts from an empty origin (the browser profile is shared by all runs).
      if (phase === 0) await page.evaluate(() => (localStorage.clear(), sessionStorage.clear()))
      const part = await within(
        page.evaluate(([name, phase, env]) => window.runSnippet(name, phase, env), [snippet.name, phase, env]),
        { timeoutMs: 60_000, what: `${variant} run of ${snippet.name}` },
      )
      log.push(...part)
    }
  } finally {
    page.logs.length && process.env.DROPIN_CONSOLE && console.log(page.logs.join('\n'))
    await page.close()
  }
  if (process.env.DROPIN_DEBUG) console.log(`  ${variant}: ${Date.now() - t0} ms`)
  return { log, known, norm: normalise(log, known), ms: Date.now() - t0 }
}

const results = []
const started = Date.now()
after(() => {
  const dir = join(root, 'tests/.tmp/dropin')
  mkdirSync(dir, { recursive: true })
  const run = { finishedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), filter: only ?? null, snippets: results }
  writeFileSync(join(dir, 'results.json'), JSON.stringify(run, null, 1))
})

// Development knobs: DROPIN_FILTER='<substring>|…' runs only the matching snippets;
// DROPIN_SELFCHECK=1 runs supabase-js against itself (a snippet whose reference log is not
// deterministic is a bad snippet: it would compare by luck).
const only = process.env.DROPIN_FILTER
const selfCheck = !!process.env.DROPIN_SELFCHECK

for (const snippet of snippets.filter((s) => !only || only.split('|').some((o) => s.name.includes(o)))) {
  test(snippet.name, snippet.todo && !selfCheck ? { todo: snippet.todo } : {}, async (t) => {
    const [refUsers, awUsers] = await makeUsers(snippet, 2)
    const ref = await runOnce('supabase-js', snippet, refUsers)
    const aw = await runOnce(selfCheck ? 'supabase-js' : 'authwire', snippet, awUsers)
    if (selfCheck) {
      const d = firstDifference(ref.norm, aw.norm)
      assert.ok(!d, d && `supabase-js differs from itself at event ${d.index} (${d.path}): ${canon(d.ref)} vs ${canon(d.authwire)}\n  ${summary(ref.norm).join('\n  ')}`)
      return
    }
    // authwire's additions (an error `code`, `RealtimeError`) are documented, not differences.
    const { log: awCompared, additions } = acceptAdditions(ref.norm, aw.norm)
    const diff = firstDifference(ref.norm, awCompared)
    const entry = {
      name: snippet.name,
      todo: snippet.todo ?? null,
      deliberate: snippet.deliberate ? { guarantee: snippet.deliberate.guarantee, difference: snippet.deliberate.difference } : null,
      equal: !diff,
      diff,
      additions,
      ms: { 'supabase-js': ref.ms, authwire: aw.ms },
      ref: ref.norm,
      authwire: aw.norm,
    }
    results.push(entry)
    if (snippet.todo && !diff) t.diagnostic(`now equal: remove its todo mark in snippets.mjs`)
    const show = () =>
      `first difference at event ${diff.index}${diff.path ? ` (${diff.path})` : ''}:\n  supabase-js: ${canon(diff.ref)}\n  authwire:    ${canon(diff.authwire)}\n` +
      `the logs aligned (- supabase-js only, + authwire only, ~ same step, other values):\n  ${alignedText(ref.norm, awCompared).join('\n  ')}`
    if (snippet.deliberate) {
      const { project, want } = snippet.deliberate
      entry.deliberate.ref = project(ref.norm)
      entry.deliberate.authwire = project(aw.norm)
      assert.ok(diff, `${snippet.name}: listed as a deliberate difference, but both logs are equal`)
      assert.deepEqual(entry.deliberate.authwire, want, `authwire must keep ${snippet.deliberate.guarantee}\n${show()}`)
      return
    }
    if (diff) assert.fail(show())
  })
}
