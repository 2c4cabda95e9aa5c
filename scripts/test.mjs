#!/usr/bin/env node
// `npm test`: every suite, in order. A suite fails on a non-zero exit *or* when it ran fewer
// tests than it should (a browser suite under the wrong runner "passes" with zero tests).
// Prints a timing table at the end; exits non-zero if anything failed.
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { resolve, join } from 'node:path'
import { startDevserver } from '../tests/support/devserver.mjs'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` }
const only = process.argv.slice(2)

function run(cmd, args, { extraEnv = {}, echo = true } = {}) {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const take = (stream, sink) =>
      stream.on('data', (d) => {
        out += d
        if (echo) sink.write(d)
      })
    take(child.stdout, process.stdout)
    take(child.stderr, process.stderr)
    child.on('close', (code) => ok({ code, out }))
  })
}

/** Sums `test result: ok. N passed` lines of cargo / wasm-bindgen-test output. */
function cargoPassed(out) {
  let n = 0
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed/g)) n += Number(m[1])
  return n
}

function nodePassed(out) {
  const pass = out.match(/^# pass (\d+)/m)
  const fail = out.match(/^# fail (\d+)/m)
  return { pass: pass ? Number(pass[1]) : 0, fail: fail ? Number(fail[1]) : 1 }
}

const results = []
async function suite(name, fn) {
  if (only.length && !only.some((o) => name.includes(o))) return
  console.log(`\n━━ ${name}`)
  const t0 = Date.now()
  let ok = false
  let note = ''
  try {
    const r = await fn()
    ok = r.ok
    note = r.note ?? ''
  } catch (e) {
    note = String(e?.stack ?? e)
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  results.push({ name, ok, secs, note })
  console.log(`━━ ${name}: ${ok ? 'ok' : 'FAILED'} (${secs} s) ${note}`)
}

const cmd = (c, a, opts) => async () => {
  const r = await run(c, a, opts)
  return { ok: r.code === 0 }
}

await suite('lint: cargo fmt --check', cmd('cargo', ['fmt', '--all', '--', '--check']))
await suite('lint: clippy (native)', cmd('cargo', ['clippy', '--workspace', '--all-targets', '--quiet', '--', '-D', 'warnings']))
await suite(
  'lint: clippy (wasm32)',
  cmd('cargo', ['clippy', '-p', 'authwire', '-p', 'authwire-core', '-p', 'authwire-wire', '--target', 'wasm32-unknown-unknown', '--quiet', '--', '-D', 'warnings']),
)

// One cargo invocation per crate, so each crate's count is known: a crate whose suite ran
// no tests fails (the browser suite under the native runner would "pass" with zero).
for (const [pkg, min] of [
  ['authwire-wire', 20],
  ['authwire-core', 30],
  ['authwire-sim', 55],
  ['authwire-devserver', 150],
]) {
  await suite(`native: cargo test -p ${pkg}`, async () => {
    const r = await run('cargo', ['test', '-p', pkg])
    const n = cargoPassed(r.out)
    return { ok: r.code === 0 && n >= min, note: `${n} tests${n < min ? ` (expected at least ${min})` : ''}` }
  })
}

await suite('build: release wasm, pkg/ and demo bundle', cmd('bash', ['scripts/build.sh']))
// The package's size is deterministic: over size-budget.json is a failure, not a benchmark.
await suite('size: package gzip within size-budget.json', cmd('node', ['scripts/size.mjs', '--check']))
await suite('build: authwire-dev', cmd('cargo', ['build', '--quiet', '-p', 'authwire-devserver', '--bin', 'authwire-dev']))

await suite('browser: wasm-bindgen-test in headless Chromium', async () => {
  const expected = (readFileSync('tests/web.rs', 'utf8').match(/#\[wasm_bindgen_test\]/g) ?? []).length
  const server = await startDevserver()
  try {
    const r = await run(
      'wasm-pack',
      ['test', '--headless', '--chrome', '--chromedriver', '/usr/bin/chromedriver', '.', '--no-default-features'],
      {
        extraEnv: {
          AUTHWIRE_TEST_URL: server.url,
          AUTHWIRE_TEST_ANON_KEY: server.config.anonKey,
          AUTHWIRE_TEST_PUBLISHABLE_KEY: server.config.publishableKey,
        },
      },
    )
    const n = cargoPassed(r.out)
    return { ok: r.code === 0 && n === expected, note: `${n}/${expected} tests` }
  } finally {
    await server.stop()
  }
})

await suite('types: tsc --noEmit', async () => {
  const a = await run('tsc', ['--noEmit', '-p', 'www'])
  const b = await run('tsc', ['--noEmit', '-p', 'tests'])
  const c = await run('tsc', ['--noEmit', '-p', 'tests/e2e/page'])
  const e = await run('tsc', ['--noEmit', '-p', 'bench/page'])
  // The drop-in corpus (tests/types/dropin) once more with 'authwire' resolved to supabase-js:
  // the snippets compile against both, so they are supabase-js app code.
  const d = await run('tsc', ['--noEmit', '-p', 'tests/tsconfig.supabase.json'])
  return { ok: a.code === 0 && b.code === 0 && c.code === 0 && d.code === 0 && e.code === 0 }
})

await suite('e2e: release bundle in Chromium (Playwright)', async () => {
  const files = readdirSync('tests/e2e').filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests/e2e', f))
  const r = await run('node', ['--test', '--test-reporter=tap', ...files], { echo: true })
  const { pass, fail } = nodePassed(r.out)
  return { ok: r.code === 0 && fail === 0 && pass > 0, note: `${pass} passed, ${fail} failed` }
})

// The npm package as a frontend installs it: `npm pack` of pkg/, the tarball in scratch apps
// built with the real Vite (dev and build), webpack 5 and esbuild, plain-ESM pages and
// workers, each reaching SUBSCRIBED in Chromium against one devserver.
await suite('package: tarball in Vite/webpack/esbuild/ESM/workers', async () => {
  const files = readdirSync('tests/package').filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests/package', f))
  const r = await run('node', ['--test', '--test-reporter=tap', ...files])
  const { pass, fail } = nodePassed(r.out)
  return { ok: r.code === 0 && fail === 0 && pass >= 12, note: `${pass} passed, ${fail} failed` }
})

// Issue 10's drop-in proof: supabase-js-style snippets run in Chromium with supabase-js 2.119.1
// and with authwire on one devserver, event logs compared (tests/dropin/). Snippets that differ
// because of an authwire gap are node:test `todo`s: counted apart, they do not fail the suite.
await suite('dropin: supabase-js vs authwire in Chromium', async () => {
  const r = await run('node', ['--test', '--test-reporter=tap', 'tests/dropin/dropin.test.mjs'])
  const { pass, fail } = nodePassed(r.out)
  const todo = Number(r.out.match(/^# todo (\d+)/m)?.[1] ?? 0)
  return { ok: r.code === 0 && fail === 0 && pass > 0, note: `${pass} passed, ${fail} failed, ${todo} todo (authwire gaps)` }
})

// Issue 14's chaos soak for one minute (`npm run soak -- --minutes 30` is the long form): four
// pages of two users on a devserver that drops sockets, delays replies, fails refreshes and
// restarts, each page offline once; every count (tokens, refreshes, losses without a gap,
// duplicates, page errors, leftovers) must be zero.
await suite('soak: chaos soak, 1 minute', async () => {
  const r = await run('node', ['scripts/soak.mjs', '--minutes', '1'], { echo: false })
  const summary = r.out.split('\n').filter((l) => l.startsWith('Chaos soak') || l.startsWith('soak: ')).slice(-2)
  if (r.code !== 0) console.log(r.out.split('\n').slice(-40).join('\n'))
  return { ok: r.code === 0, note: summary.at(-1) ?? '' }
})

// The short form of `npm run fuzz` for the client and simulation targets, where cargo-fuzz and
// nightly are installed (setup.sh installs neither: a fresh machine skips this and says so).
await suite('fuzz: client_inputs + sim_schedule + devserver_frames, 2,000 runs each', async () => {
  const has = await run('cargo', ['fuzz', '--version'], { echo: false })
  const nightly = await run('rustup', ['toolchain', 'list'], { echo: false })
  if (has.code !== 0 || !/^nightly/m.test(nightly.out)) return { ok: true, note: 'skipped: no cargo-fuzz / nightly (npm run fuzz installs cargo-fuzz)' }
  let runs = 0
  for (const t of ['client_inputs', 'sim_schedule', 'devserver_frames']) {
    const r = await run('bash', ['-c', `cd fuzz && mkdir -p corpus/${t} && cp -n seeds/${t}/* corpus/${t}/ 2>/dev/null; cargo +nightly fuzz run -O -a ${t} corpus/${t} -- -runs=2000 -max_len=4096`], { echo: false })
    if (r.code !== 0) return { ok: false, note: `${t} failed: ${r.out.split('\n').filter((l) => /panicked|ERROR|SUMMARY/.test(l)).slice(0, 3).join(' | ')}` }
    runs += Number(r.out.match(/Done (\d+) runs/)?.[1] ?? 0)
  }
  return { ok: runs >= 6000, note: `${runs} runs, no crash` }
})

// `npm run bench` once at a tiny size (one round, a few hundred messages), into a temp dir, so
// the harness cannot rot. Its numbers are not asserted: only that every measure produced one.
await suite('bench: --quick harness run (no timed assertion)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'authwire-bench-'))
  const r = await run('node', ['scripts/bench.mjs', '--quick', '--out', out], { echo: false })
  if (r.code !== 0) return { ok: false, note: r.out.split('\n').slice(-5).join(' | ') }
  const report = JSON.parse(readFileSync(join(out, 'bench/results.json'), 'utf8'))
  const values = report.measures.flatMap((m) => Object.values(m.subjects).map((s) => s.median))
  const ok = report.measures.length >= 9 && values.every((v) => Number.isFinite(v) && v > 0)
  rmSync(out, { recursive: true, force: true })
  return { ok, note: `${report.measures.length} measures, ${values.length} medians` }
})

// `npm run test:remote`'s scenarios (tests/remote/) on a local authwire-dev with the demo's
// schema, so the harness a user points at a real project cannot rot.
await suite('remote: test:remote against a local authwire-dev', async () => {
  const server = await startDevserver({ args: ['--seed', 'none', '--sql', 'www/schema.sql'] })
  try {
    const extraEnv = {
      AUTHWIRE_REMOTE_URL: server.url,
      AUTHWIRE_REMOTE_ANON_KEY: server.config.publishableKey,
      AUTHWIRE_REMOTE_SERVICE_KEY: server.config.secretKey,
    }
    const r = await run('node', ['--test', '--test-reporter=tap', 'tests/remote/remote.test.mjs'], { extraEnv })
    const { pass, fail } = nodePassed(r.out)
    return { ok: r.code === 0 && fail === 0 && pass >= 5, note: `${pass} passed, ${fail} failed` }
  } finally {
    await server.stop()
  }
})

// The official supabase-js 2.119 (Node, `ws` transport) and raw Phoenix frames against real
// authwire-dev servers (gateway, raw, short-TTL, lifecycle). --test-force-exit: realtime-js's
// disconnect() leaves a 10 s timer behind in every file.
await suite('conformance: supabase-js against authwire-dev', async () => {
  const files = readdirSync('tests/conformance').filter((f) => f.endsWith('.test.mjs')).map((f) => join('tests/conformance', f))
  const r = await run('node', ['--test', '--test-force-exit', '--test-reporter=tap', ...files])
  const { pass, fail } = nodePassed(r.out)
  return { ok: r.code === 0 && fail === 0 && pass > 0, note: `${pass} passed, ${fail} failed` }
})

console.log('\nsuite                                                   result   seconds')
for (const r of results) console.log(`${r.name.padEnd(56)}${(r.ok ? 'ok' : 'FAILED').padEnd(9)}${r.secs.padStart(7)}  ${r.note}`)
const failed = results.filter((r) => !r.ok)
if (failed.length) {
  console.log(`\n${failed.length} suite(s) failed`)
  process.exit(1)
}
console.log(`\nall ${results.length} suites passed`)
