// The band view: the band's four live lists, and the band's room channel (`band:<id>`,
// private) carrying presence (who is online) and a typing indicator (broadcast).
import type { RealtimeChannel } from '../pkg-web/authwire.js'
import { h } from './dom.js'
import { TABLES, TableList } from './lists.js'
import type { Backend } from './sdk.js'
import type { ChannelBook } from './status.js'

export interface Band {
  id: string
  name: string
}
export interface Me {
  id: string
  name: string
}

/** How long a "typing" notice stays after the last keystroke it reported. */
const TYPING_SHOWN_MS = 3000
/** At most one typing broadcast per this many ms. */
const TYPING_EVERY_MS = 1000

export class BandView {
  readonly element: HTMLElement
  private readonly lists: TableList[]
  private readonly online = h('ul', { class: 'online', attrs: { 'aria-label': 'Online now' } })
  private readonly typingLine = h('p', { class: 'typing', attrs: { 'aria-live': 'polite' } })
  private readonly typists = new Map<string, { name: string; table: string; timer: number }>()
  private room: RealtimeChannel | null = null
  private lastTyping = 0
  private typingTable = ''
  private typingTimer: number | undefined

  constructor(
    private readonly backend: Backend,
    private readonly band: Band,
    private readonly me: Me,
    private readonly book: ChannelBook,
  ) {
    this.lists = TABLES.map((t) => new TableList(t, backend, band.id, (table) => this.typed(table)))
    this.element = h(
      'div',
      { class: 'band', data: { band: band.id } },
      h('div', { class: 'band-head' }, h('h2', {}, band.name), h('div', { class: 'presence' }, h('span', {}, 'Online: '), this.online), this.typingLine),
      h('div', { class: 'lists' }, ...this.lists.map((l) => l.element)),
    )
  }

  start(): void {
    const name = `band:${this.band.id}`
    this.room = this.backend
      .channel(name, { config: { private: true, presence: { key: this.me.id } } })
      .on('presence', { event: 'sync' }, () => this.renderOnline())
      .on('broadcast', { event: 'typing' }, (m) => this.showTyping(m.payload as { id: string; name: string; table: string }))
    const room = this.room
    this.book.subscribe(name, 'Band room', room, (s) => {
      if (s === 'SUBSCRIBED') void room.track({ name: this.me.name, online_at: new Date().toISOString() })
    })
    for (const l of this.lists) l.start(this.book)
  }

  async stop(): Promise<void> {
    for (const t of this.typists.values()) clearTimeout(t.timer)
    clearTimeout(this.typingTimer)
    const room = this.room
    this.room = null
    await Promise.all([...this.lists.map((l) => l.stop(this.book)), room && this.backend.removeChannel(room)])
    this.book.forget(`band:${this.band.id}`)
  }

  private renderOnline(): void {
    if (!this.room) return
    const people = Object.entries(this.room.presenceState()).map(([key, metas]) => ({ key, name: String(metas[0]?.name ?? key.slice(0, 8)) }))
    people.sort((a, b) => a.name.localeCompare(b.name))
    this.online.replaceChildren(...people.map((p) => h('li', { data: { user: p.key }, class: p.key === this.me.id ? 'me' : '' }, p.key === this.me.id ? `${p.name} (you)` : p.name)))
  }

  /** Called on each keystroke in a form: one broadcast per second at most, the last one always sent. */
  private typed(table: string): void {
    this.typingTable = table
    if (this.typingTimer !== undefined) return
    const wait = this.lastTyping + TYPING_EVERY_MS - Date.now()
    this.typingTimer = window.setTimeout(() => {
      this.typingTimer = undefined
      this.lastTyping = Date.now()
      void this.room?.send({ type: 'broadcast', event: 'typing', payload: { id: this.me.id, name: this.me.name, table: this.typingTable } })
    }, Math.max(0, wait))
  }

  private showTyping(p: { id: string; name: string; table: string }): void {
    if (typeof p?.id !== 'string') return
    const old = this.typists.get(p.id)
    if (old) clearTimeout(old.timer)
    const timer = window.setTimeout(() => {
      this.typists.delete(p.id)
      this.renderTyping()
    }, TYPING_SHOWN_MS)
    this.typists.set(p.id, { name: String(p.name), table: String(p.table).replace('_', ' '), timer })
    this.renderTyping()
  }

  private renderTyping(): void {
    this.typingLine.textContent = [...this.typists.values()].map((t) => `${t.name} is typing in ${t.table}…`).join(' ')
  }
}
