// Type tests: the generated .d.ts must describe the API precisely. Each `@ts-expect-error`
// line must fail to type-check, or `tsc` reports the directive as unused.
import {
  createClient,
  isAuthError,
  type AuthChangeEvent,
  type AuthErrorCode,
  type RealtimeChannel,
  type RealtimeChannelSendResponse,
  type RealtimeConnectionState,
  type RealtimeErrorCode,
  type Session,
  type SubscribeStatus,
} from '../../pkg/authwire.js'

declare const url: string
declare const key: string

const client = createClient(url, key, { realtime: { vsn: '2.0.0', apikey: 'session', heartbeatIntervalMs: 25_000 } })
// @ts-expect-error: vsn is a literal union
createClient(url, key, { realtime: { vsn: '3.0.0' } })
// @ts-expect-error: apikey mode is 'project' | 'session'
createClient(url, key, { realtime: { apikey: 'user' } })

const ch: RealtimeChannel = client.channel('room', { config: { broadcast: { self: true, ack: true }, private: true } })
ch.on('broadcast', { event: 'cursor' }, (p) => {
  const ev: string = p.event
  void ev
})
ch.on('presence', { event: 'join' }, (p) => {
  const k: string = p.key
  const refs: string[] = p.newPresences.map((x) => x.presence_ref)
  void k
  void refs
})
ch.on('presence', { event: 'update' }, (p) => void p.oldPresences)
ch.on<{ id: number; title: string }>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => {
  const t: 'INSERT' | 'UPDATE' | 'DELETE' = p.eventType
  const id: number | undefined = p.new.id
  void t
  void id
})
// @ts-expect-error: unknown listener type
ch.on('nope', {}, () => {})
// @ts-expect-error: postgres event is a literal union
ch.on('postgres_changes', { event: 'TRUNCATE', schema: 'public' }, () => {})

ch.subscribe((status: SubscribeStatus, err) => {
  if (status === 'RECOVERING' && err) {
    const typed: RealtimeErrorCode = err.code
    void typed
    const code: string = err.code
    void code
  }
  // @ts-expect-error: not a status
  if (status === 'JOINED') return
})

async function sends(): Promise<void> {
  const r: 'ok' | 'timed out' | 'error' = await ch.send({ type: 'broadcast', event: 'e', payload: { x: 1 } })
  void r
  // @ts-expect-error: broadcast, presence or postgres_changes messages only
  await ch.send({ type: 'nope', event: 'e' })
  const state: RealtimeChannel['state'] = ch.state
  void state
  const all: RealtimeChannel[] = client.getChannels()
  void all
  const conn: 'connecting' | 'open' | 'closing' | 'closed' = client.realtime.connectionState()
  void conn
  // The named unions are the same literals (checked against the core by ts_contract.rs).
  const named: RealtimeConnectionState = conn
  const pushed: RealtimeChannelSendResponse = r
  void named
  void pushed
  // @ts-expect-error: not a connection state
  const notState: RealtimeConnectionState = 'joined'
  void notState
  const removed: RealtimeChannelSendResponse[] = await client.removeAllChannels()
  void removed
}
void sends

async function auth(): Promise<void> {
  const { data, error } = await client.auth.signInWithPassword({ email: 'a@b.c', password: 'pw' })
  if (error) {
    const typed: AuthErrorCode = error.code
    void typed
    const code: string = error.code
    const isAuth: boolean = isAuthError(error)
    void code
    void isAuth
  }
  const email: string | undefined = data.session?.user.email
  void email
  // @ts-expect-error: email or phone, not both
  await client.auth.signInWithPassword({ email: 'a', phone: 'b', password: 'pw' })
  // @ts-expect-error: a password is required
  await client.auth.signInWithPassword({ email: 'a' })
  const sub = client.auth.onAuthStateChange((event: AuthChangeEvent, session: Session | null) => {
    // @ts-expect-error: not an auth event
    if (event === 'SIGNED_UP') return
    void session
  })
  sub.data.subscription.unsubscribe()
  // @ts-expect-error: scope is a literal union
  await client.auth.signOut({ scope: 'everywhere' })
  const reason = client.auth.signOutReason()
  if (reason?.reason === 'refresh_failed') void reason.code
  const diag = client.diagnose()
  const ready: boolean = diag.auth.ready
  void ready
  const res: Response = await client.fetch('https://example.com/rest/v1/songs')
  void res
  const mfa = await client.auth.mfa.enroll({ factorType: 'totp' })
  const notSupported: string = mfa.error.code
  void notSupported
}
void auth
