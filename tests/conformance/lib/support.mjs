// Helpers for the conformance suite: the official supabase-js against a real authwire-dev —
// its clients, the suite's fixture, barriers for "must not arrive" checks, forged tokens and
// raw handshakes. Waiting lives in ../../support/wait.mjs, the devserver's /_dev surface in
// ../../support/dev.mjs.
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { createHmac, randomUUID } from 'node:crypto'
import http from 'node:http'
import { fixture, email } from '../../support/fixture.mjs'
import { waitFor, within, subscribe } from '../../support/wait.mjs'
import { commitBarrier, BARRIER_EVENT } from '../../support/dev.mjs'

export const PASSWORD = 'correct-horse-1'

/** supabase-js clients for one server; `closeAll()` ends their sockets and timers. */
export class Clients {
  constructor(server) {
    this.server = server
    this.list = []
  }

  /** A client with `key` (the publishable key by default), Node's `ws` as the transport. */
  make(key = this.server.config.publishableKey, options = {}) {
    const c = createClient(this.server.url, key, {
      ...options,
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, ...options.auth },
      realtime: { transport: WebSocket, ...options.realtime },
    })
    this.list.push(c)
    return c
  }

  /** A client signed up (and so signed in) as a new user. */
  async user(tag, options) {
    const c = this.make(undefined, options)
    const address = email(tag)
    const { data, error } = await c.auth.signUp({ email: address, password: PASSWORD })
    if (error) throw error
    c.email = address
    c.session = data.session
    c.userId = data.user.id
    // What the docs ask for before private channels: hand the session's token to Realtime.
    await c.realtime.setAuth()
    return c
  }

  async closeAll() {
    for (const c of this.list) {
      try {
        c.auth.stopAutoRefresh?.()
      } catch {}
      // Disconnect first: leaving joined channels over an open socket leaves 10 s leave-push
      // timers behind, which keep the process alive. A teardown must not hang: 1 s at most.
      await within(c.realtime.disconnect(), { timeoutMs: 1000, what: 'disconnect' }).catch(() => {})
      await c.removeAllChannels().catch(() => {})
    }
    this.list = []
  }
}

/**
 * The fixture of a conformance file: devservers by name (`{ name: startDevserver options }`,
 * one of them named `server`) and `f.clients`, supabase-js clients for `f.server`.
 */
export function conformanceFixture(servers) {
  return fixture({
    servers,
    setup: (f) => {
      f.clients = new Clients(f.server)
    },
    teardown: (f) => f.clients?.closeAll(),
  })
}

/**
 * Adds a listener for change-feed barriers to a supabase-js channel (before it subscribes);
 * returns the channel.
 */
export function withBarrier(channel) {
  channel.barriers = new Set()
  return channel.on('broadcast', { event: BARRIER_EVENT }, (m) => channel.barriers.add(m.payload.id))
}

/**
 * Waits until a change-feed barrier committed now has reached each channel (made with
 * `withBarrier`): then every change committed before now that was going to reach their sockets
 * has (`commitBarrier`).
 */
export async function feedBarrier(server, channels) {
  const topics = channels.map((ch) => ({ name: ch.subTopic, private: !!ch.params?.config?.private }))
  const id = await commitBarrier(server, topics)
  await waitFor(() => channels.every((ch) => ch.barriers.has(id)), {
    what: () => `the change-feed barrier on ${channels.filter((ch) => !ch.barriers.has(id)).map((ch) => ch.subTopic)}`,
  })
}

/**
 * Waits until a broadcast sent now over HTTP to a channel of `client`'s own has reached it.
 * The hub queues every message for a socket on one outbox, sent in order: so everything queued
 * for `client`'s socket before this call (a broadcast another socket has had acknowledged, say)
 * has been delivered to its listeners by then.
 */
export async function fanoutBarrier(client) {
  client.fanout ??= (async () => {
    const seen = new Set()
    const channel = await subscribe(client.channel(`fanout-barrier-${randomUUID()}`).on('broadcast', { event: 'barrier' }, (m) => seen.add(m.payload.id)))
    return { channel, seen }
  })()
  const { channel, seen } = await client.fanout
  const id = randomUUID()
  const sent = await channel.httpSend('barrier', { id })
  if (!sent.success) throw new Error(`fan-out barrier not sent: ${JSON.stringify(sent)}`)
  await waitFor(() => seen.has(id), { what: `the fan-out barrier on ${channel.subTopic}` })
}

const b64url = (b) => Buffer.from(b).toString('base64url')

/** An HS256 JWT signed with `secret` (raw UTF-8 bytes, as the project secret is used). */
export function signHS256(claims, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

export const now = () => Math.floor(Date.now() / 1000)

export function decodeJwt(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
}

/**
 * A raw WebSocket upgrade request: what a browser cannot show (status and body of a refused
 * handshake). Resolves `{ status, headers, body }`; a 101 is closed at once.
 */
export function rawUpgrade(serverUrl, path, headers = {}) {
  const u = new URL(path, serverUrl)
  return new Promise((ok, fail) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from(randomUUID().slice(0, 16)).toString('base64'),
        ...headers,
      },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      ok({ status: res.statusCode, headers: res.headers, body: '' })
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('error', fail)
    req.end()
  })
}
