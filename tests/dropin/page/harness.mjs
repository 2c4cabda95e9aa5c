// The recorder the drop-in snippets run with, in the page. A page entry (`supabase.mjs` or
// `authwire.mjs`) calls `install` with its client library; the suite then calls
// `window.runSnippet(name, phase, env)` and gets back the event log: every callback invocation
// and every awaited result, in the order they happened, as `{ step, args }` with the args
// serialised here (in the page, where `undefined`, errors, class instances and bytes can still
// be told apart), so the two clients' logs compare as JSON in Node.
import { snippets } from '../snippets.mjs'

/** Thrown to end a snippet early (a wait or an await that timed out); never logged twice. */
class Abort extends Error {}

/** How long an awaited call or a wait may take before the snippet records a timeout and ends. */
const STEP_MS = 5000

/**
 * A JSON-safe picture of `v` as app code sees it. `undefined` stays distinct from `null`,
 * errors keep `name`, `message`, `code`, `status` (and auth-js's `reasons`), functions and
 * class instances are marked rather than expanded, bytes become arrays.
 */
export function serialise(v, seen = new Set()) {
  if (v === undefined) return { $undefined: true }
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) }
  if (typeof v === 'bigint') return { $bigint: String(v) }
  if (typeof v === 'function') return { $function: true }
  if (typeof v === 'symbol') return { $symbol: String(v) }
  if (v instanceof Error) {
    const e = { name: v.name, message: v.message, code: serialise(v.code), status: serialise(v.status) }
    if ('reasons' in v) e.reasons = serialise(v.reasons)
    return { $error: e }
  }
  if (v instanceof ArrayBuffer) return { $bytes: [...new Uint8Array(v)], of: 'ArrayBuffer' }
  if (ArrayBuffer.isView(v)) return { $bytes: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)], of: v.constructor.name }
  if (v instanceof Date) return { $date: v.toISOString() }
  if (seen.has(v)) return { $circular: true }
  seen.add(v)
  try {
    if (Array.isArray(v)) return v.map((x) => serialise(x, seen))
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) return { $instance: true }
    const out = {}
    for (const k of Object.keys(v)) out[k] = serialise(v[k], seen)
    return out
  } finally {
    seen.delete(v)
  }
}

/** The context a snippet receives: the swapped client library plus the recorder. */
function context(lib, env, log) {
  let ended = false
  const record = (step, args) => {
    if (!ended) log.push({ step, args: args.map((a) => serialise(a)) })
  }
  const t = {
    ...env,
    /** The imported module (`import * as sdk from '@supabase/supabase-js'` or `'authwire'`). */
    sdk: lib.sdk,
    createClient: lib.sdk.createClient,
    /** PostgREST for a client: `rest(supabase).from('todos')…` (the page decides how). */
    rest: (client) => lib.rest(client, env.url),
    /** Records one event. */
    log: (step, ...args) => record(step, args),
    /**
     * A callback that records every invocation: its first `params` arguments — the parameters
     * supabase-js's types declare for that callback (`(status, err)` is 2, a payload listener
     * 1). Extra positional arguments realtime-js passes internally (a ref, a join ref) are not
     * API and are not recorded; a parameter the caller left out reads `undefined`, as it does
     * in the app's callback.
     */
    cb: (step, params = 1) => (...args) => record(step, Array.from({ length: params }, (_, i) => args[i])),
    /** How many events named `step` were recorded (all of them without `step`). */
    count: (step) => (step ? log.filter((e) => e.step === step).length : log.length),
    /** The recorded events named `step`. */
    events: (step) => log.filter((e) => e.step === step),
    /**
     * Awaits `promise`, records its value as `step` and returns it; a rejection is recorded
     * (`throws`) and ends the snippet, as does a promise that does not settle within `ms`.
     */
    async rec(step, promise, ms = STEP_MS) {
      const r = await t.settle(step, promise, ms)
      if ('error' in r) throw new Abort()
      return r.value
    },
    /**
     * Like `rec`, but a rejection is recorded and returned as `{ error }` instead of ending the
     * snippet. `promise` may be a function that returns it: then a synchronous throw (a method
     * that is not there) is recorded the same way.
     */
    async settle(step, promise, ms = STEP_MS) {
      let timer
      const LATE = {}
      const late = new Promise((ok) => (timer = setTimeout(() => ok(LATE), ms)))
      try {
        const v = await Promise.race([typeof promise === 'function' ? (async () => promise())() : promise, late])
        if (v === LATE) {
          if (!ended) log.push({ step, timeout: `did not settle within ${ms} ms` })
          throw new Abort()
        }
        record(step, [v])
        return { value: v }
      } catch (e) {
        if (e instanceof Abort) throw e
        if (!ended) log.push({ step, args: [], throws: serialise(e) })
        return { error: e }
      } finally {
        clearTimeout(timer)
      }
    },
    /** Calls `fn` now and records what it returned, or what it threw (the snippet goes on). */
    call(step, fn) {
      try {
        const v = fn()
        record(step, [v])
        return v
      } catch (e) {
        if (!ended) log.push({ step, args: [], throws: serialise(e) })
        return undefined
      }
    },
    /** Waits until `pred()` is truthy; after `ms` records a timeout naming `what` and ends the snippet. */
    async wait(what, pred, ms = STEP_MS) {
      const deadline = Date.now() + ms
      while (!pred()) {
        if (Date.now() >= deadline) {
          if (!ended) log.push({ step: 'wait', timeout: what })
          throw new Abort()
        }
        await new Promise((ok) => setTimeout(ok, 10))
      }
    },
    /**
     * Waits up to `ms` for `pred()`; on a timeout records `gave up waiting` and goes on. Only
     * for deliberate differences, where supabase-js's side of a guarantee is that nothing happens.
     */
    async softWait(what, pred, ms) {
      const deadline = Date.now() + ms
      while (!pred()) {
        if (Date.now() >= deadline) return t.log('gave up waiting', what)
        await new Promise((ok) => setTimeout(ok, 10))
      }
    },
    /** Waits until `step` was recorded `n` times (1 by default). */
    until: (step, n = 1, ms) => t.wait(`${n} × ${step}`, () => t.count(step) >= n, ms),
    /** A macrotask boundary (lets queued callbacks run). */
    tick: () => new Promise((ok) => setTimeout(ok, 0)),
  }
  return { t, end: () => (ended = true) }
}

/** Registers `window.runSnippet` for `lib` (`{ sdk, rest }`: the module and its PostgREST access). */
export function install(lib) {
  window.runSnippet = async (name, phase, env) => {
    const snippet = snippets.find((s) => s.name === name)
    if (!snippet) throw new Error(`no snippet named ${name}`)
    const phases = Array.isArray(snippet.run) ? snippet.run : [snippet.run]
    const log = []
    const { t, end } = context(lib, { ...env, dev: devBridge() }, log)
    try {
      await phases[phase](t)
    } catch (e) {
      if (!(e instanceof Abort)) log.push({ step: 'snippet threw', args: [], throws: serialise(e) })
    }
    end()
    return log
  }
  window.dropinReady = true
}

/** `/_dev` operations the Node side exposes to the page (`page.exposeFunction('dropinDev', …)`). */
function devBridge() {
  const op = (name) => (...args) => window.dropinDev(name, ...args)
  return { sql: op('sql'), barrier: op('barrier'), fault: op('fault'), admin: op('admin'), authorize: op('authorize') }
}
