// Helpers for the conformance suite: the official supabase-js against a real authwire-dev.
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import { createHmac, randomUUID } from 'node:crypto'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import http from 'node:http'

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms))

/** A fresh address per call (auth state is per email: rate limits, codes). */
export const email = (tag) => `${tag}-${randomUUID().slice(0, 8)}@conformance.test`
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
      // timers behind, which keep the process alive.
      await Promise.race([c.realtime.disconnect(), sleep(1000)])
      await c.removeAllChannels().catch(() => {})
    }
    this.list = []
  }
}

/** Resolves with the channel on SUBSCRIBED; rejects on CHANNEL_ERROR / TIMED_OUT with the reason. */
export function subscribe(channel, timeoutMs) {
  return new Promise((ok, fail) =>
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') ok(channel)
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        const e = new Error(`${status}: ${err?.message}`)
        e.status = status
        e.reason = err?.message
        fail(e)
      }
    }, timeoutMs),
  )
}

/** Subscribes and records every status with its error message. */
export function statuses(channel) {
  const seen = []
  channel.subscribe((status, err) => seen.push(err ? [status, err.message] : [status]))
  return seen
}

export async function waitFor(pred, { timeoutMs = 5000, what = 'condition' } = {}) {
  const t0 = Date.now()
  for (;;) {
    const v = await pred()
    if (v) return v
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
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

/** A `/_dev` or other request with the service role. */
export async function service(server, path, init = {}) {
  const r = await fetch(server.url + path, {
    ...init,
    headers: { apikey: server.config.secretKey, 'content-type': 'application/json', ...init.headers },
  })
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: r.status, json, text, headers: r.headers }
}

/** The newest mail to `address` (`/_dev/mail`). */
export async function lastMail(server, address) {
  const r = await service(server, `/_dev/mail?email=${encodeURIComponent(address)}`)
  if (r.status !== 200) throw new Error(`/_dev/mail ${r.status} ${r.text}`)
  return r.json.messages[0]
}

/** Where the managed cluster lives (`<data-dir>/cluster.json`). */
export function cluster(server) {
  return JSON.parse(readFileSync(join(server.dataDir, 'cluster.json'), 'utf8'))
}

/** Runs SQL on the devserver's own database as the cluster's superuser (psql over its socket). */
export function psql(server, sql) {
  const c = cluster(server)
  const psqlBin = join(c.bindir, 'psql')
  return new Promise((ok, fail) =>
    execFile(
      psqlBin,
      ['-h', c.socketDir, '-p', String(c.port), '-U', c.osUser, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql],
      (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(stdout.trim())),
    ),
  )
}
