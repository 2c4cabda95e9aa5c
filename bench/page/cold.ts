// A cold page (cold-authwire.ts, cold-supabase.ts): the script loads, the client is created
// (authwire: the npm package's default entry, its wasm inflated, compiled and instantiated
// first), and with `?signin=<band>` a user signs in and four private RLS channels join.
// `window.result` gets the times from navigation start, in ms.
declare global {
  interface Window {
    result: Promise<{ ready: number; subscribed?: number }>
  }
}

export type Client = {
  auth: { signInWithPassword(c: { email: string; password: string }): Promise<{ error: unknown }> }
  channel(name: string, opts?: unknown): { subscribe(cb: (s: string, e?: Error) => void): unknown }
}

const q = new URLSearchParams(location.search)
const url = q.get('url') ?? ''
const key = q.get('key') ?? ''

export function run(create: (url: string, key: string) => Promise<Client>): void {
  window.result = measure(create)
}

async function measure(create: (url: string, key: string) => Promise<Client>) {
  const client = await create(url, key)
  const ready = performance.now()
  const band = q.get('signin')
  if (!band) return { ready }
  const { error } = await client.auth.signInWithPassword({ email: q.get('email') ?? '', password: q.get('password') ?? '' })
  if (error) throw error
  await Promise.all(
    ['', ':songs', ':setlists', ':shows'].map(
      (t) =>
        new Promise<void>((ok, fail) =>
          client.channel(`band:${band}${t}`, { config: { private: true } }).subscribe((s, e) => {
            if (s === 'SUBSCRIBED') ok()
            else if (s === 'CHANNEL_ERROR' || s === 'TIMED_OUT') fail(new Error(`${s} ${e?.message}`))
          }),
        ),
    ),
  )
  return { ready, subscribed: performance.now() }
}
