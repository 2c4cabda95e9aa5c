// Building DOM nodes without HTML strings: every piece of user data enters the page as a
// text node or an attribute value, so a song titled `<img onerror=…>` stays text.

type Child = Node | string | number | null | undefined | false
type Props = {
  class?: string
  data?: Record<string, string>
  attrs?: Record<string, string>
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void }
} & { [key: string]: unknown }

/** `h('li', { class: 'row', data: { id: '3' } }, 'text', child)`: an element with text children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue
    if (key === 'class') el.className = String(value)
    else if (key === 'data') Object.assign(el.dataset, value)
    else if (key === 'attrs') for (const [a, v] of Object.entries(value as Record<string, string>)) el.setAttribute(a, v)
    else if (key === 'on') for (const [ev, fn] of Object.entries(value as Record<string, EventListener>)) el.addEventListener(ev, fn)
    else if (key === 'innerHTML' || key === 'outerHTML') throw new Error('h(): no HTML strings')
    else (el as unknown as Record<string, unknown>)[key] = value
  }
  el.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)))
  return el
}

/** The element with this id (the page's fixed skeleton, `index.html`). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`missing #${id}`)
  return el as T
}

/** `12:03:44` in local time. */
export function clock(ms: number = Date.now()): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false })
}
