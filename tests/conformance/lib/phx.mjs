// A plain `ws` client speaking Phoenix frames (V1 objects, V2 arrays, V2 binary kinds 3/4),
// for the wire-level cross-checks supabase-js cannot make.
import WebSocket from 'ws'

/** One decoded frame: `{ joinRef, ref, topic, event, payload, raw, binary? }`. */
function decode(data, isBinary, vsn) {
  if (isBinary) {
    const b = Buffer.from(data)
    if (b[0] !== 4) return { kind: b[0], raw: b, binary: true, event: '?binary', topic: '?' }
    // kind 4: topic_len, event_len, metadata_len, encoding, topic, event, metadata, payload
    let i = 5
    const take = (n) => {
      const s = b.subarray(i, i + n)
      i += n
      return s
    }
    const topic = take(b[1]).toString()
    const event = take(b[2]).toString()
    const meta = take(b[3]).toString()
    const body = b.subarray(i)
    const payload = { type: 'broadcast', event, payload: b[4] === 1 ? JSON.parse(body.toString()) : body }
    if (meta) payload.meta = JSON.parse(meta)
    return { kind: 4, joinRef: null, ref: null, topic, event: 'broadcast', payload, raw: b, binary: true, encoding: b[4] }
  }
  const text = data.toString()
  const v = JSON.parse(text)
  if (vsn === '1.0.0') return { joinRef: v.join_ref, ref: v.ref, topic: v.topic, event: v.event, payload: v.payload, raw: text, json: v }
  const [joinRef, ref, topic, event, payload] = v
  return { joinRef, ref, topic, event, payload, raw: text, json: v }
}

/** A kind-3 user broadcast push: what realtime-js sends for `channel.send({type:'broadcast'})`. */
export function userBroadcastPush(joinRef, ref, topic, event, payload, { binary = false } = {}) {
  const body = binary ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload))
  const strs = [joinRef, ref, topic, event, ''].map((s) => Buffer.from(s))
  return Buffer.concat([Buffer.from([3, ...strs.map((s) => s.length), binary ? 0 : 1]), ...strs, body])
}

export class Phx {
  /** Opens a socket; rejects with the HTTP status when the handshake is refused. */
  static connect(url, { apikey, vsn = '2.0.0', path = '/realtime/v1/websocket', headers = {}, maxPayload } = {}) {
    const u = new URL(path, url.replace(/^http/, 'ws'))
    if (apikey !== undefined) u.searchParams.set('apikey', apikey)
    if (vsn) u.searchParams.set('vsn', vsn)
    const ws = new WebSocket(u, { headers, maxPayload })
    return new Promise((ok, fail) => {
      ws.once('open', () => ok(new Phx(ws, vsn ?? '1.0.0')))
      ws.once('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => fail(Object.assign(new Error(`handshake ${res.statusCode} ${body}`), { status: res.statusCode, body })))
      })
      ws.once('error', fail)
    })
  }

  constructor(ws, vsn) {
    this.ws = ws
    this.vsn = vsn
    this.queue = []
    this.waiters = new Set()
    this.nextRef = 1
    this.seq = 0
    this.isClosed = false
    this.closed = new Promise((ok) =>
      ws.once('close', (code, reason) => {
        this.isClosed = true
        ok({ code, reason: reason.toString() })
        for (const w of this.waiters) w()
      }),
    )
    ws.on('message', (data, isBinary) => {
      let f
      try {
        f = decode(data, isBinary, vsn)
      } catch (e) {
        f = { event: '?undecodable', raw: data, error: e }
      }
      f.seq = this.seq++
      this.queue.push(f)
      for (const w of this.waiters) w()
    })
    ws.on('error', () => {})
  }

  sendRaw(data) {
    this.ws.send(data)
  }

  /** Pushes a message; returns its ref. */
  push(joinRef, topic, event, payload, ref = String(this.nextRef++)) {
    if (this.vsn === '1.0.0') {
      const m = { topic, event, payload, ref }
      if (joinRef != null) m.join_ref = joinRef
      this.ws.send(JSON.stringify(m))
    } else {
      this.ws.send(JSON.stringify([joinRef ?? null, ref, topic, event, payload]))
    }
    return ref
  }

  /** Takes the first queued (or next arriving) frame matching `pred`. */
  next(pred, timeoutMs = 5000, what = 'frame') {
    return new Promise((ok, fail) => {
      const check = () => {
        const i = this.queue.findIndex(pred)
        if (i < 0 && this.isClosed) {
          this.waiters.delete(check)
          clearTimeout(timer)
          fail(new Error(`socket closed before ${what}`))
          return true
        }
        if (i < 0) return false
        const [f] = this.queue.splice(i, 1)
        this.waiters.delete(check)
        clearTimeout(timer)
        ok(f)
        return true
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        fail(new Error(`no ${what} within ${timeoutMs} ms; queued: ${JSON.stringify(this.queue.map((f) => f.raw?.toString()))}`))
      }, timeoutMs)
      if (!check()) this.waiters.add(check)
    })
  }

  reply(ref, timeoutMs) {
    return this.next((f) => f.event === 'phx_reply' && f.ref === ref, timeoutMs, `reply to ${ref}`)
  }

  event(topic, event, timeoutMs) {
    return this.next((f) => f.topic === topic && f.event === event, timeoutMs, `${event} on ${topic}`)
  }

  /** Joins; resolves `{ joinRef, status, response, frame }`. */
  async join(topic, payload = { config: {} }) {
    const ref = String(this.nextRef++)
    this.push(ref, topic, 'phx_join', payload, ref)
    const f = await this.reply(ref)
    return { joinRef: ref, status: f.payload.status, response: f.payload.response, frame: f }
  }

  async joinOk(topic, payload) {
    const r = await this.join(topic, payload)
    if (r.status !== 'ok') throw new Error(`join ${topic}: ${JSON.stringify(r.response)}`)
    return r.joinRef
  }

  async heartbeat() {
    const ref = this.push(null, 'phoenix', 'heartbeat', {})
    return this.reply(ref)
  }

  /**
   * Takes the first frame matching `barrier`, then throws if any other frame matching `pred`
   * arrived before it and is still queued: the barrier is something sent after the frames
   * that must not come, on a path that keeps order, so they would have arrived first.
   */
  async nothingBefore(barrier, { pred = () => true, what = 'the barrier', timeoutMs } = {}) {
    const b = await this.next(barrier, timeoutMs, what)
    const got = this.queue.filter((f) => f.seq < b.seq && pred(f))
    if (got.length) throw new Error(`unexpected frames before ${what}: ${got.map((f) => f.raw?.toString()).join(' | ')}`)
    return b
  }

  /**
   * Throws if anything (matching `pred`) answers the frames sent so far: the server handles a
   * socket's frames one at a time and replies in order, so a heartbeat's reply comes after
   * every answer to them. (Not a barrier for what other sockets fan out to this one: those are
   * queued apart from replies.)
   */
  async settled(pred = () => true) {
    const ref = this.push(null, 'phoenix', 'heartbeat', {})
    return this.nothingBefore((f) => f.event === 'phx_reply' && f.ref === ref, { pred, what: `the reply to heartbeat ${ref}` })
  }

  close() {
    this.ws.close()
  }
}

/** The join payload realtime-js sends, with `config` merged in. */
export function joinPayload(config = {}, accessToken) {
  const p = {
    config: {
      broadcast: { ack: false, self: false },
      presence: { key: '', enabled: false },
      postgres_changes: [],
      private: false,
      ...config,
    },
  }
  if (accessToken !== undefined) p.access_token = accessToken
  return p
}
