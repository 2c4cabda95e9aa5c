// The page watching its own Realtime socket, for the timeline: the demo wraps the browser's
// WebSocket before the SDK starts and reports each connect (which key it presented), each
// join and token push (the token's role and expiry, never the token) and each close. It only
// observes: frames go out unchanged. (authwire itself needs none of this.)

/** A JWT's claims the timeline shows; `null` for an opaque key such as `sb_publishable_…`. */
export interface TokenInfo {
  role?: string
  sub?: string
  exp?: number
}

export type WireEvent =
  | { kind: 'connect'; key: string; token: TokenInfo | null }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'join' | 'access_token' | 'leave'; topic: string; token: TokenInfo | null }

/** The claims of a JWT, without verifying it; `null` if `token` is not a JWT. */
export function claims(token: string | null | undefined): TokenInfo | null {
  const part = token?.split('.')[1]
  if (!part) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    const c = JSON.parse(json) as TokenInfo
    return { role: c.role, sub: c.sub, exp: c.exp }
  } catch {
    return null
  }
}

/** What kind of key a socket presented: never the key itself. */
function describeKey(key: string | null): string {
  if (!key) return 'no apikey'
  if (key.startsWith('sb_publishable_')) return 'publishable project key (sb_publishable_…, not a JWT)'
  if (key.startsWith('sb_')) return 'opaque project key (sb_…)'
  const c = claims(key)
  if (!c) return 'a key that is not a JWT'
  return c.sub ? `user access token (${c.role})` : `project JWT (${c.role})`
}

/** A decoded Phoenix frame (V1 object or V2 array JSON); binary frames are skipped. */
function frame(data: unknown): { topic: string; event: string; payload: Record<string, unknown> } | null {
  if (typeof data !== 'string') return null
  try {
    const f = JSON.parse(data) as unknown
    if (Array.isArray(f)) return { topic: String(f[2]), event: String(f[3]), payload: (f[4] ?? {}) as Record<string, unknown> }
    const o = f as { topic: string; event: string; payload?: Record<string, unknown> }
    return { topic: o.topic, event: o.event, payload: o.payload ?? {} }
  } catch {
    return null
  }
}

/** Installs the wrapper once; `report` gets every event (call before the SDK connects). */
export function tapWebSocket(report: (e: WireEvent) => void): void {
  const Native = window.WebSocket
  class Tapped extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      const key = new URL(String(url)).searchParams.get('apikey')
      report({ kind: 'connect', key: describeKey(key), token: claims(key) })
      this.addEventListener('close', (e) => report({ kind: 'close', code: e.code, reason: e.reason }))
    }
    override send(data: string | Blob | BufferSource): void {
      const f = frame(data)
      const token = (t: unknown) => claims(typeof t === 'string' ? t : null)
      if (f?.event === 'phx_join') report({ kind: 'join', topic: f.topic, token: token(f.payload.access_token) })
      else if (f?.event === 'access_token') report({ kind: 'access_token', topic: f.topic, token: token(f.payload.access_token) })
      else if (f?.event === 'phx_leave') report({ kind: 'leave', topic: f.topic, token: null })
      super.send(data)
    }
  }
  window.WebSocket = Tapped
}
