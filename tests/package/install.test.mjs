// The npm package as a frontend gets it: `npm pack` of pkg/, the tarball installed into a
// scratch app in a temp dir, that app (tests/package/app/: the README's import line,
// `await init()`, `createClient`, one `subscribe()`) built with the real Vite, webpack 5 and
// esbuild with no config file, plugin or loader, served as plain ESM pages (import map) and
// inside a Web Worker; each loaded in Chromium against one real devserver must reach
// SUBSCRIBED with no page error, with the wasm arriving the way the exports map routes it
// (README "The npm package"). Also: the tarball's contents, and an app's TypeScript.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as netServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startDevserver } from '../support/devserver.mjs'
import { launchBrowser } from '../support/browser.mjs'
import { serveStatic } from '../support/static.mjs'

const root = resolve(import.meta.dirname, '..', '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** Runs a command to completion; rejects with its output on a non-zero exit. */
function sh(cmd, args, cwd) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${out}`))))
  })
}

const freePort = () =>
  new Promise((ok) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => ok(port))
    })
  })

const html = (title, body) => `<!doctype html>\n<meta charset="utf-8" />\n<link rel="icon" href="data:," />\n<title>${title}</title>\n<body>\n${body}\n</body>\n`

let tmp, app, server, browser, starting
const stops = []
const timings = {}
async function timed(name, fn) {
  const t0 = performance.now()
  try {
    return await fn()
  } finally {
    timings[name] = Math.round(performance.now() - t0)
  }
}

before(async () => {
  assert.ok(existsSync(join(root, 'pkg', 'inline.js')), 'pkg/ is not built: run `bash scripts/build.sh`')
  const { version } = JSON.parse(readFileSync(join(root, 'pkg', 'package.json'), 'utf8'))
  // The devserver (its PostgreSQL takes a few seconds) and the browser start while npm works;
  // each is kept as soon as it is up, so `after` stops it even if something else failed.
  starting = Promise.allSettled([startDevserver().then((s) => (server = s)), launchBrowser().then((b) => (browser = b))])
  tmp = mkdtempSync(join(tmpdir(), 'authwire-package-'))
  app = join(tmp, 'app')
  cpSync(join(import.meta.dirname, 'app'), app, { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2))
  await timed('npm pack', () => sh('npm', ['pack', '--silent', '--pack-destination', tmp, join(root, 'pkg')], tmp))
  const tgz = join(tmp, `authwire-${version}.tgz`)
  await timed('npm install', () => sh('npm', ['install', '--no-audit', '--no-fund', '--offline', tgz], app))
  for (const r of await starting) if (r.status === 'rejected') throw r.reason
})

after(async () => {
  await starting
  // The browser first: a static server's close() waits for the connections Chromium holds.
  await browser?.close()
  for (const stop of stops.reverse()) await stop()
  await server?.stop()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
  console.log(`# package timings (ms): ${JSON.stringify(timings)}`)
})

test('the tarball holds the package files, LICENSE and README, nothing else', () => {
  const dir = join(app, 'node_modules', 'authwire')
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).replace(/snippets\/[^/]+\//, 'snippets/*/'))
    .sort()
  const want = ['LICENSE', 'README.md', 'authwire.d.ts', 'authwire.js', 'authwire_bg.wasm', 'inline-wasm.js', 'inline.js', 'package.json', 'realtime.js', 'snippets/*/js/errors.js', 'snippets/*/js/glue.js', 'url.js']
  assert.deepEqual(files, want)
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  assert.equal(manifest.name, 'authwire')
  assert.equal(manifest.type, 'module')
  assert.equal(manifest.license, 'MIT')
  assert.equal(manifest.sideEffects, false)
  assert.deepEqual(manifest.exports['.'], { types: './authwire.d.ts', webpack: './url.js', default: './inline.js' })
  assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} the authwire authors\n/)
})

/**
 * Loads `url` with the server's URL and publishable key and asserts that the page (and, with
 * `worker`, its module worker) reached SUBSCRIBED with no page error, and that the wasm came
 * as a `.wasm` request (`wasmFile`) or inside the JS (the exports map's routing).
 */
async function expectSubscribed(url, { worker = true, wasmFile = false } = {}) {
  const page = await browser.newPage()
  const wasm = []
  page.on('request', (r) => new URL(r.url()).pathname.endsWith('.wasm') && wasm.push(r.url()))
  try {
    const q = new URLSearchParams({ url: server.url, key: server.config.publishableKey })
    await page.goto(`${url}?${q}`)
    const done = (w) => document.body?.dataset.status && (!w || document.body.dataset.worker)
    await page.waitForFunction(done, worker, { timeout: 20_000 }).catch(() => {})
    const seen = await page.evaluate(() => ({ ...document.body?.dataset }))
    const want = worker ? { status: 'SUBSCRIBED', worker: 'SUBSCRIBED' } : { status: 'SUBSCRIBED' }
    assert.deepEqual(seen, want, `statuses at ${url} (no status: none within 20 s)\n${page.logs.join('\n')}`)
    assert.deepEqual(page.logs.filter((l) => /^\[(pageerror|error)\]/.test(l)), [], 'page errors')
    // Page and worker each instantiate the wasm: one request each, or none.
    assert.equal(wasm.length, wasmFile ? (worker ? 2 : 1) : 0, `.wasm requests: ${wasm.join(', ')}`)
  } finally {
    await page.close()
  }
}

/** Serves `dir` on its own port (built apps use absolute asset paths). */
async function serve(dir) {
  const s = await serveStatic([dir])
  stops.push(() => s.close())
  return s.url
}

async function viteDev(dir) {
  const { createServer } = await import('vite')
  const port = await freePort()
  const vite = await createServer({ root: dir, configFile: false, logLevel: 'error', server: { host: '127.0.0.1', port, strictPort: true } })
  stops.push(() => vite.close())
  await vite.listen()
  return vite.resolvedUrls.local[0]
}

test('Vite dev server (no config file): page and worker', async () => {
  const url = await timed('vite dev start', () => viteDev(app))
  await timed('vite dev load', () => expectSubscribed(`${url}index.html`))
})

test('vite build (no config file): page and worker', async () => {
  await timed('vite build', () => sh(bin('vite'), ['build', '--outDir', 'out/vite', '--logLevel', 'warn'], app))
  await expectSubscribed(`${await serve(join(app, 'out/vite'))}/index.html`)
})

test('webpack 5 (webpack-cli, no config file): page and worker, .wasm as an asset', async () => {
  await timed('webpack', () => sh(bin('webpack'), ['--mode', 'production', './main.js', './worker-host.js', '--output-path', 'out/webpack'], app))
  // webpack's output is a classic script; `publicPath: 'auto'` finds its URL from the tag.
  writeFileSync(join(app, 'out/webpack/index.html'), html('authwire with webpack', '<script src="./main.js"></script>'))
  await expectSubscribed(`${await serve(join(app, 'out/webpack'))}/index.html`, { wasmFile: true })
})

test('esbuild --bundle (no loaders): page and worker', async () => {
  // esbuild leaves `new URL('./worker.js', import.meta.url)` alone: the worker is an entry too.
  await timed('esbuild', () =>
    sh(bin('esbuild'), ['main.js', 'worker-host.js', 'worker.js', '--bundle', '--format=esm', '--outdir=out/esbuild', '--log-level=warning'], app),
  )
  cpSync(join(app, 'index.html'), join(app, 'out/esbuild/index.html'))
  await expectSubscribed(`${await serve(join(app, 'out/esbuild'))}/index.html`)
})

// No bundler: the page's import map names the package file behind 'authwire'. (Import maps do
// not reach workers, so a worker of a bundler-free page would import the file by its path.)
for (const [entry, wasmFile] of [['url.js', true], ['inline.js', false]]) {
  test(`plain <script type="module">, import map to authwire/${entry}`, async () => {
    const page = `plain-${entry.replace('.js', '')}.html`
    const map = JSON.stringify({ imports: { authwire: `./node_modules/authwire/${entry}` } })
    writeFileSync(join(app, page), html(`authwire, plain ESM (${entry})`, `<script type="importmap">${map}</script>\n<script type="module" src="./main.js"></script>`))
    await expectSubscribed(`${await serve(app)}/${page}`, { worker: false, wasmFile })
  })
}

// `authwire/url`, the opt-in for bundlers that emit `new URL(…, import.meta.url)` assets: a copy
// of the app whose only change is that import line.
test("Vite dev and vite build with 'authwire/url': a separate .wasm", async () => {
  const dir = join(app, 'url-app')
  mkdirSync(dir)
  for (const f of ['index.html', 'main.js', 'worker-host.js', 'worker.js']) cpSync(join(app, f), join(dir, f))
  const line = "import init, { createClient } from 'authwire'"
  const src = readFileSync(join(app, 'subscribe.js'), 'utf8')
  assert.ok(src.includes(line))
  writeFileSync(join(dir, 'subscribe.js'), src.replace(line, "import init, { createClient } from 'authwire/url'"))
  await expectSubscribed(`${await viteDev(dir)}index.html`, { wasmFile: true })
  await timed('vite build (url)', () => sh(bin('vite'), ['build', '--outDir', 'out', '--logLevel', 'warn'], dir))
  await expectSubscribed(`${await serve(join(dir, 'out'))}/index.html`, { wasmFile: true })
})

// An app's TypeScript (strict, skipLibCheck off, lib ES2022 + DOM only) finds the declarations
// through the exports map, with bundler and with Node's ESM resolution.
test('TypeScript resolves the types of authwire and authwire/url', async () => {
  for (const [module, moduleResolution] of [['ESNext', 'bundler'], ['NodeNext', 'NodeNext']]) {
    const compilerOptions = { target: 'ES2022', module, moduleResolution, lib: ['ES2022', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, skipLibCheck: false, types: [] }
    const config = join(app, `tsconfig.${moduleResolution}.json`)
    writeFileSync(config, JSON.stringify({ compilerOptions, files: ['check.ts'] }))
    await timed(`tsc ${moduleResolution}`, () => sh(bin('tsc'), ['-p', config], app))
  }
})
