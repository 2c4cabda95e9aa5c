// Test page: loads the release build (web target) and exposes it to Playwright as
// `window.authwire`, so end-to-end tests drive the real package in a real page.
import init, * as authwire from '../../../pkg-web/authwire.js'
import wasmUrl from '../../../pkg-web/authwire_bg.wasm'

declare global {
  interface Window {
    authwire: typeof authwire
    authwireReady: Promise<void>
    /** The module's linear memory, for the leak figures of tests/e2e/trust.test.mjs. */
    authwireMemory: WebAssembly.Memory
  }
}

window.authwire = authwire
window.authwireReady = init({ module_or_path: wasmUrl }).then((w) => {
  window.authwireMemory = w.memory
})
