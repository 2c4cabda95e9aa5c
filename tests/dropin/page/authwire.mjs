// The authwire page: the npm package's `url` entry (pkg/, `scripts/build.sh`) with the import
// swapped; PostgREST is the real `@supabase/postgrest-js` on `client.fetch`, passed unbound as
// supabase-js apps pass their `fetch`.
import init, * as sdk from '../../../pkg/url.js'
import wasmUrl from '../../../pkg/authwire_bg.wasm'
import { PostgrestClient } from '@supabase/postgrest-js'
import { install } from './harness.mjs'

await init({ module_or_path: wasmUrl })
install({ sdk, rest: (client, url) => new PostgrestClient(`${url}/rest/v1`, { fetch: client.fetch }) })
