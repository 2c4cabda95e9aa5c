// supabase-js app code that compiles against supabase-js 2.119.1 but that authwire's types
// refuse, each because authwire's runtime differs (README "Switching from supabase-js"), plus
// authwire's additions. Every `@ts-expect-error` line must fail against authwire (tsc reports
// an unused directive otherwise); tests/tsconfig.supabase.json does not compile this file.
import {
  createClient,
  SupabaseClient,
  REALTIME_SUBSCRIBE_STATES,
  type RealtimeError,
  type RealtimeErrorCode,
  type SubscribeStatus,
  type Subscription,
} from 'authwire'
import type { Database, Tables } from './dropin/database'

declare const url: string
declare const key: string
const supabase = createClient<Database>(url, key)

// No PostgREST, Storage or Functions client: `client.fetch` is the authenticated fetch for them.
// @ts-expect-error: authwire has no `from()`
supabase.from('songs')
// @ts-expect-error: authwire has no `rpc()`
supabase.rpc('join_band', { band: 'b' })
// @ts-expect-error: authwire has no `storage`
void supabase.storage
// @ts-expect-error: authwire has no `functions`
void supabase.functions
// `SupabaseClient` is a type only: the client comes from `createClient`.
// @ts-expect-error: not a class
new SupabaseClient(url, key)

// Options whose supabase-js meaning authwire does not implement.
// @ts-expect-error: authwire always resolves `{ data, error }`
createClient(url, key, { auth: { throwOnError: true } })
// @ts-expect-error: only the two protocol versions authwire speaks
createClient(url, key, { realtime: { vsn: '3.0.0' } })

// Arguments authwire does not take (it would ignore them).
async function args(code: string): Promise<void> {
  // @ts-expect-error: updateUser takes no `emailRedirectTo` option
  await supabase.auth.updateUser({ email: 'new@b.c' }, { emailRedirectTo: 'https://app/x' })
  // @ts-expect-error: getClaims takes no options (it always checks expiry and fetches the JWKS itself)
  await supabase.auth.getClaims(undefined, { allowExpired: true })
  // @ts-expect-error: no OAuth flowId
  await supabase.auth.exchangeCodeForSession(code, { flowId: 'f' })
  // @ts-expect-error: no `persist` for HTTP broadcasts
  await supabase.channel('a').httpSend('e', { x: 1 }, { persist: true })
  // @ts-expect-error: email or phone, not both
  await supabase.auth.signInWithPassword({ email: 'a@b.c', phone: '+1555', password: 'pw' })
}
void args

// Results shaped as authwire's runtime gives them.
async function results(): Promise<void> {
  const { data, error } = await supabase.auth.signInWithPassword({ email: 'a@b.c', password: 'pw' })
  if (!error) {
    // @ts-expect-error: authwire passes GoTrue's `weak_password` through; auth-js renames it `weakPassword`
    void data.weakPassword
    void data.weak_password?.reasons
  }
  const { data: sub } = supabase.auth.onAuthStateChange(() => {})
  const id: number = sub.subscription.id
  // @ts-expect-error: a number, not auth-js's `string | symbol`
  const sym: symbol = sub.subscription.id
  void id
  void sym
  const s: Subscription = sub.subscription
  void s
}
void results

// `errors` of a Postgres change is what the server sent: usually `null`.
supabase.channel('b').on<Tables<'songs'>>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => {
  // @ts-expect-error: may be null
  void p.errors.length
  void p.errors?.length
})

// Channel and socket internals realtime-js exposes and authwire does not have.
const ch = supabase.channel('c')
// @ts-expect-error: no `teardown()`
ch.teardown()
// @ts-expect-error: no `params`
void ch.params
// @ts-expect-error: no `channels` on the socket (use `getChannels()`)
void supabase.realtime.channels

// authwire's `RECOVERING` status: an exhaustive switch over realtime-js's four states is
// incomplete, and `REALTIME_SUBSCRIBE_STATES` (as a type) includes it.
ch.subscribe((status: REALTIME_SUBSCRIBE_STATES, err?: RealtimeError) => {
  switch (status) {
    case 'SUBSCRIBED':
    case 'TIMED_OUT':
    case 'CLOSED':
    case 'CHANNEL_ERROR':
      break
    default: {
      const recovering: 'RECOVERING' = status
      void recovering
    }
  }
  if (err) {
    const code: RealtimeErrorCode = err.code
    void code
  }
  // @ts-expect-error: the constant has no RECOVERING key
  void REALTIME_SUBSCRIBE_STATES.RECOVERING
})
const all: SubscribeStatus[] = ['SUBSCRIBED', 'TIMED_OUT', 'CLOSED', 'CHANNEL_ERROR', 'RECOVERING']
void all

// authwire's additions: presence `update`, `signOutReason`, `diagnose`, `effectiveRole`.
ch.on<{ name: string }>('presence', { event: 'update' }, (p) => {
  const before: string | undefined = p.oldPresences[0]?.name
  const after: string | undefined = p.newPresences[0]?.name
  void before
  void after
})
const reason = supabase.auth.signOutReason()
if (reason?.reason === 'refresh_failed') console.log(reason.code)
const d = supabase.diagnose()
console.log(d.realtime.connectionState, d.auth.ready, ch.effectiveRole())

// Gap events (issue 14) and the refusal in diagnose() (issue 11).
ch.on('system', { event: 'gap' }, (g) => {
  const span: number = g.to - g.from
  const why: 'public_channel' | 'postgres_changes' | 'replay_limit' | 'replay_error' | 'not_replayed' | 'not_stored' = g.reason
  // @ts-expect-error a gap's reason is one of five
  const wrong: 'server_gone' = g.reason
  void span
  void why
  void wrong
})
const gap = d.realtime.channels[0]?.lastGap
if (gap) console.log(gap.from, gap.reason)
const refusal = d.realtime.refusal
if (refusal) console.log(refusal.code, refusal.authCode ?? 'from the realtime server')
