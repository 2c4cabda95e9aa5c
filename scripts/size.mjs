#!/usr/bin/env node
// `npm run size`: what an app ships of the npm package pkg/ (scripts/package.mjs), through each
// of its two entries, against an esbuild bundle of @supabase/realtime-js RealtimeClient +
// @supabase/auth-js AuthClient, built in the same run. Sizes are raw / gzip -9 / brotli (q 11).
//   default entry (inline.js: Vite, esbuild, Rollup, Turbopack): one minified JS, wasm inside;
//   `webpack` entry and 'authwire/url' (url.js): minified JS glue + the separate .wasm.
// `--check` compares both entries' gzip -9 bytes with size-budget.json (sizes are deterministic
// for a given toolchain, so this is a test, not a benchmark: raising the budget is a visible diff).
import { build } from 'esbuild'
import { readFileSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { gzipSync, brotliCompressSync, constants } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
if (!existsSync('pkg/inline.js') || process.argv.includes('--build')) {
  const r = spawnSync('bash', ['scripts/build.sh'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(1)
}

const sizes = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
})
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli })

async function bundle(entry, resolveDir) {
  const r = await build({
    stdin: { contents: entry, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['*.wasm'],
  })
  return Buffer.from(r.outputFiles[0].contents)
}

const entry = (file) => `export * from './pkg/${file}'; export { default } from './pkg/${file}'`
const wasm = sizes(readFileSync('pkg/authwire_bg.wasm'))
const glue = sizes(await bundle(entry('url.js'), root))
const url = add(wasm, glue)
const inline = sizes(await bundle(entry('inline.js'), root))
const theirs = sizes(
  await bundle("export { RealtimeClient } from '@supabase/realtime-js'; export { AuthClient } from '@supabase/auth-js'", root),
)
const ROWS = {
  'authwire default entry (JS, wasm inlined)': inline,
  'authwire url entry: .wasm': wasm,
  'authwire url entry: JS glue (minified)': glue,
  'authwire url entry total': url,
  'supabase RealtimeClient + AuthClient (min)': theirs,
}
if (process.argv.includes('--json')) {
  // For scripts/bench.mjs: bytes per row and encoding.
  const pick = (k) => Object.fromEntries(Object.entries(ROWS).map(([n, s]) => [n, s[k]]))
  console.log(JSON.stringify({ raw: pick('raw'), gzip: pick('gzip'), brotli: pick('brotli') }))
  process.exit(0)
}
const kb = (n) => (n / 1024).toFixed(1).padStart(7)
const row = (name, s) => console.log(`${name.padEnd(44)}${kb(s.raw)}${kb(s.gzip)}${kb(s.brotli)}`)
console.log(`${''.padEnd(44)}${'raw KB'.padStart(7)}${'gzip'.padStart(7)}${'brotli'.padStart(7)}`)
for (const [name, s] of Object.entries(ROWS)) row(name, s)
const ratio = (ours, k) => (ours[k] / theirs[k]).toFixed(2)
for (const [name, ours] of [['default entry', inline], ['url entry', url]]) {
  console.log(`ratio authwire ${name} / supabase: raw ${ratio(ours, 'raw')}, gzip ${ratio(ours, 'gzip')}, brotli ${ratio(ours, 'brotli')} (budget: gzip ≤ 0.80)`)
}

if (process.argv.includes('--check')) {
  const budget = JSON.parse(readFileSync('size-budget.json', 'utf8'))
  let over = 0
  for (const [name, ours] of [['defaultEntryGzip', inline.gzip], ['urlEntryGzip', url.gzip]]) {
    const max = budget[name]
    if (typeof max !== 'number') {
      console.log(`size-budget.json has no ${name}`)
      over++
    } else if (ours > max) {
      console.log(`OVER BUDGET: ${name} ${ours} B > ${max} B (+${ours - max} B): shrink it, or raise the budget in size-budget.json and say why`)
      over++
    } else {
      const slack = max - ours
      console.log(`${name}: ${ours} B within ${max} B${slack > max * 0.02 ? ` (${slack} B under: lower the budget)` : ''}`)
    }
  }
  process.exit(over ? 1 : 0)
}
