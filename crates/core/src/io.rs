//! What goes into the core ([`Input`]) and what comes out ([`Output`]).
//!
//! Side work (a WebSocket, an HTTP request, a storage write, a lock) is an output tagged with
//! an id; its result comes back as an input carrying the same id. Results whose id the core no
//! longer waits for are dropped (a reply to a superseded request, a frame from an old socket).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

pub use authwire_wire::frame::WireMsg;

use crate::error::{AuthError, ChannelError, ChannelOpError, PushError};

/// One WebSocket connection attempt. Frames and closes of older connections are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// Tags a side request (HTTP, storage, lock, digest) so its reply can be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Names an application command whose completion is reported later by
/// [`AppEvent::Done`] or [`AppEvent::PushDone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub u64);

/// A channel handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub u32);

/// What the shell feeds the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The WebSocket of `conn` opened.
    SocketOpened {
        /// The connection.
        conn: ConnId,
    },
    /// A message arrived on `conn`.
    SocketMessage {
        /// The connection.
        conn: ConnId,
        /// The message.
        msg: WireMsg,
    },
    /// `conn` closed (or failed to open: a refused handshake is code 1006 in a browser).
    SocketClosed {
        /// The connection.
        conn: ConnId,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// An HTTP response (any status).
    HttpResponse {
        /// The request.
        id: RequestId,
        /// HTTP status.
        status: u16,
        /// The body text.
        body: String,
    },
    /// An HTTP request failed without a response (network, CORS, abort).
    HttpFailed {
        /// The request.
        id: RequestId,
        /// What the runtime said (never contains tokens).
        message: String,
    },
    /// The result of a [`StorageOp`].
    Storage {
        /// The request.
        id: RequestId,
        /// `Ok(value)` for a get (`None` when absent) or `Ok(None)` for a set/remove;
        /// `Err(message)` when the storage threw (quota, access denied).
        result: Result<Option<String>, String>,
    },
    /// Another tab changed the session key (a `storage` event).
    StorageChanged {
        /// The new value, as the event carried it (for traces: the event can arrive after
        /// this tab's own later write, so the auth machine reads storage again instead).
        value: Option<String>,
    },
    /// A lock request was granted.
    LockGranted {
        /// The lock request.
        id: RequestId,
    },
    /// A lock request timed out, or the runtime has no locks.
    LockUnavailable {
        /// The lock request.
        id: RequestId,
    },
    /// A message from another tab on the session's BroadcastChannel.
    TabMessage {
        /// The message text.
        data: String,
    },
    /// The result of a [`Output::Digest`] request: SHA-256 of the data, base64url.
    Digest {
        /// The request.
        id: RequestId,
        /// The digest, or `None` when the runtime has no WebCrypto.
        b64url: Option<String>,
    },
    /// The result of an [`Output::Verify`].
    Verified {
        /// The request.
        id: RequestId,
        /// `true` when the signature is valid.
        ok: bool,
    },
    /// The token from the application's `accessToken()` callback (third-party auth).
    AccessToken {
        /// The token, or `None`.
        token: Option<String>,
    },
    /// The application's `accessToken()` callback threw; the previous token stays.
    AccessTokenFailed {
        /// What it threw (never contains tokens).
        message: String,
    },
    /// Page visibility changed.
    Visibility {
        /// `true` when visible.
        visible: bool,
    },
    /// Network connectivity changed (`online` / `offline` events).
    Online {
        /// `true` when online.
        online: bool,
    },
    /// The page came back from the back/forward cache or the device woke (`pageshow`).
    Wake,
    /// The answer to [`Output::ReconnectDelay`]: what the application's
    /// `reconnectAfterMs(tries)` returned (`None` when it threw or returned no usable number:
    /// the default policy decides then).
    ReconnectDelay {
        /// The delay before the next connection attempt.
        ms: Option<u64>,
    },
    /// The answer to [`Output::Entropy`]: bytes of the runtime's CSPRNG
    /// (`crypto.getRandomValues`), or `None` when it has none. Secrets are made of these bytes
    /// only ([`crate::rng::Entropy`]).
    Entropy {
        /// The fresh bytes.
        bytes: Option<Vec<u8>>,
    },
    /// The deadline from `poll_timeout` passed (an early call is harmless).
    Timeout,
}

/// A storage operation on the session storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOp {
    /// Read `key`.
    Get(String),
    /// Write `value` at `key`.
    Set(String, String),
    /// Delete `key`.
    Remove(String),
}

/// A lock operation (Web Locks), used for cross-tab refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOp {
    /// Acquire the exclusive lock `name`, giving up after `timeout_ms`.
    Acquire {
        /// The lock name.
        name: String,
        /// How long to wait.
        timeout_ms: u64,
    },
    /// Release the lock acquired by request `of`, or stop waiting for it.
    Release {
        /// The acquire request.
        of: RequestId,
    },
}

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, …
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body text, if any.
    pub body: Option<String>,
}

/// Heartbeat outcomes reported to `onHeartbeat` listeners (protocol reference §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatStatus {
    /// A heartbeat was sent.
    Sent,
    /// The reply was `ok`.
    Ok,
    /// The reply was not `ok`.
    Error,
    /// No reply nor any other frame within the deadline: the socket is closed and reconnected.
    Timeout,
}

impl HeartbeatStatus {
    /// Every name, in declaration order (the TS union `HeartbeatStatus` is checked against it).
    pub const NAMES: &'static [&'static str] = &["sent", "ok", "error", "timeout"];
    /// The realtime-js name.
    pub fn as_str(self) -> &'static str {
        match self {
            HeartbeatStatus::Sent => "sent",
            HeartbeatStatus::Ok => "ok",
            HeartbeatStatus::Error => "error",
            HeartbeatStatus::Timeout => "timeout",
        }
    }
}

/// A channel's subscribe status (realtime-js names, plus `RECOVERING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeStatus {
    /// Joined; bindings matched.
    Subscribed,
    /// No join reply in time.
    TimedOut,
    /// Left, or closed by the server.
    Closed,
    /// The join failed or the channel errored; a rejoin is scheduled.
    ChannelError,
    /// The server ended the channel because its token expired; authwire is refreshing the
    /// session and will rejoin (guarantee G6).
    Recovering,
}

impl SubscribeStatus {
    /// Every name, in declaration order (the TS union `SubscribeStatus` is checked against it).
    pub const NAMES: &'static [&'static str] = &["SUBSCRIBED", "TIMED_OUT", "CLOSED", "CHANNEL_ERROR", "RECOVERING"];
    /// The status string given to `subscribe` callbacks.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscribeStatus::Subscribed => "SUBSCRIBED",
            SubscribeStatus::TimedOut => "TIMED_OUT",
            SubscribeStatus::Closed => "CLOSED",
            SubscribeStatus::ChannelError => "CHANNEL_ERROR",
            SubscribeStatus::Recovering => "RECOVERING",
        }
    }
}

/// The outcome of a channel push (`send`, `track`, `untrack`, `unsubscribe`), as the strings
/// realtime-js resolves with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// `'ok'`
    Ok,
    /// `'timed out'`
    TimedOut,
    /// `'error'`, with the reason.
    Error(PushError),
}

impl PushOutcome {
    /// Every name, in declaration order (the TS union `RealtimeChannelSendResponse`).
    pub const NAMES: &'static [&'static str] = &["ok", "timed out", "error"];

    /// `'ok'`, `'timed out'` or `'error'`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PushOutcome::Ok => "ok",
            PushOutcome::TimedOut => "timed out",
            PushOutcome::Error(_) => "error",
        }
    }
}

/// A presence change on a channel. Metas are JSON object texts in realtime-js's shape
/// (`presence_ref` instead of `phx_ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceEvent {
    /// The state changed (after a `presence_state` or `presence_diff`).
    Sync,
    /// Metas joined `key`.
    Join {
        /// The presence key.
        key: String,
        /// The metas of `key` before the join.
        current: Vec<String>,
        /// The joined metas.
        new: Vec<String>,
    },
    /// Metas left `key`.
    Leave {
        /// The presence key.
        key: String,
        /// The metas of `key` that remain.
        current: Vec<String>,
        /// The metas that left.
        left: Vec<String>,
    },
    /// A meta of `key` was replaced by a new `track()` (authwire's single event for what
    /// Phoenix reports as a join plus a leave).
    Update {
        /// The presence key.
        key: String,
        /// The replacing metas.
        new: Vec<String>,
        /// The replaced metas.
        old: Vec<String>,
    },
}

/// Auth state changes, as supabase-js names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEvent {
    /// First event of every listener: the session as loaded (or none).
    InitialSession,
    /// A session began (sign-in, or a different user).
    SignedIn,
    /// The session ended.
    SignedOut,
    /// A new access token for the same session.
    TokenRefreshed,
    /// The user object changed.
    UserUpdated,
    /// A recovery link or code was used.
    PasswordRecovery,
}

impl AuthEvent {
    /// Every name, in declaration order (the TS union `AuthChangeEvent` is checked against it).
    pub const NAMES: &'static [&'static str] =
        &["INITIAL_SESSION", "SIGNED_IN", "SIGNED_OUT", "TOKEN_REFRESHED", "USER_UPDATED", "PASSWORD_RECOVERY"];
    /// The supabase-js event name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthEvent::InitialSession => "INITIAL_SESSION",
            AuthEvent::SignedIn => "SIGNED_IN",
            AuthEvent::SignedOut => "SIGNED_OUT",
            AuthEvent::TokenRefreshed => "TOKEN_REFRESHED",
            AuthEvent::UserUpdated => "USER_UPDATED",
            AuthEvent::PasswordRecovery => "PASSWORD_RECOVERY",
        }
    }
    /// Types a supabase-js event name (from another tab).
    pub fn parse(s: &str) -> Option<AuthEvent> {
        Some(match s {
            "INITIAL_SESSION" => AuthEvent::InitialSession,
            "SIGNED_IN" => AuthEvent::SignedIn,
            "SIGNED_OUT" => AuthEvent::SignedOut,
            "TOKEN_REFRESHED" => AuthEvent::TokenRefreshed,
            "USER_UPDATED" => AuthEvent::UserUpdated,
            "PASSWORD_RECOVERY" => AuthEvent::PasswordRecovery,
            _ => return None,
        })
    }
}

// Realtime's state names are listed here, with the other names that cross the JS boundary,
// so one file holds every string the TS unions are checked against.
impl crate::realtime::channel::ChannelState {
    /// Every name, in declaration order (the TS union `RealtimeChannelState`).
    pub const NAMES: &'static [&'static str] = &["closed", "joining", "joined", "leaving", "errored"];
}

impl crate::realtime::ConnectionState {
    /// Every name, in declaration order (the TS union `RealtimeConnectionState`).
    pub const NAMES: &'static [&'static str] = &["closed", "connecting", "open"];
}

/// An `onAuthStateChange` listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub u32);

/// Something the application should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    /// A channel's subscribe status changed.
    ChannelStatus {
        /// The channel.
        channel: ChannelId,
        /// The status.
        status: SubscribeStatus,
        /// Why, for `CHANNEL_ERROR`, `TIMED_OUT`, `RECOVERING` and server closes.
        error: Option<ChannelError>,
    },
    /// A broadcast arrived. `payload` is the JSON text realtime-js hands to listeners
    /// (`{type, event, payload, meta?}`); binary user payloads come in `binary`.
    Broadcast {
        /// The channel.
        channel: ChannelId,
        /// The application event name (listeners filter on it).
        event: String,
        /// The message JSON text.
        payload: String,
        /// Binary user data (kind-4 encoding 0), if any; the JS shell puts it at `payload`.
        binary: Option<Vec<u8>>,
    },
    /// A presence change.
    Presence {
        /// The channel.
        channel: ChannelId,
        /// What changed.
        event: PresenceEvent,
    },
    /// A Postgres change matched these bindings of the channel. `payload` is the JSON text in
    /// realtime-js's shape before column-type conversion: `{schema, table, commit_timestamp,
    /// eventType, new, old, errors, columns}`.
    PostgresChange {
        /// The channel.
        channel: ChannelId,
        /// Local binding indices (as returned when the binding was added).
        bindings: Vec<u32>,
        /// The change JSON text.
        payload: String,
    },
    /// A `system` message (JSON text of its payload).
    System {
        /// The channel.
        channel: ChannelId,
        /// The payload JSON text, as the server sent it.
        payload: String,
        /// authwire's code for it, added to what the listeners get: `invalid_filter` for the
        /// server's `postgres_changes` error on a channel whose filter authwire also refused.
        code: Option<&'static str>,
    },
    /// A push finished.
    PushDone {
        /// The command that started it.
        ticket: Ticket,
        /// How it ended.
        outcome: PushOutcome,
    },
    /// An `httpSend()` finished: `Ok` for a 202, else why (realtime-js rejects then).
    HttpSendDone {
        /// The command that started it.
        ticket: Ticket,
        /// How it ended.
        result: Result<(), ChannelOpError>,
    },
    /// An auth state change for one listener (`INITIAL_SESSION`) or all of them.
    AuthChange {
        /// `Some` for an event meant for one listener only.
        listener: Option<ListenerId>,
        /// The event.
        event: AuthEvent,
        /// The session JSON (supabase-js shape), or `None`.
        session: Option<String>,
    },
    /// An auth command finished: `Ok(data JSON)` or the error. The data JSON is the `data`
    /// member of supabase-js's `{ data, error }` result.
    Done {
        /// The command.
        ticket: Ticket,
        /// Its result.
        result: Result<String, AuthError>,
    },
    /// A heartbeat event.
    Heartbeat {
        /// What happened.
        status: HeartbeatStatus,
        /// Round-trip time for `ok`/`error`.
        latency_ms: Option<u64>,
    },
}

/// Log severities (the shell routes them to the configured logger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Diagnostic detail.
    Info,
    /// Something unexpected that the core handled.
    Warn,
    /// Something the application should know.
    Error,
}

/// What the core asks the shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a WebSocket to `url` (computed now, guarantee G7) for connection `conn`.
    Connect {
        /// The connection id to report events with.
        conn: ConnId,
        /// The URL, including `apikey` and `vsn`.
        url: String,
    },
    /// Send a message on `conn`.
    Send {
        /// The connection.
        conn: ConnId,
        /// The message.
        msg: WireMsg,
    },
    /// Close `conn`.
    Close {
        /// The connection.
        conn: ConnId,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: &'static str,
    },
    /// Run an HTTP request and report [`Input::HttpResponse`] or [`Input::HttpFailed`].
    Http {
        /// The id to report with.
        id: RequestId,
        /// The request.
        request: HttpRequest,
    },
    /// Abort HTTP request `id` (its answer is no longer awaited); no report.
    CancelHttp {
        /// The request.
        id: RequestId,
    },
    /// Call the application's `reconnectAfterMs(tries)` and report [`Input::ReconnectDelay`]
    /// at once, before draining further: the core cannot call JS itself.
    ReconnectDelay {
        /// realtime-js's `tries`: the number of this attempt since the socket was last open
        /// (1 for the first reconnect).
        tries: u32,
    },
    /// Draw `len` bytes from the runtime's CSPRNG and report [`Input::Entropy`] at once,
    /// before draining further (the core keeps a reserve for secrets; it has no randomness
    /// of its own).
    Entropy {
        /// How many bytes.
        len: usize,
    },
    /// Run a storage operation and report [`Input::Storage`].
    Storage {
        /// The id to report with.
        id: RequestId,
        /// The operation.
        op: StorageOp,
    },
    /// Acquire or release a lock; an acquire reports [`Input::LockGranted`] or
    /// [`Input::LockUnavailable`].
    Lock {
        /// The id to report with (for a release: a fresh id, no reply).
        id: RequestId,
        /// The operation.
        op: LockOp,
    },
    /// Post a message to the other tabs.
    TabPost(String),
    /// Replace the page URL (without reloading) after a session was taken from it.
    ReplaceUrl(String),
    /// Verify a JWT signature with WebCrypto and report [`Input::Verified`].
    Verify {
        /// The id to report with.
        id: RequestId,
        /// `ES256` or `RS256`.
        alg: String,
        /// The public key (JWK JSON text).
        jwk: String,
        /// The signed text (`header.payload`).
        signed: String,
        /// The signature, base64url.
        signature: String,
    },
    /// Compute SHA-256 of `data` and report [`Input::Digest`].
    Digest {
        /// The id to report with.
        id: RequestId,
        /// The text to hash (UTF-8).
        data: String,
    },
    /// Call the application's `accessToken()` callback and report [`Input::AccessToken`]
    /// (third-party auth).
    FetchAccessToken,
    /// Deliver an event to the application.
    Event(AppEvent),
    /// A log line (tokens already redacted).
    Log(Level, String),
}

/// The queue of outputs plus the id counters, shared by the core's state machines.
#[derive(Debug, Default)]
pub struct Outbox {
    queue: VecDeque<Output>,
    next_request: u64,
}

impl Outbox {
    /// Queues an output.
    pub fn push(&mut self, o: Output) {
        self.queue.push_back(o);
    }
    /// Queues an application event.
    pub fn event(&mut self, e: AppEvent) {
        self.queue.push_back(Output::Event(e));
    }
    /// Queues a log line.
    pub fn log(&mut self, level: Level, msg: String) {
        self.queue.push_back(Output::Log(level, msg));
    }
    /// A fresh request id.
    pub fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }
    /// The next output, oldest first.
    pub fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }
    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
    /// How many outputs are queued (a mark for [`Outbox::events_since`]).
    pub fn len(&self) -> usize {
        self.queue.len()
    }
    /// The events queued after `mark` (a [`Outbox::len`] taken earlier), to amend before they
    /// leave: `destroy()` says `destroyed` where the halves it shut down said why in their terms.
    pub(crate) fn events_since(&mut self, mark: usize) -> impl Iterator<Item = &mut AppEvent> {
        self.queue.iter_mut().skip(mark).filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        })
    }
}

/// Concatenates `parts` (the core avoids `format!` to keep `core::fmt` out of the wasm).
pub fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

#[cfg(test)]
mod tests;
