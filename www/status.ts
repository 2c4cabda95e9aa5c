// The status panel: what a person would otherwise dig out of logs. The socket's state and the
// key it presents, each channel's status and the role the server accepted it with, the
// session's token (role and time to expiry; never the token), the last reason a server gave,
// and a live timeline of auth events, joins and token pushes.
import type { RealtimeChannel, RealtimeError, SubscribeStatus } from '../pkg-web/authwire.js'
import { h, byId, clock } from './dom.js'
import { channelErrorWords } from './words.js'
import type { Backend } from './sdk.js'
import type { WireEvent } from './wiretap.js'

/** One channel as the app last saw it. */
export interface ChannelEntry {
  label: string
  channel: RealtimeChannel
  status: SubscribeStatus | 'joining'
  code?: string
  reason?: string
  since: number
}

/** The app's channels by topic, and the status callback that records each change. */
export class ChannelBook {
  readonly entries = new Map<string, ChannelEntry>()
  constructor(
    private readonly timeline: Timeline,
    private readonly changed: () => void,
  ) {}

  /** Subscribes `channel`, recording every status; `onStatus` runs after the record. */
  subscribe(name: string, label: string, channel: RealtimeChannel, onStatus?: (s: SubscribeStatus) => void): void {
    const entry: ChannelEntry = { label, channel, status: 'joining', since: Date.now() }
    this.entries.set(name, entry)
    this.changed()
    channel.subscribe((status: SubscribeStatus, err?: RealtimeError) => {
      Object.assign(entry, { status, code: err?.code, reason: err?.message, since: Date.now() })
      const detail = err ? ` · ${err.code ?? ''} ${channelErrorWords(err.code, err.message)}` : ''
      this.timeline.add(status === 'SUBSCRIBED' ? 'ok' : status === 'CLOSED' ? 'info' : 'warn', `${shortTopic(name)}: ${status}${detail}`)
      this.changed()
      onStatus?.(status)
    })
  }

  /** Forgets `name` (the channel was removed). */
  forget(name: string): void {
    this.entries.delete(name)
    this.changed()
  }
}

type Tone = 'ok' | 'info' | 'warn' | 'auth' | 'wire'

/** The newest-first timeline (bounded). */
export class Timeline {
  private readonly list = byId<HTMLOListElement>('timeline')
  add(tone: Tone, text: string): void {
    this.list.prepend(h('li', { data: { tone } }, h('time', {}, clock()), ' ', text))
    while (this.list.childElementCount > 200) this.list.lastElementChild?.remove()
  }
}

/** A topic with its band id shortened: `band:ba4d…0001:songs`. */
export function shortTopic(topic: string): string {
  return topic.replace(/^realtime:/, '').replace(/([0-9a-f]{4})[0-9a-f]{4}-[0-9a-f-]{23}([0-9a-f]{4})/, '$1…$2')
}

/** The timeline's line for what the page sent or saw on its socket. */
export function wireLine(e: WireEvent): string {
  const exp = (t: { exp?: number } | null) => (t?.exp ? `, expires ${clock(t.exp * 1000)}` : '')
  switch (e.kind) {
    case 'connect':
      return `socket connects with ${e.key}`
    case 'close':
      return `socket closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`
    case 'join':
      return `→ join ${shortTopic(e.topic)} as ${e.token?.role ?? 'the project key (no user token)'}${exp(e.token)}`
    case 'access_token':
      return `→ token push to ${shortTopic(e.topic)} (${e.token?.role ?? '?'}${exp(e.token)})`
    case 'leave':
      return `→ leave ${shortTopic(e.topic)}`
  }
}

const pill = (status: string, text = status) => h('span', { class: 'pill', data: { status } }, text)
const row = (label: string, ...value: (Node | string)[]) => h('div', { class: 'kv' }, h('dt', {}, label), h('dd', {}, ...value))

/** Renders the panel's live parts from the SDK's state and the channel book (call at 1 Hz and on changes). */
export function renderStatus(backend: Backend, book: ChannelBook, seen: { lastReason: string | null; heartbeat: string | null }): void {
  const d = backend.diagnose()
  const conn = backend.connectionState()
  const socket = byId('st-socket')
  socket.replaceChildren(
    row('Socket', pill(conn), seen.heartbeat && conn === 'open' ? ` heartbeat ${seen.heartbeat}` : ''),
    row('Presents', d ? d.realtime.socketKey : 'unknown (supabase-js has no diagnose())'),
    ...(d ? [row('apikey mode', d.realtime.apikeyMode, d.realtime.projectKeyIsJwt ? ' (project key is a JWT)' : ' (project key is not a JWT)')] : []),
  )

  const s = d?.auth.session
  byId('st-session').replaceChildren(
    ...(d === null
      ? [row('Token', 'unknown (supabase-js has no diagnose())')]
      : s
        ? [
            row('Role', s.role ?? '?', s.isAnonymous ? ' (anonymous guest)' : ''),
            row('Expires in', h('span', { class: s.expiresInSeconds < 30 ? 'soon' : '' }, `${Math.max(0, Math.round(s.expiresInSeconds))} s`), ` (at ${clock(s.expiresAt * 1000)})`),
            row('Token', h('code', {}, s.accessToken)),
            ...(d.auth.refreshing ? [row('Refresh', 'in flight')] : []),
          ]
        : [row('Token', 'none: signed out')]),
    ...(d?.auth.lastRefreshError ? [row('Last refresh error', `${d.auth.lastRefreshError.code}: ${d.auth.lastRefreshError.message}`)] : []),
  )

  const chans = [...book.entries.entries()].map(([name, e]) => {
    const role = backend.effectiveRole(e.channel)
    return h(
      'li',
      { data: { channel: name, status: e.status } },
      h('span', { class: 'name', title: name }, e.label),
      ' ',
      pill(e.status),
      ' ',
      h('span', { class: 'role', title: 'effectiveRole(): the role the server accepted' }, role ? `as ${role}` : backend.sdk === 'authwire' ? 'no role yet' : 'role unknown'),
      e.code ? h('div', { class: 'why' }, channelErrorWords(e.code, e.reason)) : null,
    )
  })
  byId('st-channels').replaceChildren(...(chans.length ? chans : [h('li', { class: 'empty' }, 'no channels (sign in as a band member)')]))

  // The socket's refusal (authwire asked GoTrue why), else the newest reason a channel was
  // given, else how the socket last closed, else why the session ended.
  const channelReason = [...book.entries.values()].filter((e) => e.reason).sort((a, b) => b.since - a.since)[0]
  const reason = d?.realtime.refusal
    ? `${d.realtime.refusal.code}: ${channelErrorWords(d.realtime.refusal.code, d.realtime.refusal.message)}`
    : channelReason
      ? `${channelReason.label}: "${channelReason.reason}" (${channelReason.code})`
      : d?.realtime.lastClose
        ? `socket closed ${d.realtime.lastClose.code}${d.realtime.lastClose.reason ? ` · ${d.realtime.lastClose.reason}` : ''}`
        : seen.lastReason
  byId('st-reason').replaceChildren(reason ?? 'none')
}
