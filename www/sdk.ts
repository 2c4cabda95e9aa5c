// The one place the demo touches an SDK: authwire (the default) or, with `?sdk=supabase-js`,
// the official client, so the same page shows the difference. authwire mirrors supabase-js,
// so the rest of the app uses one shape (authwire's types) for both.
import init, {
  createClient,
  type AuthApi,
  type AuthwireClient,
  type AuthwireDiagnosis,
  type RealtimeChannel,
  type RealtimeChannelOptions,
} from '../pkg-web/authwire.js'
import wasmUrl from '../pkg-web/authwire_bg.wasm'
import { PostgrestClient } from '@supabase/postgrest-js'

export type SdkName = 'authwire' | 'supabase-js'
export type ApikeyMode = 'project' | 'session'
/** PostgREST queries (`rest.from('songs').select()`), sharing the SDK's session. */
export type Rest = Pick<PostgrestClient, 'from'>

/** What the app needs from an SDK. */
export interface Backend {
  sdk: SdkName
  /** The SDK's own client object (`window.demo.client` in the console). */
  client: unknown
  auth: AuthApi
  rest: Rest
  channel(name: string, opts?: RealtimeChannelOptions): RealtimeChannel
  removeChannel(ch: RealtimeChannel): Promise<unknown>
  connectionState(): string
  onHeartbeat(cb: (status: string, latencyMs?: number) => void): void
  /** authwire's `diagnose()`; `null` for supabase-js, which has nothing like it. */
  diagnose(): AuthwireDiagnosis | null
  /** authwire's `effectiveRole()`; `null` for supabase-js. */
  effectiveRole(ch: RealtimeChannel): string | null
}

export interface Settings {
  url: string
  key: string
  sdk: SdkName
  apikey: ApikeyMode
  log: (kind: string, msg: string) => void
}

export async function connect(s: Settings): Promise<Backend> {
  return s.sdk === 'supabase-js' ? supabaseJs(s) : authwire(s)
}

async function authwire(s: Settings): Promise<Backend> {
  await init({ module_or_path: wasmUrl })
  const client: AuthwireClient = createClient(s.url, s.key, {
    realtime: { apikey: s.apikey, logger: (kind, msg) => s.log(kind, msg) },
  })
  // `client.fetch` is a wasm-bindgen method: called unbound (as PostgrestClient calls its
  // `fetch` option) it has no `this`, so it is wrapped until the SDK binds it itself.
  const rest = new PostgrestClient(`${s.url}/rest/v1`, { fetch: (input, init) => client.fetch(input, init) })
  return {
    sdk: 'authwire',
    client,
    auth: client.auth,
    rest,
    channel: (name, opts) => client.channel(name, opts),
    removeChannel: (ch) => client.removeChannel(ch),
    connectionState: () => client.realtime.connectionState(),
    onHeartbeat: (cb) => client.realtime.onHeartbeat(cb),
    diagnose: () => client.diagnose(),
    effectiveRole: (ch) => ch.effectiveRole() ?? null,
  }
}

async function supabaseJs(s: Settings): Promise<Backend> {
  // A separate chunk when the bundler splits; either way only this mode runs it.
  const { createClient: createSupabase } = await import('./supabase.js')
  const sb = createSupabase(s.url, s.key, {
    realtime: { logger: (kind: string, msg: string) => s.log(kind, msg) },
  })
  // The payload shapes are the same by design (api.md); only the TypeScript names differ.
  return {
    sdk: 'supabase-js',
    client: sb,
    auth: sb.auth as unknown as AuthApi,
    rest: sb as unknown as Rest,
    channel: (name, opts) => sb.channel(name, opts) as unknown as RealtimeChannel,
    removeChannel: (ch) => sb.removeChannel(ch),
    connectionState: () => sb.realtime.connectionState(),
    onHeartbeat: (cb) => sb.realtime.onHeartbeat(cb),
    diagnose: () => null,
    effectiveRole: () => null,
  }
}
