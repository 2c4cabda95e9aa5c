#!/usr/bin/env node
// `npm run bench`: authwire against supabase-js in the same run, same browser, same devserver.
// Prints medians and the ratio authwire / supabase-js for each measure (lower is better).
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, copyFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { startDevserver } from '../tests/support/devserver.mjs'
import { serveStatic } from '../tests/support/static.mjs'
import { launchBrowser } from '../tests/support/browser.mjs'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
if (!existsSync('pkg-web/authwire_bg.wasm')) {
  if (spawnSync('bash', ['scripts/build.sh'], { stdio: 'inherit' }).status !== 0) process.exit(1)
}
if (!existsSync('target/debug/authwire-dev') && !existsSync('target/release/authwire-dev')) {
  spawnSync('cargo', ['build', '--release', '-p', 'authwire-devserver'], { stdio: 'inherit' })
}
mkdirSync('dist-bench', { recursive: true })
await build({
  entryPoints: ['bench/page/main.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: 'dist-bench',
  loader: { '.wasm': 'file' },
  logLevel: 'error',
  logOverride: { 'duplicate-object-key': 'silent' },
})
copyFileSync('bench/page/index.html', 'dist-bench/index.html')

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000)
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 50)

const server = await startDevserver({ args: ['--limits', 'off'] })
const site = await serveStatic(['dist-bench'])
const browser = await launchBrowser({ extraArgs: ['--enable-precise-memory-info', '--js-flags=--expose-gc'] })

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function page() {
  const p = await browser.newPage()
  await p.goto(`${site.url}/index.html`)
  await p.evaluate(() => window.benchReady)
  return p
}

// In-page helpers: one client of either SDK; `sub` resolves when SUBSCRIBED.
const HELPERS = () => {
  window.make = (sdk, url, key) =>
    sdk === 'authwire'
      ? window.authwire.createClient(url, key, { auth: { persistSession: false }, realtime: { worker: false } })
      : window.supabase.createClient(url, key, { auth: { persistSession: false } })
  window.sub = (ch) => new Promise((ok, fail) => ch.subscribe((s, e) => (s === 'SUBSCRIBED' ? ok() : s !== 'RECOVERING' && s !== 'CLOSED' ? fail(new Error(`${s} ${e?.message}`)) : 0)))
}

const results = []
async function measure(name, unit, fn) {
  const per = {}
  for (const sdk of ['authwire', 'supabase-js']) {
    const xs = []
    for (let i = 0; i < ROUNDS; i++) xs.push(await fn(sdk, i))
    per[sdk] = median(xs)
  }
  results.push({ name, unit, a: per.authwire, s: per['supabase-js'] })
  console.log(`${name}: authwire ${per.authwire.toFixed(2)} ${unit}, supabase-js ${per['supabase-js'].toFixed(2)} ${unit}`)
}

const { url } = server
const key = server.config.anonKey

await measure('createClient → SUBSCRIBED (public channel)', 'ms', async (sdk, i) => {
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

await measure(`receive ${MESSAGES} broadcasts (sender: authwire, same page)`, 'ms', async (sdk, i) => {
  const p = await page()
  await p.evaluate(HELPERS)
  const ms = await p.evaluate(
    async ({ sdk, url, key, i, n }) => {
      const rx = window.make(sdk, url, key)
      const tx = window.make('authwire', url, key)
      let got = 0
      let done
      const all = new Promise((ok) => (done = ok))
      const ch = rx.channel(`flood-${sdk}-${i}`).on('broadcast', { event: 'm' }, () => {
        if (++got === n) done()
      })
      await window.sub(ch)
      const out = tx.channel(`flood-${sdk}-${i}`)
      await window.sub(out)
      const t0 = performance.now()
      for (let k = 0; k < n; k++) out.send({ type: 'broadcast', event: 'm', payload: { k, text: 'hello world' } })
      await all
      return performance.now() - t0
    },
    { sdk, url, key, i, n: MESSAGES },
  )
  await p.close()
  return ms
})

await measure(`JS heap for ${CHANNELS} subscribed channels`, 'KB', async (sdk) => {
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
    { sdk, url, key, n: CHANNELS },
  )
  await p.close()
  return kb
})

await browser.close()
await site.close()
await server.stop()

console.log('\nmeasure                                                     authwire   supabase-js   ratio')
for (const r of results) {
  console.log(`${r.name.padEnd(58)}${r.a.toFixed(1).padStart(9)}${r.s.toFixed(1).padStart(14)}${(r.a / r.s).toFixed(2).padStart(8)}  (${r.unit}, median of ${ROUNDS})`)
}
