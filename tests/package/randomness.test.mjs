// Issue 12, randomness: nothing in the built package can reach `Math.random`. Every secret
// (PKCE verifier, lock-holder id) is made of `crypto.getRandomValues` bytes the shell feeds
// the core (`Output::Entropy` / `Input::Entropy`; crates/core/src/rng.rs), and the jitter seed
// falls back to the clock, not to `Math.random`. The check reads every file of pkg/ (the JS
// entries, the glue snippet, the declarations, the wasm itself and the wasm inlined in
// inline-wasm.js, inflated) so a dependency or a wasm-bindgen upgrade that brings it back
// fails here.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gunzipSync } from 'node:zlib'

const pkg = resolve(import.meta.dirname, '..', '..', 'pkg')

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

// `Math.random`, `Math['random']`, and the name alone (a `Reflect.get(Math, 'random')` or a
// wasm import named `random`) all show the string `random` next to Math or as an import name.
const FORBIDDEN = [/Math\s*\.\s*random/, /Math\s*\[\s*['"`]random['"`]\s*\]/]

test('no file of the built package mentions Math.random', () => {
  const all = files(pkg)
  assert.ok(all.some((f) => f.endsWith('authwire_bg.wasm')), 'pkg/ is built')
  const checked = []
  for (const f of all) {
    const bytes = readFileSync(f)
    const texts = [bytes.toString('latin1')]
    if (f.endsWith('inline-wasm.js')) {
      const b64 = bytes.toString('utf8').match(/'([A-Za-z0-9+/=]{1000,})'/)?.[1]
      assert.ok(b64, 'inline-wasm.js holds the base64 wasm')
      texts.push(gunzipSync(Buffer.from(b64, 'base64')).toString('latin1'))
    }
    for (const t of texts) for (const re of FORBIDDEN) assert.doesNotMatch(t, re, f)
    checked.push(f.slice(pkg.length + 1))
  }
  // The glue snippet and both entries were among them (a layout change must not skip them).
  for (const want of [/^inline\.js$/, /^url\.js$/, /^authwire\.js$/, /js\/glue\.js$/, /^authwire_bg\.wasm$/]) {
    assert.ok(checked.some((f) => want.test(f)), `${want} checked; got ${checked.join(', ')}`)
  }
})

test('the glue draws secrets from crypto.getRandomValues and feeds them to the core', () => {
  const glue = files(pkg).find((f) => f.endsWith(join('js', 'glue.js')))
  const text = readFileSync(glue, 'utf8')
  // The import the wasm calls for `Output::Entropy` exists and uses the CSPRNG.
  const fn = text.match(/export function randomBytes\(len\) \{([^}]*)\}/)?.[1]
  assert.ok(fn, 'glue.js exports randomBytes')
  assert.match(fn, /getRandomValues\(new Uint8Array\(len\)\)/)
  const bindings = readFileSync(join(pkg, 'authwire.js'), 'utf8')
  assert.match(bindings, /randomBytes/, 'the wasm imports randomBytes')
})
