//! authwire's browser shell: the only code that touches the browser. It exports the
//! TypeScript API (`createClient`, channels, auth), runs one driver that feeds the sans-IO
//! core ([`authwire_core::Client`]) and executes its outputs through `js/glue.js`.
//!
//! On non-wasm targets this crate is empty: the core and the wire format are tested natively
//! in their own crates.
#![cfg_attr(all(target_arch = "wasm32", feature = "runtime"), no_std)]

extern crate alloc;

#[cfg(all(target_arch = "wasm32", feature = "runtime"))]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic is a bug; with `panic = "abort"` there is nothing to unwind, and a message would
/// drag `core::fmt` into the wasm. The module traps; the JS glue surfaces the trap.
#[cfg(all(target_arch = "wasm32", feature = "runtime"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod host;

#[cfg(target_arch = "wasm32")]
pub use api::{create_client, AuthwireClient, RealtimeApi, RealtimeChannel};

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Subscribe statuses; `RECOVERING` is authwire's (the server closed the channel because its token expired and authwire is refreshing and rejoining). */
export type SubscribeStatus = 'SUBSCRIBED' | 'TIMED_OUT' | 'CLOSED' | 'CHANNEL_ERROR' | 'RECOVERING';
export type RealtimeChannelState = 'closed' | 'joining' | 'joined' | 'leaving' | 'errored';
export type HeartbeatStatus = 'sent' | 'ok' | 'error' | 'timeout';
/** Stable error codes of RealtimeError. */
export type RealtimeErrorCode =
  | 'join_timeout' | 'unauthorized' | 'token_expired' | 'invalid_jwt' | 'rate_limited'
  | 'channel_closed' | 'channel_error' | 'socket_closed' | 'heartbeat_timeout' | 'binding_mismatch'
  | 'signed_out' | 'apikey_not_jwt' | 'user_not_found' | 'session_not_found' | 'user_banned' | 'bad_jwt'
  | 'unknown_channel' | 'already_subscribed' | 'binding_after_subscribe' | 'invalid_filter'
  | 'replay_on_public_channel' | 'topic_too_long' | 'empty_topic' | 'destroyed' | 'payload_not_json'
  | 'unknown_listener_type' | (string & {});
export declare class AuthwireError extends Error {
  code: string;
  status?: number;
}
export declare class RealtimeError extends AuthwireError {
  code: RealtimeErrorCode;
}
export interface AuthwireClientOptions {
  realtime?: {
    vsn?: '1.0.0' | '2.0.0';
    apikey?: 'project' | 'session';
    heartbeatIntervalMs?: number;
    timeout?: number;
    worker?: boolean;
    params?: Record<string, string>;
    logger?: (kind: string, msg: string, data?: unknown) => void;
    logLevel?: 'info' | 'warn' | 'error';
  };
  global?: { headers?: Record<string, string>; fetch?: typeof fetch };
}
export interface RealtimeChannelOptions {
  config?: {
    broadcast?: { self?: boolean; ack?: boolean; replay?: { since: number; limit?: number } };
    presence?: { key?: string; enabled?: boolean };
    private?: boolean;
  };
}
export type RealtimePresence<T extends Record<string, unknown> = Record<string, unknown>> = T & { presence_ref: string };
export interface PresenceJoinPayload { event: 'join'; key: string; currentPresences: RealtimePresence[]; newPresences: RealtimePresence[] }
export interface PresenceLeavePayload { event: 'leave'; key: string; currentPresences: RealtimePresence[]; leftPresences: RealtimePresence[] }
export interface PresenceUpdatePayload { event: 'update'; key: string; newPresences: RealtimePresence[]; oldPresences: RealtimePresence[] }
export interface BroadcastPayload<T = Record<string, unknown>> { type: 'broadcast'; event: string; payload: T | ArrayBuffer; meta?: { id?: string; replayed?: boolean } }
export interface PostgresChangesPayload<T extends Record<string, unknown> = Record<string, unknown>> {
  schema: string; table: string; commit_timestamp: string;
  eventType: 'INSERT' | 'UPDATE' | 'DELETE';
  new: Partial<T>; old: Partial<T>; errors: string[] | null;
}
export interface SystemPayload { extension: 'system' | 'postgres_changes'; status: 'ok' | 'error'; message: string; channel?: string }
export interface PostgresChangesFilter { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; schema: string; table?: string; filter?: string }
/** Creates a client. Throws an `AuthwireError` (`invalid_url`, `missing_key`, `invalid_option`) for a bad configuration. */
export function createClient(url: string, key: string, options?: AuthwireClientOptions): AuthwireClient;
export interface AuthwireClient {
  /** The channel for `realtime:<name>` (the same object for the same name while it is registered). */
  channel(name: string, opts?: RealtimeChannelOptions): RealtimeChannel;
}
export interface RealtimeChannel {
  /** Joins the channel; `cb` receives every status change. Returns the channel. */
  subscribe(cb?: (status: SubscribeStatus, err?: RealtimeError) => void, timeout?: number): RealtimeChannel;
  /** Tracks this client's presence with `state`. */
  track(state: Record<string, unknown>): Promise<'ok' | 'timed out' | 'error'>;
  on(type: 'broadcast', filter: { event: string }, cb: (payload: BroadcastPayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'sync' }, cb: () => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'join' }, cb: (payload: PresenceJoinPayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'leave' }, cb: (payload: PresenceLeavePayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'update' }, cb: (payload: PresenceUpdatePayload) => void): RealtimeChannel;
  on<T extends Record<string, unknown>>(type: 'postgres_changes', filter: PostgresChangesFilter, cb: (payload: PostgresChangesPayload<T>) => void): RealtimeChannel;
  on(type: 'system', filter: Record<string, never>, cb: (payload: SystemPayload) => void): RealtimeChannel;
}
"#;
