// Benchmark page: the raw-WebSocket floor, authwire (release build) and supabase-js side by
// side, driven by scripts/bench.mjs through Playwright.
// `authwire-web` is pkg-web/ (or the bench's named build of it, `--named`): scripts/bench.mjs.
import init, * as authwire from 'authwire-web/authwire.js'
import wasmUrl from 'authwire-web/authwire_bg.wasm'
import * as supabase from '@supabase/supabase-js'
import { connectFloor } from './floor'

declare global {
  interface Window {
    authwire: typeof authwire
    supabase: typeof supabase
    connectFloor: typeof connectFloor
    benchReady: Promise<void>
    wasmMemory?: WebAssembly.Memory
  }
}

window.authwire = authwire
window.supabase = supabase
window.connectFloor = connectFloor
window.benchReady = init({ module_or_path: wasmUrl }).then((w) => {
  window.wasmMemory = (w as unknown as { memory: WebAssembly.Memory }).memory
})
