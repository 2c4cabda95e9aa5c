// The one normaliser of the drop-in suite, and the comparison of two normalised logs.
//
// Both runs share one devserver, so what necessarily differs between them is only what the
// server or the run generated: users and their ids and addresses, channel names (a per-run
// tag), UUIDs, JWTs, refresh tokens, PKCE flow ids and URL challenges, presence refs, row
// ids, JWT signatures and instants. Each of those is replaced by a placeholder that keeps
// what app code could observe about it:
// - the *same* value stays the same placeholder within a log (`<uuid:2>` twice is one id), and
//   placeholders are numbered in a fixed walk (events in order, object keys sorted), so equal
//   structures number alike;
// - the type and format stay (an instant is `<time:s>`, `<time:ms>` or the shape of its
//   string, `expires_in` is kept to the minute), empty strings, `null` and `undefined` stay
//   themselves, and nothing else is touched: statuses, error names and codes, messages,
//   event names, the order and number of events all compare as they are.
// Object key order is the one thing ignored (the comparison is on sorted keys). What the
// recorder itself leaves out is said in page/harness.mjs (callback arguments beyond the
// parameters supabase-js's types declare).

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
/** Keys whose values are instants (a server's or a client's clock). */
const TIME_KEY = (k) => k.endsWith('_at') || ['timestamp', 'commit_timestamp', 'iat', 'exp', 'nbf', 'auth_time'].includes(k)
/** Keys whose (non-empty) string values are opaque per-run tokens or refs. */
const OPAQUE_KEY = { refresh_token: 'refresh_token', provider_refresh_token: 'refresh_token', presence_ref: 'ref', phx_ref: 'ref', phx_ref_prev: 'ref', flowId: 'flow' }
/** Random query parameters of OAuth URLs (PKCE challenge, state): the value goes, the parameter stays. */
const URL_PARAM = /\b(code_challenge|state|code)=([A-Za-z0-9._~%-]+)/g

/**
 * An instant's placeholder keeps its format: a string's shape with digits as 9 and any
 * fraction as `.f` (`<time:9999-99-99T99:99:99.f+99:99>`; the fraction's length varies with
 * the value), a number's unit (`s` or `ms` since the epoch).
 */
const instant = (v) => (typeof v === 'number' ? `<time:${Math.abs(v) < 1e11 ? 's' : 'ms'}>` : `<time:${v.replace(/\.\d+/, '.f').replace(/\d/g, '9')}>`)

/**
 * Normalises `log` (an array of `{ step, args, throws?, timeout? }`) of one run. `known` maps
 * strings the run generated to stable names (`{ [userEmail]: '<user1.email>', [tag]: '<tag>' }`);
 * they are replaced wherever they occur inside a string, longest first.
 */
export function normalise(log, known = {}) {
  const numbered = new Map() // kind → (value → placeholder)
  const place = (kind, value) => {
    if (!numbered.has(kind)) numbered.set(kind, new Map())
    const seen = numbered.get(kind)
    if (!seen.has(value)) seen.set(value, `<${kind}:${seen.size + 1}>`)
    return seen.get(value)
  }
  const names = Object.keys(known).filter(Boolean).sort((a, b) => b.length - a.length)
  const str = (s) => {
    for (const n of names) s = s.split(n).join(known[n])
    return s
      .replace(JWT, (m) => place('jwt', m))
      .replace(UUID, (m) => place('uuid', m.toLowerCase()))
      .replace(URL_PARAM, (_, k, v) => `${k}=${place(k, v)}`)
  }
  const walk = (v, key) => {
    if (v === null || typeof v === 'boolean') return v
    // A JWT's signature (getClaims): random per token; its type (bytes or string) stays.
    if (key === 'signature' && typeof v === 'string') return '<signature:string>'
    if (key === 'signature' && v && typeof v === 'object' && '$bytes' in v) return { $bytes: `<signature:${v.$bytes.length} bytes>`, of: v.of }
    if (typeof v === 'number') {
      if (key && TIME_KEY(key)) return instant(v)
      // Seconds left, computed from a clock (3599.79…): kept to the minute, so a wrong lifetime shows.
      if (key === 'expires_in') return `<about ${Math.round(v / 60)} min>`
      if (key === 'id' && Number.isInteger(v)) return place('row', v)
      return v
    }
    if (typeof v === 'string') {
      if (key && TIME_KEY(key)) return instant(v)
      if (key && OPAQUE_KEY[key] && v && !v.startsWith('eyJ')) return place(OPAQUE_KEY[key], v)
      return str(v)
    }
    if (Array.isArray(v)) return v.map((x) => walk(x))
    const out = {}
    for (const k of Object.keys(v).sort()) out[k] = walk(v[k], k)
    return out
  }
  return log.map((e) => walk(e))
}

/** Canonical JSON (sorted keys) of a normalised value. */
export const canon = (v) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x))

/**
 * The first difference between two normalised logs: `null` when equal, else `{ index, path,
 * ref, authwire }` — the index of the first differing event, the path inside it, and both
 * values there (`<missing>` where one log has nothing).
 */
export function firstDifference(ref, aw) {
  for (let i = 0; i < Math.max(ref.length, aw.length); i++) {
    if (i >= ref.length || i >= aw.length) return { index: i, path: '', ref: ref[i] ?? '<missing>', authwire: aw[i] ?? '<missing>' }
    // A different step, or a result against a throw or a timeout: the whole events.
    const shape = (e) => [e.step, 'args' in e && !('throws' in e), 'throws' in e, 'timeout' in e].join()
    if (shape(ref[i]) !== shape(aw[i])) return { index: i, step: ref[i].step, path: '', ref: ref[i], authwire: aw[i] }
    const d = diffValue(ref[i], aw[i], '')
    if (d) return { index: i, step: ref[i].step, ...d, refEvent: ref[i], authwireEvent: aw[i] }
  }
  return null
}

function diffValue(a, b, path) {
  if (canon(a) === canon(b)) return null
  const obj = (x) => x !== null && typeof x === 'object'
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}[${i}]`, ref: i < a.length ? a[i] : '<missing>', authwire: i < b.length ? b[i] : '<missing>' }
      const d = diffValue(a[i], b[i], `${path}[${i}]`)
      if (d) return d
    }
  }
  if (obj(a) && obj(b) && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in a) || !(k in b)) return { path: `${path}.${k}`, ref: k in a ? a[k] : '<missing>', authwire: k in b ? b[k] : '<missing>' }
      const d = diffValue(a[k], b[k], `${path}.${k}`)
      if (d) return d
    }
  }
  return { path, ref: a, authwire: b }
}

/** One line per event, for reports: `step(args)` with long values cut. */
export function summary(log, width = 70) {
  return log.map((e) => {
    const body = e.timeout ? `TIMEOUT ${e.timeout}` : e.throws ? `throws ${canon(e.throws)}` : canon(e.args).slice(1, -1)
    return `${e.step}(${body.length > width ? body.slice(0, width - 1) + '…' : body})`
  })
}

/**
 * Every leaf where two normalised values differ, as `path: ref → authwire` lines (at most
 * `max`), for the details of a changed event.
 */
export function differences(a, b, max = 12) {
  const out = []
  const top = (e) => ['throws', 'timeout'].filter((k) => k in e).join()
  if (top(a) !== top(b)) return [`${cut(summary([a], 150)[0])} → ${cut(summary([b], 150)[0])}`]
  const visit = (x, y, path) => {
    if (out.length >= max || canon(x) === canon(y)) return
    // Markers (`undefined`, an instance, bytes) are values of their own, not objects to open.
    const obj = (v) => v !== null && typeof v === 'object' && !('$undefined' in v || '$instance' in v || '$bytes' in v)
    if (obj(x) && obj(y) && Array.isArray(x) === Array.isArray(y)) {
      const keys = Array.isArray(x) ? [...Array(Math.max(x.length, y.length)).keys()] : [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()
      for (const k of keys) {
        const p = Array.isArray(x) ? `${path}[${k}]` : `${path}.${k}`
        if (!(k in x) || !(k in y)) out.length < max && out.push(`${p}: ${k in x ? cut(canon(x[k])) : '<missing>'} → ${k in y ? cut(canon(y[k])) : '<missing>'}`)
        else visit(x[k], y[k], p)
      }
      return
    }
    out.push(`${path || '.'}: ${cut(canon(x))} → ${cut(canon(y))}`)
  }
  visit(a, b, '')
  return out
}

const cut = (s, n = 160) => (s.length > n ? s.slice(0, n - 1) + '…' : s)

/**
 * The two logs aligned event by event (longest common subsequence on the normalised events):
 * `{ op, ref?, authwire? }` with op `=` (equal), `~` (the same step, different values), `-`
 * (only in supabase-js's log) or `+` (only in authwire's).
 */
export function align(ref, aw) {
  const a = ref.map(canon)
  const b = aw.map(canon)
  const L = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1])
  const out = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) out.push({ op: '=', ref: ref[i++], authwire: aw[j++] })
    else if (i < a.length && j < b.length && ref[i].step === aw[j].step && L[i + 1][j + 1] >= Math.max(L[i + 1][j], L[i][j + 1])) out.push({ op: '~', ref: ref[i++], authwire: aw[j++] })
    else if (j < b.length && (i >= a.length || L[i][j + 1] >= L[i + 1][j])) out.push({ op: '+', authwire: aw[j++] })
    else out.push({ op: '-', ref: ref[i++] })
  }
  return out
}

/** The aligned logs as text lines: `  step(…)`, `- …`, `+ …`, and `~ step` with its differing leaves. */
export function alignedText(ref, aw, width = 90) {
  const line = (e) => summary([e], width)[0]
  const lines = []
  for (const r of align(ref, aw)) {
    if (r.op === '=') lines.push(`  ${line(r.ref)}`)
    else if (r.op === '-') lines.push(`- ${line(r.ref)}`)
    else if (r.op === '+') lines.push(`+ ${line(r.authwire)}`)
    else {
      lines.push(`~ ${r.ref.step}`)
      for (const d of differences(r.ref, r.authwire)) lines.push(`~     ${d}`)
    }
  }
  return lines
}

/**
 * What authwire adds on purpose, on top of supabase-js's shapes (DIFFERENCES.md, "Additions"):
 * a stable `code` string on an error or a `system` payload where supabase-js has none, and
 * the class name `RealtimeError` (a subclass of `Error`) where realtime-js hands over a plain
 * `Error`. Returns authwire's log with each such leaf set back to supabase-js's value, and the
 * list of what was set back; everything else is left for the comparison. Only events at the
 * same index with the same step are looked at, so an addition never hides another difference.
 */
export function acceptAdditions(ref, aw) {
  const additions = []
  const undef = (x) => x === undefined || (x && typeof x === 'object' && x.$undefined === true && Object.keys(x).length === 1)
  const obj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x)
  const walk = (a, b, path, at) => {
    if (Array.isArray(a) && Array.isArray(b)) return b.map((x, i) => (i < a.length ? walk(a[i], x, `${path}[${i}]`, at) : x))
    if (!obj(a) || !obj(b)) return b
    const out = {}
    for (const k of Object.keys(b)) {
      if (k === 'code' && typeof b[k] === 'string' && undef(a[k])) {
        additions.push({ event: at, path: `${path}.code`, value: b[k] })
        if (k in a) out[k] = a[k]
        continue
      }
      if (k === 'name' && b[k] === 'RealtimeError' && a[k] === 'Error') {
        additions.push({ event: at, path: `${path}.name`, value: b[k] })
        out[k] = a[k]
        continue
      }
      out[k] = k in a ? walk(a[k], b[k], `${path}.${k}`, at) : b[k]
    }
    return out
  }
  const log = aw.map((e, i) => (i < ref.length && ref[i].step === e.step ? walk(ref[i], e, '', i) : e))
  return { log, additions }
}
