// The band's four lists. Each is one RLS table read and written through PostgREST (sharing the
// SDK's session) and kept live by one private channel per table (`band:<id>:<table>`), whose
// INSERT/UPDATE/DELETE events patch the list; the first subscribe fetches, and authwire's gap
// event (the channel was not joined for a while: changes made meanwhile will not arrive)
// refetches, so nothing missed while disconnected stays missing (with supabase-js, which says
// nothing, every re-subscribe refetches).
import type { PostgresChangesPayload, RealtimeChannel } from '../pkg-web/authwire.js'
import { h } from './dom.js'
import type { Backend } from './sdk.js'
import type { ChannelBook } from './status.js'

type Row = { id: number } & Record<string, unknown>

interface TableSpec {
  table: 'songs' | 'setlists' | 'shows' | 'practice_sessions'
  label: string
  /** The column the add and edit forms write. */
  main: string
  placeholder: string
  extra?: { name: string; label: string; type: 'number' | 'date' }
  detail?: (r: Row) => string
}

const day = (v: unknown) => (typeof v === 'string' ? new Date(v).toLocaleDateString([], { day: 'numeric', month: 'short' }) : '')

export const TABLES: TableSpec[] = [
  { table: 'songs', label: 'Songs', main: 'title', placeholder: 'Song title', extra: { name: 'bpm', label: 'BPM', type: 'number' }, detail: (r) => (r.bpm ? `${r.bpm} bpm` : '') },
  { table: 'setlists', label: 'Setlists', main: 'name', placeholder: 'Setlist name' },
  { table: 'shows', label: 'Shows', main: 'venue', placeholder: 'Venue', extra: { name: 'starts_at', label: 'Date', type: 'date' }, detail: (r) => day(r.starts_at) },
  { table: 'practice_sessions', label: 'Practice sessions', main: 'notes', placeholder: 'What did you work on?', detail: (r) => day(r.held_at) },
]

/** One table's card: its rows, the add form, inline edit and delete. */
export class TableList {
  readonly name: string
  private readonly rows = new Map<number, Row>()
  private readonly list = h('ul', { class: 'rows', attrs: { 'aria-live': 'polite' } })
  private readonly count = h('span', { class: 'count' })
  private readonly error = h('p', { class: 'error', attrs: { role: 'alert' } })
  /** The row being edited and its form, kept across live re-renders (typing is not lost). */
  private editing: { id: number; node: HTMLLIElement } | null = null
  private channel: RealtimeChannel | null = null
  readonly element: HTMLElement

  constructor(
    private readonly spec: TableSpec,
    private readonly backend: Backend,
    private readonly bandId: string,
    private readonly typing: (table: string) => void,
  ) {
    this.name = `band:${bandId}:${spec.table}`
    this.element = h('section', { class: 'card', data: { table: spec.table } }, h('h2', {}, spec.label, ' ', this.count), this.list, this.addForm(), this.error)
  }

  /** Subscribes the table's channel: fetched on the first SUBSCRIBED, refetched on a gap. */
  start(book: ChannelBook): void {
    const t = this.spec.table
    const gaps = this.backend.sdk === 'authwire'
    this.channel = this.backend
      .channel(this.name, { config: { private: true } })
      .on<Row>('postgres_changes', { event: '*', schema: 'public', table: t, filter: `band_id=eq.${this.bandId}` }, (p) => this.apply(p))
    if (gaps) this.channel.on('system', { event: 'gap' }, () => void this.refetch())
    let fetched = false
    book.subscribe(this.name, this.spec.label, this.channel, (s) => {
      if (s !== 'SUBSCRIBED' || (fetched && gaps)) return
      fetched = true
      void this.refetch()
    })
  }

  async stop(book: ChannelBook): Promise<void> {
    this.rows.clear()
    this.render()
    if (this.channel) await this.backend.removeChannel(this.channel)
    book.forget(this.name)
  }

  private async refetch(): Promise<void> {
    const { data, error } = await this.backend.rest.from(this.spec.table).select('*').eq('band_id', this.bandId).order('id')
    if (error) return this.fail(`Could not load ${this.spec.label.toLowerCase()}: ${error.message}`)
    this.rows.clear()
    for (const r of data as Row[]) this.rows.set(r.id, r)
    this.render()
  }

  private apply(p: PostgresChangesPayload<Row>): void {
    if (p.eventType === 'DELETE') {
      if (p.old.id !== undefined) this.rows.delete(p.old.id)
    } else if (p.new.id !== undefined) {
      this.rows.set(p.new.id, p.new as Row)
    }
    this.render(p.eventType === 'DELETE' ? undefined : p.new.id)
  }

  private render(flash?: number): void {
    this.count.textContent = String(this.rows.size)
    const items = [...this.rows.values()].sort((a, b) => a.id - b.id).map((r) => (r.id === this.editing?.id ? this.editing.node : this.viewRow(r, r.id === flash)))
    this.list.replaceChildren(...(items.length ? items : [h('li', { class: 'empty' }, 'nothing yet')]))
  }

  private viewRow(r: Row, flash: boolean): HTMLLIElement {
    const detail = this.spec.detail?.(r)
    const text = String(r[this.spec.main] ?? '')
    return h(
      'li',
      { data: { id: String(r.id) }, class: flash ? 'flash' : '' },
      h('span', { class: 'text' }, text),
      detail ? h('span', { class: 'detail' }, detail) : null,
      h('span', { class: 'actions' },
        h('button', { type: 'button', on: { click: () => this.beginEdit(r.id) }, attrs: { 'aria-label': `Edit ${text}` } }, 'Edit'),
        h('button', { type: 'button', on: { click: () => void this.remove(r.id) }, attrs: { 'aria-label': `Delete ${text}` } }, 'Delete'),
      ),
    )
  }

  private editRow(r: Row): HTMLLIElement {
    const input = h('input', { value: String(r[this.spec.main] ?? ''), required: true, attrs: { 'aria-label': `New ${this.spec.main}` } })
    input.addEventListener('input', () => this.typing(this.spec.table))
    const cancel = () => {
      this.editing = null
      this.render()
      this.list.querySelector<HTMLButtonElement>(`li[data-id="${r.id}"] button`)?.focus()
    }
    input.addEventListener('keydown', (e) => e.key === 'Escape' && cancel())
    const form = h('form', { class: 'edit', on: { submit: (e) => { e.preventDefault(); void this.save(r.id, input.value) } } },
      input,
      h('button', {}, 'Save'),
      h('button', { type: 'button', on: { click: cancel } }, 'Cancel'),
    )
    queueMicrotask(() => input.focus())
    return h('li', { data: { id: String(r.id) } }, form)
  }

  private addForm(): HTMLFormElement {
    const main = h('input', { name: this.spec.main, placeholder: this.spec.placeholder, required: true, attrs: { 'aria-label': this.spec.placeholder } })
    const extra = this.spec.extra && h('input', { name: this.spec.extra.name, type: this.spec.extra.type, attrs: { 'aria-label': this.spec.extra.label }, placeholder: this.spec.extra.label })
    main.addEventListener('input', () => this.typing(this.spec.table))
    const form = h('form', { class: 'add' }, main, extra ?? null, h('button', {}, 'Add'))
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const row: Record<string, unknown> = { band_id: this.bandId, [this.spec.main]: main.value }
      if (extra?.value) row[extra.name] = extra.type === 'number' ? Number(extra.value) : extra.value
      void this.backend.rest.from(this.spec.table).insert(row).select().then(({ data, error }) => {
        if (error) return this.fail(`Not saved: ${error.message}`)
        this.error.textContent = ''
        form.reset()
        this.applyOwn(data as Row[])
      })
    })
    return form
  }

  private beginEdit(id: number): void {
    const r = this.rows.get(id)
    if (!r) return
    this.editing = { id, node: this.editRow(r) }
    this.render()
  }

  private async save(id: number, value: string): Promise<void> {
    const { data, error } = await this.backend.rest.from(this.spec.table).update({ [this.spec.main]: value }).eq('id', id).select()
    if (error) return this.fail(`Not saved: ${error.message}`)
    this.editing = null
    this.error.textContent = ''
    this.applyOwn(data as Row[])
  }

  /** This tab's own write, shown at once rather than when its change event comes back. */
  private applyOwn(rows: Row[]): void {
    for (const r of rows) this.rows.set(r.id, r)
    this.render()
  }

  private async remove(id: number): Promise<void> {
    const { error } = await this.backend.rest.from(this.spec.table).delete().eq('id', id)
    if (error) return this.fail(`Not deleted: ${error.message}`)
    this.rows.delete(id)
    this.render()
  }

  private fail(message: string): void {
    this.error.textContent = message
  }
}
