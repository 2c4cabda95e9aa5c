// supabase-js app code: creating and passing the client. Compiled against authwire
// (tests/tsconfig.json) and against @supabase/supabase-js 2.119.1 (tests/tsconfig.supabase.json),
// with nothing but the module name changed.
import { createClient, type SupabaseClient, type SupabaseClientOptions } from 'authwire'
import type { Database } from './database'

declare const url: string
declare const anonKey: string

// 1. The generated Database type as the type argument; the client type annotated with it.
export const supabase: SupabaseClient<Database> = createClient<Database>(url, anonKey)

// 2. A helper that takes the typed client, as app code passes it around.
export function makeService(client: SupabaseClient<Database>) {
  return { client, channelFor: (room: string) => client.channel(`room:${room}`) }
}
makeService(supabase)

// 3. A non-default schema as the second type argument.
const audit: SupabaseClient<Database, 'audit'> = createClient<Database, 'audit'>(url, anonKey, { db: { schema: 'audit' } })
void audit

// 4. No type argument: the untyped client (Database = any).
const untyped = createClient(url, anonKey)
const alsoUntyped: SupabaseClient = untyped
void alsoUntyped

// 5. The options a browser app passes: every key supabase-js documents for a browser client.
const options: SupabaseClientOptions<'public'> = {
  db: { schema: 'public' },
  auth: {
    persistSession: true,
    autoRefreshToken: true,
    detectSessionInUrl: true,
    flowType: 'pkce',
    storageKey: 'sb-app-auth-token',
    storage: globalThis.localStorage,
  },
  realtime: { params: { eventsPerSecond: 10 }, heartbeatIntervalMs: 15_000, timeout: 10_000, logLevel: 'info' },
  global: { headers: { 'x-application-name': 'band-practice' }, fetch: (...args) => fetch(...args) },
}
createClient<Database>(url, anonKey, options)

// 6. Keys authwire accepts and ignores (documented on each key in the declarations).
createClient<Database>(url, anonKey, {
  auth: {
    debug: false,
    lock: async (_name, _timeout, fn) => await fn(),
    lockAcquireTimeout: 5_000,
    throwOnError: false,
    skipAutoInitialize: false,
    experimental: { passkey: false },
    userStorage: globalThis.sessionStorage,
  },
  realtime: {
    heartbeatCallback: (status, latency) => console.log(status, latency),
    disconnectOnEmptyChannelsAfterMs: 30_000,
    transport: WebSocket,
    workerUrl: '/worker.js',
    headers: { 'x-a': 'b' },
    log_level: 'warn',
    logger: (kind: string, msg: string, data?: any) => console.log(kind, msg, data),
    reconnectAfterMs: (tries: number) => Math.min(tries * 1_000, 10_000),
    worker: true,
  },
  storage: { useNewHostname: false },
  tracePropagation: false,
  db: { timeout: 5_000, urlLengthLimit: 8_000, retry: true },
})

// 7. Third-party auth: the `accessToken` option.
declare function clerkToken(): Promise<string | null>
createClient<Database>(url, anonKey, { accessToken: async () => (await clerkToken()) ?? null })

// 8. A custom storage adapter (async, as React Native / Capacitor apps write one).
const memory = new Map<string, string>()
createClient<Database>(url, anonKey, {
  auth: {
    storage: {
      getItem: async (key: string) => memory.get(key) ?? null,
      setItem: async (key: string, value: string) => void memory.set(key, value),
      removeItem: async (key: string) => void memory.delete(key),
    },
  },
})
