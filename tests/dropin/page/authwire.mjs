// The authwire page: the release package (web target, `scripts/build.sh`) with the import
// swapped; PostgREST is the real `@supabase/postgrest-js` on `client.fetch`, as api.md documents.
import init, * as sdk from '../../../pkg-web/authwire.js'
import wasmUrl from '../../../pkg-web/authwire_bg.wasm'
import { PostgrestClient } from '@supabase/postgrest-js'
import { install } from './harness.mjs'

await init({ module_or_path: wasmUrl })
install({ sdk, rest: (client, url) => new PostgrestClient(`${url}/rest/v1`, { fetch: client.fetch }) })
