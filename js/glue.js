// authwire browser glue, imported by the wasm module (wasm-bindgen `module` snippet).
//
// The Rust core decides; this file only executes: it owns the WebSocket, the one host timer,
// fetches, storage, locks, the cross-tab channel and page lifecycle listeners, and reports
// every result to the Rust `HostEvents` object it holds (`src/host.rs`), one method per kind
// of report. `dispose()` closes, aborts and removes what it created and drops that object,
// so later results go nowhere.

/** `onAuthStateChange`'s result: `{ data: { subscription } }`. */
export function authSubscription(api, id, callback) {
  return { data: { subscription: { id, callback, unsubscribe: () => api.removeListener(id) } } }
}

export function navigate(url) {
  if (typeof location !== 'undefined') location.assign(url)
}

export function pageUrl() {
  return typeof location !== 'undefined' ? location.href : undefined
}

// A listener that throws must not break the others nor the SDK: report it asynchronously.
function call(fn, a, b) {
  try {
    fn(a, b)
  } catch (e) {
    queueMicrotask(() => {
      throw e
    })
  }
}

const TYPE_ARRAY = /^_/
function cell(type, v) {
  if (TYPE_ARRAY.test(type)) {
    if (typeof v !== 'string' || v[0] !== '{' || v[v.length - 1] !== '}') return v
    const inner = v.slice(1, -1)
    let items
    try {
      items = JSON.parse('[' + inner + ']')
    } catch (_) {
      items = inner ? inner.split(',') : []
    }
    return items.map((x) => cell(type.slice(1), x))
  }
  switch (type) {
    case 'bool':
      return v === 't' ? true : v === 'f' ? false : v
    case 'float4':
    case 'float8':
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'oid': {
      if (typeof v !== 'string') return v
      const n = parseFloat(v)
      return Number.isNaN(n) ? v : n
    }
    case 'json':
    case 'jsonb':
      if (typeof v !== 'string') return v
      try {
        return JSON.parse(v)
      } catch (_) {
        return v
      }
    case 'timestamp':
      return typeof v === 'string' ? v.replace(' ', 'T') : v
    default:
      return v
  }
}

// Column-typed values, as realtime-js delivers records.
function typed(columns, record) {
  if (!record) return {}
  const types = new Map()
  for (const c of columns || []) types.set(c.name, c.type)
  const out = {}
  for (const k of Object.keys(record)) {
    const t = types.get(k)
    out[k] = t ? cell(t, record[k]) : record[k]
  }
  return out
}

// Delivery to app listeners, one function per payload shape. JSON payloads are texts built by
// the core, parsed once and shared by the listeners.

function callEach(fns, a, b) {
  for (const fn of fns) call(fn, a, b)
}

/** `(status, detail)`: subscribe statuses (with a RealtimeError) and heartbeats (with the latency). */
export function deliverStatus(fns, status, detail) {
  callEach(fns, status, detail)
}

/** A JSON payload as it is (presence). */
export function deliverJson(fns, json) {
  callEach(fns, JSON.parse(json))
}

/** A `system` payload as the server sent it, plus authwire's `code` (e.g. `invalid_filter`). */
export function deliverSystem(fns, json, code) {
  const p = JSON.parse(json)
  if (code) p.code = code
  callEach(fns, p)
}

/** A Postgres change, its values converted by column type as realtime-js does. */
export function deliverChange(fns, json) {
  const p = JSON.parse(json)
  p.new = typed(p.columns, p.new)
  p.old = typed(p.columns, p.old)
  delete p.columns
  callEach(fns, p)
}

/** A broadcast; binary user data (a view into wasm memory: copied now) becomes `payload`. */
export function deliverBroadcast(fns, json, bytes) {
  const p = JSON.parse(json)
  if (bytes) p.payload = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  callEach(fns, p)
}

/** An auth state change: `(event, session)`. */
export function deliverAuth(fns, event, session) {
  callEach(fns, event, session === undefined ? null : JSON.parse(session))
}

/** A line for the app's `realtime.logger`: `(kind, msg, data)`, as realtime-js calls it. */
export function log(logger, kind, msg, data) {
  try {
    logger(kind, msg, data)
  } catch (e) {
    queueMicrotask(() => {
      throw e
    })
  }
}

/** `reconnectAfterMs(tries)` as a delay in ms, or `undefined` when it threw or gave no usable number. */
export function callForMs(fn, tries) {
  try {
    const ms = fn(tries)
    return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined
  } catch (e) {
    queueMicrotask(() => {
      throw e
    })
    return undefined
  }
}

export function resolveWith(fn, value) {
  call(fn, value)
}

export function parseJson(text) {
  return JSON.parse(text)
}

// Option readers: `path` is dotted ('realtime.vsn'); a value of another type reads as absent.
function at(obj, path) {
  let v = obj
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined
    v = v[k]
  }
  return v
}
export function optStr(obj, path) {
  const v = at(obj, path)
  return typeof v === 'string' ? v : undefined
}
export function optNum(obj, path) {
  const v = at(obj, path)
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}
export function optBool(obj, path) {
  const v = at(obj, path)
  return typeof v === 'boolean' ? v : undefined
}
export function optFn(obj, path) {
  const v = at(obj, path)
  return typeof v === 'function' ? v : undefined
}
export function optAny(obj, path) {
  const v = at(obj, path)
  return v === null ? undefined : v
}
/** The string members of an object as `[key, value]` pairs. */
export function optPairs(obj, path) {
  const v = at(obj, path)
  if (v === null || typeof v !== 'object') return []
  return Object.entries(v).filter(([, x]) => typeof x === 'string')
}

/** Socket URL parameters of any JSON type as `[key, text]` pairs, nested keys as Phoenix writes them (`a[b]`). */
export function optParams(obj, path) {
  const out = []
  const walk = (v, key) => {
    if (v === null || v === undefined) return
    if (typeof v === 'object') {
      for (const k of Object.keys(v)) walk(v[k], key ? `${key}[${k}]` : k)
    } else if (typeof v !== 'function') out.push([key, String(v)])
  }
  const v = at(obj, path)
  if (v !== null && typeof v === 'object') walk(v, '')
  return out
}

/** A `postgres_changes` listener's filter: a string, or what a realtime-js filter builder builds (`build()`). */
export function pgFilter(spec) {
  const f = spec === null || typeof spec !== 'object' ? undefined : spec.filter
  if (f === undefined || f === null) return undefined
  if (typeof f === 'object' && typeof f.build === 'function') return String(f.build())
  return String(f)
}

/** JSON text of a JS value; `undefined` when it cannot be serialised. */
export function toJson(value) {
  try {
    const t = JSON.stringify(value)
    return typeof t === 'string' ? t : undefined
  } catch (_) {
    return undefined
  }
}

export function isBinary(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v)
}

export function bytesOf(v) {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

export function nowMono() {
  return typeof performance !== 'undefined' ? performance.now() : Date.now()
}

export function nowWall() {
  return Date.now()
}

const csprng = () => (typeof crypto !== 'undefined' && crypto.getRandomValues ? crypto : undefined)

/** 52 bits for the core's jitter generator (the clock without a CSPRNG: jitter needs no secret). */
export function seed() {
  const c = csprng()
  if (!c) return (Date.now() * 1000 + Math.floor(nowMono() * 1000)) % 4503599627370496
  const a = c.getRandomValues(new Uint32Array(2))
  return (a[0] & 0xfffff) * 4294967296 + a[1]
}

/** `len` bytes of the CSPRNG, the only source of the core's secrets; `undefined` without one. */
export function randomBytes(len) {
  return csprng()?.getRandomValues(new Uint8Array(len))
}

const WORKER_SRC =
  'let t;onmessage=e=>{clearTimeout(t);if(e.data>=0)t=setTimeout(()=>postMessage(0),e.data)}'

/**
 * Executes the core's side work and reports each result to `events` (the Rust `HostEvents`
 * of `src/host.rs`). Reports go through `this.ev?.`, which `dispose()` clears.
 */
export class Host {
  constructor(events, useWorker) {
    this.ev = events
    this.sockets = new Map()
    this.aborts = new Map()
    this.timer = undefined
    this.worker = undefined
    if (useWorker && typeof Worker !== 'undefined' && typeof Blob !== 'undefined') {
      // A worker's timers are not throttled like a hidden tab's (realtime-js#121).
      try {
        const url = URL.createObjectURL(new Blob([WORKER_SRC], { type: 'text/javascript' }))
        this.worker = new Worker(url)
        URL.revokeObjectURL(url)
        this.worker.onmessage = () => this.ev?.timer()
      } catch (_) {
        this.worker = undefined
      }
    }
    this.listeners = []
    const on = (target, name, fn) => {
      if (target && target.addEventListener) {
        target.addEventListener(name, fn)
        this.listeners.push([target, name, fn])
      }
    }
    const doc = typeof document !== 'undefined' ? document : undefined
    const win = typeof window !== 'undefined' ? window : undefined
    on(doc, 'visibilitychange', () => this.ev?.visibility(doc.visibilityState === 'visible'))
    on(win, 'online', () => this.ev?.online(true))
    on(win, 'offline', () => this.ev?.online(false))
    on(win, 'pageshow', (e) => {
      if (e.persisted) this.ev?.wake()
    })
  }

  /** Session persistence and cross-tab wiring (called once, after construction). */
  auth(storage, storageKey, persist) {
    this.storageKey = storageKey
    this.memory = new Map()
    this.store = storage || (persist ? usableLocalStorage() : undefined) || memoryStorage(this.memory)
    this.locks = new Map()
    this.lockAborts = new Map()
    if (!persist) return
    if (typeof BroadcastChannel !== 'undefined') {
      try {
        this.channel = new BroadcastChannel(storageKey)
        this.channel.onmessage = (e) => {
          const data = JSON.stringify(e.data)
          if (typeof data === 'string') this.ev?.tabMessage(data)
        }
      } catch (_) {
        this.channel = undefined
      }
    }
    // Other tabs writing the key (only meaningful for the default localStorage).
    if (!storage && typeof window !== 'undefined' && window.addEventListener) {
      const onStorage = (e) => {
        if (e.key === storageKey) this.ev?.storageChanged(e.newValue)
      }
      window.addEventListener('storage', onStorage)
      this.listeners.push([window, 'storage', onStorage])
    }
  }

  storageGet(id, key) {
    this.store_(id, (s) => s.getItem(key), true)
  }

  storageSet(id, key, value) {
    this.store_(id, (s) => s.setItem(key, value), false)
  }

  storageRemove(id, key) {
    this.store_(id, (s) => s.removeItem(key), false)
  }

  /** Runs `op` on the store (sync or async) and reports the value read, if `read`. */
  store_(id, op, read) {
    const store = this.store
    Promise.resolve()
      .then(() => op(store))
      .then(
        // A value that is not a string is the adapter's bug: a failed read, not a hang.
        (v) =>
          !read || v == null || typeof v === 'string'
            ? this.ev?.storageValue(id, read ? (v ?? null) : null)
            : this.ev?.storageFailed(id, `the storage returned a ${typeof v}, not a string`),
        (e) => this.ev?.storageFailed(id, String((e && e.message) || e)),
      )
  }

  lock(id, name, timeoutMs) {
    const locks = typeof navigator !== 'undefined' && navigator.locks
    if (!locks) {
      queueMicrotask(() => this.ev?.lockUnavailable(id))
      return
    }
    // A zero timeout asks without waiting (ifAvailable): the callback gets null if held.
    const now = timeoutMs === 0
    const ctl = new AbortController()
    const timer = now ? undefined : setTimeout(() => ctl.abort(), timeoutMs)
    if (!now) this.lockAborts.set(id, ctl)
    const options = now ? { mode: 'exclusive', ifAvailable: true } : { mode: 'exclusive', signal: ctl.signal }
    locks
      .request(name, options, (lock) => {
        clearTimeout(timer)
        this.lockAborts.delete(id)
        if (!lock) {
          this.ev?.lockUnavailable(id)
          return
        }
        // Held until the core releases it (or the host is disposed).
        return new Promise((release) => {
          this.locks.set(id, release)
          this.ev?.lockGranted(id)
        })
      })
      .catch(() => {
        clearTimeout(timer)
        this.lockAborts.delete(id)
        this.ev?.lockUnavailable(id)
      })
  }

  /** Releases lock request `id`, or stops waiting for it. */
  unlock(id) {
    const release = this.locks.get(id)
    this.locks.delete(id)
    if (release) release()
    this.lockAborts.get(id)?.abort()
  }

  post(json) {
    if (this.channel) this.channel.postMessage(JSON.parse(json))
  }

  digest(id, data) {
    const subtle = typeof crypto !== 'undefined' && crypto.subtle
    if (!subtle) {
      queueMicrotask(() => this.ev?.digest(id, null))
      return
    }
    subtle.digest('SHA-256', new TextEncoder().encode(data)).then(
      (buf) => this.ev?.digest(id, b64url(new Uint8Array(buf))),
      () => this.ev?.digest(id, null),
    )
  }

  verify(id, alg, jwk, signed, signature) {
    const subtle = typeof crypto !== 'undefined' && crypto.subtle
    const params =
      alg === 'ES256'
        ? [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }]
        : [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }]
    Promise.resolve()
      .then(() => subtle.importKey('jwk', JSON.parse(jwk), params[0], false, ['verify']))
      .then((key) => subtle.verify(params[1], key, unb64url(signature), new TextEncoder().encode(signed)))
      .then(
        (ok) => this.ev?.verified(id, ok === true),
        () => this.ev?.verified(id, false),
      )
  }

  replaceUrl(url) {
    try {
      if (typeof history !== 'undefined') history.replaceState(history.state, '', url)
    } catch (_) {}
  }

  abort(id) {
    this.aborts.get(id)?.abort()
    this.aborts.delete(id)
  }

  accessToken(fn) {
    Promise.resolve()
      .then(() => fn())
      .then(
        (t) => this.ev?.accessToken(typeof t === 'string' && t ? t : null),
        (e) => this.ev?.accessTokenFailed(String((e && e.message) || e)),
      )
  }

  connect(conn, url) {
    let ws
    try {
      ws = new WebSocket(url)
    } catch (e) {
      // An invalid URL: report it as a close, like a refused handshake.
      queueMicrotask(() => this.ev?.closed(conn, 1006, String(e && e.message)))
      return
    }
    ws.binaryType = 'arraybuffer'
    this.sockets.set(conn, ws)
    ws.onopen = () => this.ev?.opened(conn)
    ws.onmessage = (e) => {
      // The clocks go with the frame: reading them from wasm would be two more crossings.
      if (typeof e.data === 'string') this.ev?.message(conn, e.data, nowMono(), nowWall())
      else this.ev?.binaryMessage(conn, new Uint8Array(e.data), nowMono(), nowWall())
    }
    ws.onclose = (e) => {
      this.sockets.delete(conn)
      this.ev?.closed(conn, e.code, e.reason)
    }
  }

  send(conn, data) {
    const ws = this.sockets.get(conn)
    if (ws && ws.readyState === 1) ws.send(data)
  }

  close(conn, code, reason) {
    const ws = this.sockets.get(conn)
    if (!ws) return
    this.sockets.delete(conn)
    ws.onopen = ws.onmessage = null
    // The close event reports what the browser saw (the core waits for it after a
    // `disconnect()`, and ignores it otherwise). 1005 ("no status") is a close() with no
    // arguments, as realtime-js's disconnect() does.
    ws.onclose = (e) => this.ev?.closed(conn, e.code, e.reason)
    try {
      if (code === 1005) ws.close()
      else ws.close(code, reason)
    } catch (_) {
      ws.close()
    }
  }

  /** Arms the one timer in `ms`, or disarms it (`ms` undefined). */
  setTimer(ms) {
    if (this.worker) {
      this.worker.postMessage(ms) // `undefined` disarms it
      return
    }
    clearTimeout(this.timer)
    this.timer = ms === undefined ? undefined : setTimeout(() => this.ev?.timer(), ms)
  }

  fetch(id, method, url, headers, body, fetchImpl) {
    const ctl = typeof AbortController !== 'undefined' ? new AbortController() : undefined
    if (ctl) this.aborts.set(id, ctl)
    const f = fetchImpl || globalThis.fetch
    Promise.resolve()
      .then(() => f(url, { method, headers, body: body === undefined ? undefined : body, signal: ctl && ctl.signal }))
      .then((r) => r.text().then((t) => this.ev?.httpResponse(id, r.status, t)))
      .catch((e) => this.ev?.httpFailed(id, String((e && e.message) || e)))
      .finally(() => this.aborts.delete(id))
  }

  dispose() {
    // The Rust object is freed by its finalizer once unreferenced; `dispose` runs inside a
    // Rust call, so freeing it here could free it while it is borrowed.
    this.ev = undefined
    for (const ws of this.sockets.values()) {
      ws.onopen = ws.onmessage = ws.onclose = null
      try {
        ws.close(1000, 'destroyed')
      } catch (_) {}
    }
    this.sockets.clear()
    for (const c of this.aborts.values()) c.abort()
    this.aborts.clear()
    clearTimeout(this.timer)
    if (this.worker) this.worker.terminate()
    this.worker = undefined
    for (const [t, n, f] of this.listeners) t.removeEventListener(n, f)
    this.listeners = []
    if (this.channel) this.channel.close()
    this.channel = undefined
    for (const release of this.locks?.values() ?? []) release()
    this.locks?.clear()
    // A waiting request stops (its timeout timer is cleared when the abort rejects it).
    for (const c of this.lockAborts?.values() ?? []) c.abort()
    this.lockAborts?.clear()
    this.store = this.memory = undefined // the app's storage adapter is not kept either
  }
}

function usableLocalStorage() {
  try {
    const ls = globalThis.localStorage
    const k = '__authwire_probe__'
    ls.setItem(k, k)
    ls.removeItem(k)
    return ls
  } catch (_) {
    return undefined
  }
}

function memoryStorage(map) {
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  }
}

function b64url(bytes) {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function unb64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * `fetch` with the project key and the session's token, for PostgREST/functions clients; a
 * request to another origin than the project's (`project`) goes out as the app made it, so
 * neither the key nor the token reaches a third party.
 */
export function authedFetch(fetchImpl, input, init, apikey, token, project) {
  const f = fetchImpl || globalThis.fetch
  const target = typeof input === 'string' || input instanceof URL ? String(input) : input?.url
  let ours = false
  try {
    ours = new URL(target, globalThis.location?.href ?? project).origin === new URL(project).origin
  } catch (_) {}
  if (!ours) return f(input, init)
  const headers = new Headers(init && init.headers)
  if (!headers.has('apikey')) headers.set('apikey', apikey)
  if (!headers.has('Authorization')) headers.set('Authorization', 'Bearer ' + (token || apikey))
  return f(input, { ...init, headers })
}

/** `{ data, error }` for an auth result; `data` is JSON text. */
export function authResult(data, error) {
  return { data: JSON.parse(data), error: error ?? null }
}
