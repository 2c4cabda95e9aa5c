#!/usr/bin/env node
// Assembles `pkg/`, the one npm package `authwire`, from wasm-pack's `--target web` output in
// `pkg-web/` (run by scripts/build.sh after wasm-pack). Two entries share one glue:
//   inline.js  the default: the wasm rides inside the JS (gzip, then base64), so Vite, esbuild,
//              Rollup, Turbopack, workers and plain pages load it with no loader or plugin;
//   url.js     `webpack` (and plain pages, by import map): fetches `authwire_bg.wasm` beside
//              it through `new URL(…, import.meta.url)`, which webpack 5 emits as an asset.
// Why two, with the measured bytes: README "The npm package".
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
// `node scripts/package.mjs [OUT [FROM]]`: the bench's named-wasm build packages elsewhere.
const out = join(root, process.argv[2] ?? 'pkg')
const from = join(root, process.argv[3] ?? 'pkg-web')
const fail = (msg) => {
  console.error(`package: ${msg}`)
  process.exit(1)
}
if (!existsSync(join(from, 'authwire_bg.wasm'))) fail('pkg-web/ is missing: run wasm-pack build --release --target web --out-dir pkg-web')

// wasm-pack derives name, version, description, license and repository from Cargo.toml.
const cargo = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'))
if (cargo.name !== 'authwire') fail(`pkg-web/package.json names ${cargo.name}, expected authwire`)

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
cpSync(join(from, 'snippets'), join(out, 'snippets'), { recursive: true })
cpSync(join(from, 'authwire_bg.wasm'), join(out, 'authwire_bg.wasm'))
// The declarations use `Symbol.dispose`: the reference makes them compile in an app whose
// `lib` lacks esnext.disposable (ES2022 + DOM, with skipLibCheck off).
const dts = readFileSync(join(from, 'authwire.d.ts'), 'utf8')
writeFileSync(join(out, 'authwire.d.ts'), `/// <reference lib="esnext.disposable" />\n${dts}`)
for (const f of ['LICENSE', 'README.md']) cpSync(join(root, f), join(out, f))

// The glue's own default (`new URL('authwire_bg.wasm', import.meta.url)` when init() gets no
// argument) goes: each entry supplies the bytes, and a bundler that sees the expression in the
// inline build would emit the .wasm a second time (Vite does).
const DEFAULT_URL = "module_or_path = new URL('authwire_bg.wasm', import.meta.url);"
let glue = readFileSync(join(from, 'authwire.js'), 'utf8')
if (glue.split(DEFAULT_URL).length !== 2) fail(`the glue's default wasm URL changed (wasm-bindgen upgrade?): expected one \`${DEFAULT_URL}\``)
glue = glue.replace(DEFAULT_URL, "throw new Error('authwire: call init() of the package entry');")
if (glue.includes('import.meta')) fail('the glue still reads import.meta')
writeFileSync(join(out, 'authwire.js'), glue)

// The error classes live in the errors snippet (Rust cannot export a JS class): both entries
// re-export them, so `import { AuthApiError } from 'authwire'` works as with supabase-js. Every
// exported class but the internal Host is public.
const snippetDirs = readdirSync(join(from, 'snippets')).filter((d) => existsSync(join(from, 'snippets', d, 'js', 'errors.js')))
if (snippetDirs.length !== 1) fail(`expected one snippet directory with js/errors.js, found ${snippetDirs.length}`)
const errorsPath = `./snippets/${snippetDirs[0]}/js/errors.js`
const errorsSrc = readFileSync(join(from, 'snippets', snippetDirs[0], 'js', 'errors.js'), 'utf8')
const classes = [...errorsSrc.matchAll(/^export class (\w+)/gm)].map((m) => m[1])
if (!classes.includes('AuthApiError')) fail('js/errors.js exports no AuthApiError class')
// …and so do the auth-js guards (\`isAuthApiError\`, …; \`isAuthError\` comes from the wasm).
const guards = [...errorsSrc.matchAll(/^export const (isAuth\w+Error) =/gm)].map((m) => m[1])
if (!guards.includes('isAuthApiError')) fail('js/errors.js exports no isAuthApiError guard')
// realtime-js's constants and filter builder are plain JS beside the glue (js/realtime.js).
cpSync(join(root, 'js', 'realtime.js'), join(out, 'realtime.js'))
const errorExports = `export { ${[...classes, ...guards].join(', ')} } from '${errorsPath}'\nexport * from './realtime.js'`

const wasm = readFileSync(join(from, 'authwire_bg.wasm'))
writeFileSync(
  join(out, 'inline-wasm.js'),
  `// authwire_bg.wasm, gzip -9 then base64: inline.js inflates it with DecompressionStream.\nexport default '${gzipSync(wasm, { level: 9 }).toString('base64')}'\n`,
)

writeFileSync(
  join(out, 'inline.js'),
  `// The default entry: the wasm is inlined (gzip + base64, see inline-wasm.js), so every bundler
// and a plain page load it without a .wasm loader, asset rule or plugin.
import initGlue from './authwire.js'
import wasmGzipBase64 from './inline-wasm.js'
export * from './authwire.js'
${errorExports}

let ready

/**
 * Instantiates the wasm; call (and await) it once before \`createClient\`. Idempotent: later calls
 * return the first call's promise. \`{ module_or_path }\` loads other bytes instead.
 */
export default function init(options) {
  if (options !== undefined) return initGlue(options)
  if (ready === undefined) {
    ready = initGlue({ module_or_path: inflate(wasmGzipBase64) })
    ready.catch(() => {
      ready = undefined
    })
  }
  return ready
}

async function inflate(base64) {
  const bin = atob(base64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))
  return new Response(stream).arrayBuffer()
}
`,
)

writeFileSync(
  join(out, 'url.js'),
  `// The \`webpack\` entry (and the one for a plain page's import map): fetches authwire_bg.wasm
// beside this file. webpack 5 turns \`new URL(…, import.meta.url)\` into an emitted asset.
import initGlue from './authwire.js'
export * from './authwire.js'
${errorExports}

/**
 * Instantiates the wasm; call (and await) it once before \`createClient\`. Idempotent: later calls
 * return the first call's promise. \`{ module_or_path }\` loads other bytes instead.
 */
export default function init(options) {
  return initGlue(options ?? { module_or_path: new URL('./authwire_bg.wasm', import.meta.url) })
}
`,
)

const types = './authwire.d.ts'
const manifest = {
  name: cargo.name,
  version: cargo.version,
  description: cargo.description,
  license: cargo.license,
  repository: cargo.repository,
  type: 'module',
  main: './inline.js',
  types,
  exports: {
    '.': { types, webpack: './url.js', default: './inline.js' },
    './url': { types, default: './url.js' },
    './authwire_bg.wasm': './authwire_bg.wasm',
    './package.json': './package.json',
  },
  sideEffects: false,
  files: ['authwire.js', 'authwire.d.ts', 'authwire_bg.wasm', 'inline.js', 'inline-wasm.js', 'url.js', 'realtime.js', 'snippets/', 'LICENSE', 'README.md'],
}
writeFileSync(join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
