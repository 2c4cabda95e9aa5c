// supabase-js app code: Realtime channels, postgres_changes with the Database types, presence
// and broadcast. The same file compiles against authwire and supabase-js.
import {
  REALTIME_LISTEN_TYPES,
  REALTIME_POSTGRES_CHANGES_LISTEN_EVENT,
  REALTIME_PRESENCE_LISTEN_EVENTS,
  REALTIME_SUBSCRIBE_STATES,
  postgresChangesFilter,
  type RealtimeChannel,
  type RealtimeChannelOptions,
  type RealtimeChannelSendResponse,
  type RealtimePostgresChangesFilter,
  type RealtimePostgresChangesPayload,
  type RealtimePostgresDeletePayload,
  type RealtimePostgresInsertPayload,
  type RealtimePostgresUpdatePayload,
  type RealtimePresenceJoinPayload,
  type RealtimePresenceLeavePayload,
  type RealtimePresenceState,
} from 'authwire'
import { supabase } from './client'
import type { Tables } from './database'

type Song = Tables<'songs'>
type Message = Tables<'messages'>

// 27. Subscribe with the status callback, comparing with string literals.
export function join(room: string, onReady: () => void): RealtimeChannel {
  return supabase.channel(room).subscribe((status, err) => {
    if (status === 'SUBSCRIBED') onReady()
    else if (status === 'CHANNEL_ERROR') console.error(err?.message)
    else if (status === 'TIMED_OUT' || status === 'CLOSED') console.warn(status)
  })
}

// 28. The same with realtime-js's constants, and the status type annotated.
export function joinWithConstants(room: string): RealtimeChannel {
  const onStatus = (status: REALTIME_SUBSCRIBE_STATES, err?: Error) => {
    if (status === REALTIME_SUBSCRIBE_STATES.SUBSCRIBED) console.log('joined', room)
    if (err) console.error(err.message)
  }
  return supabase.channel(room).subscribe(onStatus, 5_000)
}

// 29. postgres_changes for every event: the payload discriminated by `eventType`.
export function songsFeed(bandId: string, apply: (songs: Map<number, Song>) => void): RealtimeChannel {
  const songs = new Map<number, Song>()
  return supabase
    .channel(`songs:${bandId}`)
    .on<Song>('postgres_changes', { event: '*', schema: 'public', table: 'songs', filter: `band_id=eq.${bandId}` }, (payload) => {
      switch (payload.eventType) {
        case 'INSERT':
        case 'UPDATE':
          songs.set(payload.new.id, payload.new)
          break
        case 'DELETE':
          if (payload.old.id !== undefined) songs.delete(payload.old.id)
          break
      }
      const table: string = payload.table
      const at: string = payload.commit_timestamp
      void table
      void at
      apply(songs)
    })
    .subscribe()
}

// 30. One listener per event, each with its narrowed payload type.
export function messagesFeed(room: string): RealtimeChannel {
  return supabase
    .channel(`messages:${room}`)
    .on<Message>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages' }, (payload) => {
      const body: string = payload.new.body
      const inserted: 'INSERT' = payload.eventType
      void body
      void inserted
    })
    .on<Message>('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'messages' }, (payload) => {
      const status: 'sent' | 'edited' | 'deleted' = payload.new.status
      const before: string | undefined = payload.old.body
      void status
      void before
    })
    .on<Message>('postgres_changes', { event: 'DELETE', schema: 'public', table: 'messages' }, (payload) => {
      const id: string | undefined = payload.old.id
      void id
    })
    .subscribe()
}

// 31. Handlers declared apart with the exported payload types.
function onInsert(p: RealtimePostgresInsertPayload<Song>): void {
  console.log(p.new.title, p.new.bpm ?? 'free time')
}
function onUpdate(p: RealtimePostgresUpdatePayload<Song>): void {
  console.log(p.old.title, '->', p.new.title)
}
function onDelete(p: RealtimePostgresDeletePayload<Song>): void {
  console.log('deleted', p.old.id)
}
function onAny(p: RealtimePostgresChangesPayload<Song>): void {
  if (p.eventType === 'INSERT') onInsert(p)
  else if (p.eventType === 'UPDATE') onUpdate(p)
  else onDelete(p)
}
supabase
  .channel('songs-handlers')
  .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, onInsert)
  .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'songs' }, onUpdate)
  .on('postgres_changes', { event: 'DELETE', schema: 'public', table: 'songs' }, onDelete)
  .on('postgres_changes', { event: '*', schema: 'public' }, onAny)
  .subscribe()

// 32. Untyped rows: `new` is `{ [key: string]: any }`, so its members are `any`.
supabase
  .channel('any-table')
  .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'bands' }, (payload) => {
    const name: string = payload.new.name
    console.log(name.toUpperCase())
  })
  .subscribe()

// 33. A filter from the builder, the constants for type and event, and a filter variable.
const filter: RealtimePostgresChangesFilter<'UPDATE'> = {
  event: 'UPDATE',
  schema: 'public',
  table: 'songs',
  filter: postgresChangesFilter().in('id', [1, 2, 3]).gt('bpm', 90),
}
supabase
  .channel('filtered')
  .on<Song>(REALTIME_LISTEN_TYPES.POSTGRES_CHANGES, filter, (p) => console.log(p.new.tags.join(',')))
  .on<Song>('postgres_changes', { event: REALTIME_POSTGRES_CHANGES_LISTEN_EVENT.DELETE, schema: 'public', table: 'songs', filter: 'id=eq.7' }, (p) =>
    console.log(p.old),
  )
  .subscribe()

// 34. Presence: typed state, join/leave payloads, track and untrack.
type Member = { user_id: string; name: string; online_at: string }
export function lobby(me: Member): RealtimeChannel {
  const options: RealtimeChannelOptions = { config: { presence: { key: me.user_id } } }
  const channel = supabase.channel('lobby', options)
  channel
    .on('presence', { event: 'sync' }, () => {
      const state: RealtimePresenceState<Member> = channel.presenceState<Member>()
      const names = Object.values(state).flatMap((metas) => metas.map((m) => `${m.name}#${m.presence_ref}`))
      console.log(names)
    })
    .on<Member>('presence', { event: 'join' }, ({ key, newPresences }) => {
      console.log(key, newPresences.map((p) => p.name))
    })
    .on<Member>('presence', { event: 'leave' }, (payload: RealtimePresenceLeavePayload<Member>) => {
      console.log(payload.leftPresences.map((p) => p.online_at))
    })
    .subscribe(async (status) => {
      if (status !== 'SUBSCRIBED') return
      const r: RealtimeChannelSendResponse = await channel.track(me)
      if (r !== 'ok') console.warn(r)
    })
  return channel
}
export async function leaveLobby(channel: RealtimeChannel): Promise<void> {
  await channel.untrack()
}
function onJoin(p: RealtimePresenceJoinPayload<Member>): void {
  console.log(p.currentPresences.length, p.newPresences[0]?.user_id)
}
supabase.channel('lobby-2').on('presence', { event: REALTIME_PRESENCE_LISTEN_EVENTS.JOIN }, onJoin)

// 35. Broadcast: typed payload, self/ack config, send and its response.
type Cursor = { x: number; y: number; user: string }
export function cursors(draw: (c: Cursor) => void): RealtimeChannel {
  const channel = supabase.channel('cursors', { config: { broadcast: { self: false, ack: true } } })
  channel
    .on<Cursor>('broadcast', { event: 'move' }, ({ payload, event }) => {
      draw(payload)
      void event
    })
    .subscribe()
  return channel
}
export async function move(channel: RealtimeChannel, c: Cursor): Promise<boolean> {
  const r = await channel.send({ type: 'broadcast', event: 'move', payload: c })
  return r === 'ok'
}

// 36. Untyped broadcast: the message's members are `any`.
supabase
  .channel('chat')
  .on('broadcast', { event: '*' }, (message) => {
    const text: string = message.payload.text
    const replayed: boolean | undefined = message.meta?.replayed
    console.log(message.event, text, replayed)
  })
  .subscribe()

// 37. Broadcast over HTTP without subscribing (realtime-js's httpSend).
export async function announce(text: string): Promise<boolean> {
  const r = await supabase.channel('announcements').httpSend('announce', { text })
  return r.success
}

// 38. Private channels, replay, and the system listener.
supabase
  .channel('band:42', { config: { private: true, broadcast: { replay: { since: Date.now() - 60_000, limit: 25 } } } })
  .on('system', {}, (payload) => console.log(payload.extension, payload.status, payload.message))
  .subscribe()

// 39. Channel registry: list, remove one, remove all.
export async function cleanup(channel: RealtimeChannel): Promise<void> {
  const topics: string[] = supabase.getChannels().map((c) => c.topic)
  console.log(topics)
  const one: 'ok' | 'timed out' | 'error' | string = await supabase.removeChannel(channel)
  const all = await supabase.removeAllChannels()
  console.log(one, all.length, all.every((r) => r === 'ok'))
}

// 40. unsubscribe, the channel state, setAuth and the socket.
export async function socket(channel: RealtimeChannel, token: string): Promise<void> {
  if (channel.state === 'joined') await channel.unsubscribe()
  await supabase.realtime.setAuth(token)
  if (!supabase.realtime.isConnected()) supabase.realtime.connect()
  const state: string = supabase.realtime.connectionState()
  console.log(state)
  await supabase.realtime.disconnect()
}

// 41. A React-style effect: subscribe, and clean up with removeChannel.
export function useSongs(bandId: string, set: (s: Song[]) => void): () => void {
  let rows: Song[] = []
  const channel = supabase
    .channel(`band-songs-${bandId}`)
    .on<Song>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs', filter: `band_id=eq.${bandId}` }, ({ new: song }) => {
      rows = [...rows, song]
      set(rows)
    })
    .subscribe()
  return () => {
    void supabase.removeChannel(channel)
  }
}

// 42. Channel constants for the listener type, and an untyped postgres row cast to the app's type.
supabase
  .channel('constants')
  .on(REALTIME_LISTEN_TYPES.BROADCAST, { event: 'cursor-pos' }, (payload) => console.log(payload.payload))
  .on(REALTIME_LISTEN_TYPES.POSTGRES_CHANGES, { event: REALTIME_POSTGRES_CHANGES_LISTEN_EVENT.ALL, schema: 'public', table: 'messages' }, (payload) => {
    const row = payload.new as Message
    console.log(row.body)
  })
  .subscribe()
