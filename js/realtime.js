// realtime-js's exported constants and its postgres_changes filter builder, for app code that
// imports them from supabase-js. Plain JS with no wasm: a bundler keeps only what is used.
// The builder's text is what realtime-js 2.119.1 builds for the same calls (checked by
// tests/unit/realtime_exports.test.mjs against the real realtime-js).

/** The statuses a `subscribe()` callback sees. */
export const REALTIME_SUBSCRIBE_STATES = Object.freeze({
  SUBSCRIBED: 'SUBSCRIBED',
  TIMED_OUT: 'TIMED_OUT',
  CLOSED: 'CLOSED',
  CHANNEL_ERROR: 'CHANNEL_ERROR',
})

/** The `type` argument of `channel.on()`. */
export const REALTIME_LISTEN_TYPES = Object.freeze({
  BROADCAST: 'broadcast',
  PRESENCE: 'presence',
  POSTGRES_CHANGES: 'postgres_changes',
  SYSTEM: 'system',
})

/** The `event` of a `postgres_changes` listener. */
export const REALTIME_POSTGRES_CHANGES_LISTEN_EVENT = Object.freeze({ ALL: '*', INSERT: 'INSERT', UPDATE: 'UPDATE', DELETE: 'DELETE' })

/** The `event` of a `presence` listener. */
export const REALTIME_PRESENCE_LISTEN_EVENTS = Object.freeze({ SYNC: 'sync', JOIN: 'join', LEAVE: 'leave' })

/** `channel.state` values. */
export const REALTIME_CHANNEL_STATES = Object.freeze({ closed: 'closed', errored: 'errored', joined: 'joined', joining: 'joining', leaving: 'leaving' })

// A value is quoted when the filter grammar would split or trim it: it holds a separator
// (`,`, `(`, `)`), a quote or a backslash, or starts or ends with white space.
const NEEDS_QUOTES = /[,()"\\]|^\s|\s$/
const text = (v) => {
  const s = String(v)
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"` : s
}
const list = (values) => {
  const all = Array.isArray(values) ? values : [values]
  if (all.length === 0) throw new Error('Realtime `in` filter requires at least one value.')
  return `(${all.map(text).join(',')})`
}

/** Builds a `postgres_changes` filter (`column=op.value`, joined by commas). */
export class RealtimePostgresFilterBuilder {
  #parts = []
  #add(column, op, value) {
    this.#parts.push(`${column}=${op}.${value}`)
    return this
  }
  eq(column, value) { return this.#add(column, 'eq', text(value)) }
  neq(column, value) { return this.#add(column, 'neq', text(value)) }
  gt(column, value) { return this.#add(column, 'gt', text(value)) }
  gte(column, value) { return this.#add(column, 'gte', text(value)) }
  lt(column, value) { return this.#add(column, 'lt', text(value)) }
  lte(column, value) { return this.#add(column, 'lte', text(value)) }
  in(column, values) { return this.#add(column, 'in', list(values)) }
  like(column, pattern) { return this.#add(column, 'like', text(pattern)) }
  ilike(column, pattern) { return this.#add(column, 'ilike', text(pattern)) }
  match(column, pattern) { return this.#add(column, 'match', text(pattern)) }
  imatch(column, pattern) { return this.#add(column, 'imatch', text(pattern)) }
  // `is` takes a keyword (null, true, false, unknown): never quoted.
  is(column, value) { return this.#add(column, 'is', String(value)) }
  isDistinct(column, value) { return this.#add(column, 'isdistinct', text(value)) }
  /** `not(column, op, value)`: `column=not.op.value`. */
  not(column, operator, value) {
    return this.#add(column, `not.${operator}`, operator === 'in' ? list(value) : operator === 'is' ? String(value) : text(value))
  }
  /** The filter text, as `channel.on('postgres_changes', { filter })` takes it. */
  build() { return this.#parts.join(',') }
  toString() { return this.build() }
}

/** A new filter builder: `postgresChangesFilter().eq('id', 1).build()` is `'id=eq.1'`. */
export const postgresChangesFilter = () => new RealtimePostgresFilterBuilder()
