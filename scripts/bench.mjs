#!/usr/bin/env node
// `npm run bench`: the raw-WebSocket floor, supabase-js 2.119.1 and authwire side by side in one
// headless-Chromium run against one authwire-dev. Medians with min–max over the rounds; ratios
// are what count (absolute times are noisy on a shared 2-core machine).
//
//   node scripts/bench.mjs [--quick] [--rounds N] [--out DIR] [--no-profile] [--only ID-PREFIX] [--named]
// --named: authwire runs a wasm that keeps its function names (wasm-bindgen output before
// wasm-opt, so a bit slower than the shipped one), for profiles that name the Rust functions.
//
// Writes <out>/bench/results.json and the generated part of <out>/BENCHMARKS.md (between the
// `bench:begin`/`bench:end` markers; the prose around them is kept). `--quick` (run by
// `npm test` so the harness cannot rot) uses one round of tiny sizes and writes to a temp dir
// unless --out says otherwise. No measure here is asserted against a time.
import { build } from 'esbuild'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { cpus, totalmem, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startDevserver } from '../tests/support/devserver.mjs'
import { serveStatic } from '../tests/support/static.mjs'
import { launchBrowser } from '../tests/support/browser.mjs'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const QUICK = flag('--quick')
const ROUNDS = Number(option('--rounds') ?? (QUICK ? 1 : 5))
const OUT = resolve(option('--out') ?? (QUICK ? mkdtempSync(join(tmpdir(), 'authwire-bench-')) : flag('--named') ? 'target/bench-named' : root))
const ONLY = option('--only') // run only the measures whose id starts with this (and the profile when 'profile')
const PROFILE = !flag('--no-profile') && (!ONLY || ONLY === 'profile')
// Sizes: messages per flood (100 B / 1 KB frames), channels for the memory measure.
const N_SMALL = QUICK ? 300 : 20_000
const N_LARGE = QUICK ? 200 : 10_000
const MEM_CHANNELS = QUICK ? 20 : 1_000
const MANY_CHANNELS = QUICK ? 10 : 100

if (!existsSync('pkg-web/authwire_bg.wasm') || !existsSync('pkg/inline.js')) {
  if (spawnSync('bash', ['scripts/build.sh'], { stdio: 'inherit' }).status !== 0) process.exit(1)
}
const NAMED = flag('--named')
const run = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'inherit' }).status === 0 || process.exit(1)
if (NAMED) {
  // The release wasm as cargo leaves it keeps a `name` section; wasm-opt (in wasm-pack) drops it.
  run('cargo', ['build', '--quiet', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '-p', 'authwire'])
  const web = 'target/bench-named/pkg-web'
  run('wasm-bindgen', ['--target', 'web', '--keep-debug', '--out-dir', web, 'target/wasm32-unknown-unknown/release/authwire.wasm'])
  copyFileSync('pkg-web/package.json', `${web}/package.json`)
  run('node', ['scripts/package.mjs', 'target/bench-named/pkg', web])
}
const PKG = NAMED ? './target/bench-named/pkg' : './pkg'
// The full run floods from a release devserver (a debug one writes ~7,000 frames/s, less than
// the browser reads); the quick run takes whichever is built.
const DEV_BIN = QUICK ? undefined : 'target/release/authwire-dev'
if (QUICK && !existsSync('target/debug/authwire-dev') && !existsSync('target/release/authwire-dev')) {
  if (spawnSync('cargo', ['build', '--quiet', '-p', 'authwire-devserver', '--bin', 'authwire-dev'], { stdio: 'inherit' }).status !== 0) process.exit(1)
}
if (DEV_BIN) {
  console.log('cargo build --release -p authwire-devserver …')
  if (spawnSync('cargo', ['build', '--release', '--quiet', '-p', 'authwire-devserver', '--bin', 'authwire-dev'], { stdio: 'inherit' }).status !== 0) process.exit(1)
  process.env.AUTHWIRE_DEV_BIN = resolve(DEV_BIN)
}

// The pages. Identifiers stay unminified so CPU profiles name the glue's functions.
mkdirSync('dist-bench', { recursive: true })
await build({
  entryPoints: ['bench/page/main.ts', 'bench/page/cold-authwire.ts', 'bench/page/cold-supabase.ts'],
  bundle: true,
  minifyWhitespace: true,
  minifySyntax: true,
  format: 'esm',
  target: 'es2022',
  outdir: 'dist-bench',
  loader: { '.wasm': 'file' },
  // 'authwire' is the npm package's default entry, as an app imports it.
  alias: { authwire: `${PKG}/inline.js`, 'authwire-web': NAMED ? './target/bench-named/pkg-web' : './pkg-web' },
  logLevel: 'error',
  logOverride: { 'duplicate-object-key': 'silent' },
})
for (const f of ['index.html', 'cold-authwire.html', 'cold-supabase.html']) copyFileSync(`bench/page/${f}`, `dist-bench/${f}`)

const server = await startDevserver({ args: ['--limits', 'off', '--seed', 'demo', '--sql', 'www/schema.sql'] })
const site = await serveStatic(['dist-bench'])
const browser = await launchBrowser({ extraArgs: ['--enable-precise-memory-info', '--js-flags=--expose-gc'] })
const { url } = server
const key = server.config.anonKey
const service = server.config.serviceRoleKey
const BAND = 'ba4d0000-0000-4000-8000-000000000001' // www/schema.sql: alice's band
const SUBJECTS = ['floor', 'supabase-js', 'authwire']

async function dev(path, body) {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { apikey: service, authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  return r.json()
}

async function page(path = 'index.html') {
  const p = await browser.newPage()
  await p.goto(`${site.url}/${path}`)
  if (path === 'index.html') await p.evaluate(() => window.benchReady)
  return p
}

// In-page helpers: one client of either SDK; `sub` resolves when SUBSCRIBED.
const HELPERS = () => {
  window.make = (sdk, url, key) =>
    sdk === 'authwire'
      ? window.authwire.createClient(url, key, { auth: { persistSession: false } })
      : window.supabase.createClient(url, key, { auth: { persistSession: false } })
  window.sub = (ch) => new Promise((ok, fail) => ch.subscribe((s, e) => (s === 'SUBSCRIBED' ? ok() : s !== 'RECOVERING' && s !== 'CLOSED' ? fail(new Error(`${s} ${e?.message}`)) : 0)))
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], samples: xs }
}
const results = []
/** Runs `fn(subject, round)` ROUNDS times per subject, interleaved so drift hits all alike. */
async function measure(id, name, unit, subjects, fn) {
  if (ONLY && !id.startsWith(ONLY)) return
  const xs = Object.fromEntries(subjects.map((s) => [s, []]))
  const extra = Object.fromEntries(subjects.map((s) => [s, []]))
  for (let i = 0; i < ROUNDS; i++) {
    for (const s of subjects) {
      const r = await fn(s, i)
      xs[s].push(typeof r === 'number' ? r : r.value)
      if (typeof r === 'object') extra[s].push(r)
    }
  }
  const per = Object.fromEntries(subjects.map((s) => [s, stats(xs[s])]))
  for (const s of subjects) {
    if (extra[s].length && 'rate' in extra[s][0]) per[s].rate = stats(extra[s].map((r) => r.rate))
  }
  results.push({ id, name, unit, subjects: per })
  console.log(`${name}: ${subjects.map((s) => `${s} ${per[s].median.toFixed(2)}`).join(', ')} ${unit}`)
}

// --- inbound: main-thread script time per broadcast -------------------------------------
const enc = new TextEncoder()
/** One V2 JSON text broadcast frame of `bytes` bytes on `topic`. */
function textFrame(topic, bytes) {
  const shell = (fill) => JSON.stringify([null, null, `realtime:${topic}`, 'broadcast', { type: 'broadcast', event: 'm', payload: { k: 1, text: fill } }])
  return shell('x'.repeat(Math.max(0, bytes - shell('').length)))
}
/** One kind-4 binary user broadcast (JSON encoding) of `bytes` bytes on `topic`. */
function binaryFrame(topic, bytes) {
  const t = enc.encode(`realtime:${topic}`)
  const head = 5 + t.length + 1
  const shell = (fill) => JSON.stringify({ k: 1, text: fill })
  const payload = enc.encode(shell('x'.repeat(Math.max(0, bytes - head - shell('').length))))
  const out = new Uint8Array(head + payload.length)
  out.set([4, t.length, 1, 0, 1])
  out.set(t, 5)
  out[5 + t.length] = 'm'.charCodeAt(0)
  out.set(payload, head)
  return Buffer.from(out).toString('base64')
}

async function scriptSeconds(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'ScriptDuration').value
}

/** Joins `topics` with `subject`, then floods the socket with `n` copies of `frame`. */
async function inbound(subject, { n, topics, frame, binary }, profile) {
  const p = await page()
  const cdp = await browser.context.newCDPSession(p)
  await cdp.send('Performance.enable')
  await p.evaluate(HELPERS)
  await p.evaluate(
    async ({ subject, url, key, topics }) => {
      window.got = 0
      window.want = Infinity
      const cb = () => {
        if (++window.got === 1) window.t0 = performance.now()
        if (window.got === window.want) {
          window.t1 = performance.now()
          window.finish()
        }
      }
      if (subject === 'floor') {
        window.conn = window.connectFloor(url, key, topics, cb)
        await window.conn.ready
        return
      }
      window.conn = window.make(subject, url, key)
      await Promise.all(topics.map((t) => window.sub(window.conn.channel(t).on('broadcast', { event: 'm' }, cb))))
    },
    { subject, url, key, topics },
  )
  await p.evaluate((n) => {
    window.want = n
    window.got = 0
    window.done = new Promise((ok) => (window.finish = ok))
  }, n)
  if (profile) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 })
    await cdp.send('Profiler.start')
  }
  const before = await scriptSeconds(cdp)
  const sent = await dev('/_dev/faults', { realtime: { sendFrames: binary ? { binary: [frame], repeat: n } : { frames: [frame], repeat: n } } })
  if (sent.applied.realtime.framesSent !== n) throw new Error(`flood reached ${sent.applied.realtime.framesSent} frames, not ${n} (one socket expected)`)
  const timeout = new Promise((_, fail) => setTimeout(() => fail(new Error(`${subject}: flood not delivered in 120 s`)), 120_000))
  await Promise.race([p.evaluate(() => window.done), timeout])
  const after = await scriptSeconds(cdp)
  const prof = profile ? (await cdp.send('Profiler.stop')).profile : undefined
  const { t0, t1, got } = await p.evaluate(() => ({ t0: window.t0, t1: window.t1, got: window.got }))
  if (got !== n) throw new Error(`${subject}: ${got} of ${n} delivered`)
  await p.close()
  return { value: ((after - before) * 1e6) / n, rate: ((n - 1) * 1000) / Math.max(t1 - t0, 0.001), profile: prof }
}

const INBOUND = [
  { id: 'inbound-text-100', name: 'main-thread script µs per inbound broadcast, V2 JSON text, 100 B', n: N_SMALL, make: textFrame, bytes: 100 },
  { id: 'inbound-text-1k', name: 'same, JSON text, 1 KB', n: N_LARGE, make: textFrame, bytes: 1024 },
  { id: 'inbound-binary-100', name: 'same, binary kind 4, 100 B', n: N_SMALL, make: binaryFrame, bytes: 100, binary: true },
  { id: 'inbound-binary-1k', name: 'same, binary kind 4, 1 KB', n: N_LARGE, make: binaryFrame, bytes: 1024, binary: true },
  { id: 'inbound-text-100-many', name: `same, JSON text, 100 B, ${MANY_CHANNELS} joined channels`, n: N_SMALL, make: textFrame, bytes: 100, many: true },
]
let round = 0
for (const m of INBOUND) {
  await measure(m.id, m.name, 'µs', SUBJECTS, (subject) => {
    const tag = `b${round++}`
    const topics = m.many ? Array.from({ length: MANY_CHANNELS }, (_, k) => `${tag}-${k}`) : [`${tag}-0`]
    const floodTopic = topics[Math.floor(topics.length / 2)]
    return inbound(subject, { n: m.n, topics, frame: m.make(floodTopic, m.bytes), binary: m.binary })
  })
}

// --- where authwire's inbound time goes: a CPU profile of one flood -----------------------
/** Function index → name from a wasm's `name` section (the named build keeps one). */
function wasmNames(path) {
  const names = new Map()
  if (!existsSync(path)) return names
  const d = readFileSync(path)
  let i = 8
  const leb = () => {
    let r = 0
    for (let s = 0; ; s += 7) {
      const b = d[i++]
      r += (b & 0x7f) * 2 ** s
      if (b < 0x80) return r
    }
  }
  const str = () => {
    const n = leb()
    i += n
    return d.subarray(i - n, i).toString('utf8')
  }
  while (i < d.length) {
    const id = d[i++]
    const end = leb() + i
    if (id === 0 && str() === 'name') {
      while (i < end) {
        const sub = d[i++]
        const subEnd = leb() + i
        if (sub === 1) for (let k = leb(); k > 0; k--) names.set(leb(), unhash(demangle(str())))
        i = subEnd
      }
    }
    i = end
  }
  return names
}
/** `_ZN4core3fmt5write17h…E` → `core::fmt::write` (Rust's legacy mangling, hash dropped). */
function demangle(s) {
  const m = /^_ZN(.*)E$/.exec(s)
  if (!m) return s
  const parts = []
  for (let r = m[1]; r.length; ) {
    const n = /^(\d+)/.exec(r)
    if (!n) break
    const seg = r.slice(n[1].length, n[1].length + Number(n[1]))
    r = r.slice(n[1].length + Number(n[1]))
    if (!/^h[0-9a-f]{16}$/.test(seg)) parts.push(seg.replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ').replace(/\$RF\$/g, '&').replace(/\$C\$/g, ',').replace(/\.\./g, '::'))
  }
  return parts.join('::')
}
const unhash = (s) => s.replace(/::h[0-9a-f]{16}$/, '')
const WASM_NAMES = wasmNames(NAMED ? 'target/bench-named/pkg-web/authwire_bg.wasm' : 'pkg-web/authwire_bg.wasm')
const WASM_FNS = new Set(WASM_NAMES.values())

/** Self time by function over a CDP profile, idle excluded; wasm functions grouped apart. */
function breakdown(profile) {
  const dt = new Map()
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
  const byName = new Map()
  const byKind = new Map()
  let total = 0
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0
    const { functionName, url } = node.callFrame
    if (!us || functionName === '(idle)') continue
    const wasm = url.startsWith('wasm://') || /^\$?wasm-function|^\$/.test(functionName) || WASM_FNS.has(unhash(functionName))
    const kind = wasm ? 'wasm' : functionName.startsWith('(') ? functionName : url ? 'JS' : 'browser built-ins (JSON.parse, TextDecoder, events, …)'
    const index = /^\$?wasm-function\[(\d+)\]$/.exec(functionName)?.[1]
    const named = index === undefined ? unhash(functionName) : (WASM_NAMES.get(Number(index)) ?? functionName)
    const name = `${named || '(anonymous)'}${wasm ? ' [wasm]' : url ? '' : ' [built-in]'}`
    byName.set(name, (byName.get(name) ?? 0) + us)
    byKind.set(kind, (byKind.get(kind) ?? 0) + us)
    total += us
  }
  const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, us]) => ({ name, share: us / total }))
  return { totalMs: total / 1000, kinds: top(byKind, 10), functions: top(byName, 25) }
}
const profiles = {}
if (PROFILE) {
  for (const subject of ['authwire', 'supabase-js', 'floor']) {
    const tag = `p-${subject}`
    const r = await inbound(subject, { n: N_SMALL, topics: [tag], frame: textFrame(tag, 100) }, true)
    profiles[subject] = breakdown(r.profile)
  }
  // The cost that grows with the channel count.
  const topics = Array.from({ length: MANY_CHANNELS }, (_, k) => `p-many-${k}`)
  const r = await inbound('authwire', { n: N_SMALL, topics, frame: textFrame(topics[MANY_CHANNELS / 2], 100) }, true)
  profiles[`authwire, ${MANY_CHANNELS} channels`] = breakdown(r.profile)
  console.log('profile of authwire, 100 B text:', profiles.authwire.kinds.map((k) => `${k.name} ${(k.share * 100).toFixed(0)}%`).join(', '))
}

// --- cold page: script load → client ready; sign-in → four private RLS channels -----------
const coldQuery = (signin) =>
  `url=${encodeURIComponent(url)}&key=${encodeURIComponent(key)}` + (signin ? `&signin=${BAND}&email=alice%40example.com&password=password123` : '')
async function cold(subject, signin) {
  const p = await page(`cold-${subject === 'authwire' ? 'authwire' : 'supabase'}.html?${coldQuery(signin)}`)
  const r = await p.evaluate(() => window.result)
  await p.close()
  return signin ? r.subscribed : r.ready
}
await measure('cold-ready', 'script load → createClient ready (ms from navigation; authwire: wasm inflated + instantiated)', 'ms', ['supabase-js', 'authwire'], (s) => cold(s, false))
await measure('cold-signin-4-private', 'cold page → signed in, four private RLS channels SUBSCRIBED', 'ms', ['supabase-js', 'authwire'], (s) => cold(s, true))

await measure('create-subscribe', 'createClient → SUBSCRIBED (public channel, warm page)', 'ms', ['supabase-js', 'authwire'], async (sdk, i) => {
  const p = await page()
  await p.evaluate(HELPERS)
  const ms = await p.evaluate(
    async ({ sdk, url, key, i }) => {
      const t0 = performance.now()
      const c = window.make(sdk, url, key)
      await window.sub(c.channel(`bench-${i}`))
      return performance.now() - t0
    },
    { sdk, url, key, i },
  )
  await p.close()
  return ms
})

await measure('memory', `JS heap + wasm memory growth for ${MEM_CHANNELS} joined channels`, 'KB', ['supabase-js', 'authwire'], async (sdk) => {
  const p = await page()
  await p.evaluate(HELPERS)
  const kb = await p.evaluate(
    async ({ sdk, url, key, n }) => {
      const heap = () => performance.memory?.usedJSHeapSize ?? 0
      const wasm = () => (sdk === 'authwire' ? (window.wasmMemory?.buffer.byteLength ?? 0) : 0)
      globalThis.gc?.()
      const before = heap() + wasm()
      const c = window.make(sdk, url, key)
      const chans = []
      for (let k = 0; k < n; k++) chans.push(window.sub(c.channel(`mem-${sdk}-${k}`)))
      await Promise.all(chans)
      globalThis.gc?.()
      return (heap() + wasm() - before) / 1024
    },
    { sdk, url, key, n: MEM_CHANNELS },
  )
  await p.close()
  return kb
})

const chromium = browser.context.browser()?.version() ?? execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version']).toString().trim()
await browser.close()
await site.close()
await server.stop()

// --- bytes: the shipped package (scripts/size.mjs) and the wasm's biggest items (twiggy) ----
const size = spawnSync('node', ['scripts/size.mjs', '--json'], { encoding: 'utf8' })
const sizes = size.status === 0 ? JSON.parse(size.stdout) : null
let twiggy = null
const rawWasm = 'target/wasm32-unknown-unknown/release/authwire.wasm'
if (existsSync(rawWasm) && spawnSync('twiggy', ['--version']).status === 0) {
  // The wasm before wasm-bindgen and wasm-opt: the shipped one makes twiggy 0.7.0 panic, and
  // this one still has function names.
  const t = spawnSync('twiggy', ['top', '-n', '20', '-f', 'json', rawWasm], { encoding: 'utf8' })
  if (t.status === 0) twiggy = JSON.parse(t.stdout)
}

// --- write ----------------------------------------------------------------------------------
const pkgVersion = (p) => JSON.parse(readFileSync(p, 'utf8')).version
const report = {
  date: new Date().toISOString(),
  quick: QUICK,
  rounds: ROUNDS,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  versions: { authwire: pkgVersion('pkg/package.json'), 'supabase-js': pkgVersion('node_modules/@supabase/supabase-js/package.json'), chromium, node: process.version },
  sizes: { messagesSmall: N_SMALL, messagesLarge: N_LARGE, memChannels: MEM_CHANNELS, manyChannels: MANY_CHANNELS },
  measures: results,
  profiles,
  bundle: sizes,
  twiggyTop: twiggy,
}
mkdirSync(join(OUT, 'bench'), { recursive: true })
writeFileSync(join(OUT, 'bench/results.json'), JSON.stringify(report, null, 2) + '\n')

const f = (x, d = 2) => (x === undefined ? '—' : x.toFixed(d))
const range = (s, d) => `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})`
const lines = []
lines.push(`Measured ${report.date.slice(0, 10)} by \`npm run bench\`: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB; Chromium ${chromium}, Node ${process.version}; authwire ${report.versions.authwire}, supabase-js ${report.versions['supabase-js']}. Medians of ${ROUNDS} rounds (min–max).`, '')
lines.push(`### Inbound broadcasts (${N_SMALL.toLocaleString('en')} × 100 B / ${N_LARGE.toLocaleString('en')} × 1 KB frames per round)`, '')
lines.push('| measure | raw floor | supabase-js | authwire | supabase-js / floor | authwire / floor | authwire rate / floor rate |', '|---|---|---|---|---|---|---|')
for (const r of results.filter((r) => r.id.startsWith('inbound'))) {
  const s = r.subjects
  lines.push(`| ${r.name} | ${range(s.floor)} | ${range(s['supabase-js'])} | ${range(s.authwire)} | ${f(s['supabase-js'].median / s.floor.median)}× | ${f(s.authwire.median / s.floor.median)}× | ${f(s.authwire.rate.median / s.floor.rate.median)}× (${Math.round(s.authwire.rate.median).toLocaleString('en')} vs ${Math.round(s.floor.rate.median).toLocaleString('en')}/s) |`)
}
lines.push('', '### Start-up, memory', '')
lines.push('| measure | supabase-js | authwire | authwire / supabase-js |', '|---|---|---|---|')
for (const r of results.filter((r) => !r.id.startsWith('inbound'))) {
  const s = r.subjects
  lines.push(`| ${r.name} (${r.unit}) | ${range(s['supabase-js'], 1)} | ${range(s.authwire, 1)} | ${f(s.authwire.median / s['supabase-js'].median)}× |`)
}
if (sizes) {
  lines.push('', '### Bytes an app ships (gzip -9; `node scripts/size.mjs`)', '')
  lines.push('| what | gzip B | / supabase RealtimeClient + AuthClient |', '|---|---|---|')
  for (const [name, b] of Object.entries(sizes.gzip)) lines.push(`| ${name} | ${b.toLocaleString('en')} | ${f(b / sizes.gzip['supabase RealtimeClient + AuthClient (min)'])}× |`)
}
if (PROFILE) {
  lines.push('', '### Where the inbound time goes (CPU profile of one 100 B text flood, self time, idle excluded)', '')
  for (const [subject, p] of Object.entries(profiles)) {
    lines.push(`**${subject}** (${f(p.totalMs, 1)} ms sampled): ${p.kinds.map((k) => `${k.name} ${(k.share * 100).toFixed(1)} %`).join(' · ')}`, '')
    lines.push('| function | self share |', '|---|---|')
    for (const fn of p.functions.slice(0, subject === 'authwire' ? 15 : 6)) lines.push(`| \`${fn.name.replace(/\|/g, '\\|')}\` | ${(fn.share * 100).toFixed(1)} % |`)
    lines.push('')
  }
}
if (twiggy) {
  lines.push('### The wasm\'s biggest items (`twiggy top -n 20`, before wasm-bindgen/wasm-opt)', '')
  lines.push('| item | bytes | share |', '|---|---|---|')
  for (const it of twiggy.items ?? twiggy) lines.push(`| \`${String(it.name).slice(0, 90).replace(/\|/g, '\\|')}\` | ${(it.shallow_size ?? 0).toLocaleString('en')} | ${f(it.shallow_size_percent ?? 0)} % |`)
}
const generated = lines.join('\n').trimEnd()
const mdPath = join(OUT, 'BENCHMARKS.md')
const BEGIN = '<!-- bench:begin (generated by npm run bench; edit outside the markers) -->'
const END = '<!-- bench:end -->'
const prior = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`
const [head, rest] = prior.includes(BEGIN) ? prior.split(BEGIN) : [prior + '\n', END]
writeFileSync(mdPath, `${head}${BEGIN}\n${generated}\n${rest.slice(rest.indexOf(END))}`)
console.log(`\nwrote ${join(OUT, 'bench/results.json')} and ${mdPath}`)
