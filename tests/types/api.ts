// Type tests: the generated .d.ts must describe the API precisely. Each `@ts-expect-error`
// line must fail to type-check, or `tsc` reports the directive as unused.
import { createClient, type RealtimeChannel, type SubscribeStatus } from '../../pkg/authwire.js'

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
    const code: string = err.code
    void code
  }
  // @ts-expect-error: not a status
  if (status === 'JOINED') return
})

async function sends(): Promise<void> {
  const r: 'ok' | 'timed out' | 'error' = await ch.send({ type: 'broadcast', event: 'e', payload: { x: 1 } })
  void r
  // @ts-expect-error: only broadcast messages
  await ch.send({ type: 'presence', event: 'e' })
  const state: RealtimeChannel['state'] = ch.state
  void state
  const all: RealtimeChannel[] = client.getChannels()
  void all
  const conn: 'connecting' | 'open' | 'closing' | 'closed' = client.realtime.connectionState()
  void conn
}
void sends
