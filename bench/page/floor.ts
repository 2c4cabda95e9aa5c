// The raw-WebSocket floor: the least any client must do per inbound broadcast. A bare
// WebSocket joins the channels with hand-written V2 frames; `onmessage` decodes each frame
// (JSON.parse of a text frame, or DataView + TextDecoder + JSON.parse of a kind-4 binary
// frame's payload), finds the channel by topic and calls its callback. Nothing else: no
// heartbeat, no reconnect, no token, no statuses.

export type Listener = (payload: unknown) => void

export interface Floor {
  /** Resolves once every topic's join was answered `ok`. */
  ready: Promise<void>
  close(): void
}

const utf8 = new TextDecoder()

export function connectFloor(url: string, key: string, topics: string[], listener: Listener): Floor {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${encodeURIComponent(key)}&vsn=2.0.0`)
  ws.binaryType = 'arraybuffer'
  const byTopic = new Map<string, Listener>()
  const pending = new Set<string>()
  let joined: () => void
  let failed: (e: Error) => void
  const ready = new Promise<void>((ok, fail) => ((joined = ok), (failed = fail)))
  ws.onopen = () => {
    topics.forEach((name, i) => {
      const topic = `realtime:${name}`
      byTopic.set(topic, listener)
      pending.add(String(i + 1))
      const config = { broadcast: { self: false, ack: false }, presence: { key: '', enabled: false }, postgres_changes: [], private: false }
      ws.send(JSON.stringify([String(i + 1), String(i + 1), topic, 'phx_join', { config, access_token: key }]))
    })
  }
  ws.onerror = () => failed(new Error('floor socket failed'))
  ws.onmessage = (e: MessageEvent) => {
    const data = e.data
    if (typeof data === 'string') {
      const m = JSON.parse(data) as [string | null, string | null, string, string, { event?: string; payload?: unknown; status?: string }]
      if (m[3] === 'broadcast') byTopic.get(m[2])?.(m[4].payload)
      else if (m[3] === 'phx_reply' && m[1] && pending.delete(m[1])) {
        if (m[4].status !== 'ok') failed(new Error(`join refused: ${JSON.stringify(m[4])}`))
        else if (pending.size === 0) joined()
      }
      return
    }
    // Kind 4: kind, topic_len, event_len, meta_len, encoding, topic, event, meta, payload.
    const view = new DataView(data as ArrayBuffer)
    if (view.getUint8(0) !== 4) return
    const topicLen = view.getUint8(1)
    const eventLen = view.getUint8(2)
    const metaLen = view.getUint8(3)
    const start = 5 + topicLen + eventLen + metaLen
    const bytes = new Uint8Array(data as ArrayBuffer)
    const topic = utf8.decode(bytes.subarray(5, 5 + topicLen))
    const payload = view.getUint8(4) === 1 ? JSON.parse(utf8.decode(bytes.subarray(start))) : bytes.subarray(start)
    byTopic.get(topic)?.(payload)
  }
  return { ready, close: () => ws.close() }
}
