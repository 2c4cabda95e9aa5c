// The slice of `@supabase/supabase-js` that sdk.ts calls (see supabase.js).
export function createClient(
  url: string,
  key: string,
  options?: { realtime?: { logger?: (kind: string, msg: string, data?: unknown) => void } },
): {
  auth: unknown
  from(table: string): unknown
  channel(name: string, opts?: unknown): unknown
  removeChannel(channel: unknown): Promise<unknown>
  realtime: {
    connectionState(): string
    onHeartbeat(cb: (status: string, latencyMs?: number) => void): void
  }
}
