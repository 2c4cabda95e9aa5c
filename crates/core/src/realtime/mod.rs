//! The Realtime half of the core: one socket (connect, heartbeat, refs, reconnect with
//! jitter) and its channels (join, leave, rejoin, pushes, presence, Postgres bindings).
//!
//! It knows nothing about sessions. Every call that may send a join or an `access_token`
//! takes a [`TokenView`], the auth state *at that moment*, from which join payloads are built
//! at send time (G1) and which gates joins, token pushes and channel pushes while auth is
//! unresolved (G2). The [`crate::Client`] decides what the view is; tests pass one directly.
//!
//! This file holds [`Realtime`], its settings and public views, and the channel registry
//! (`channel()`, bindings before `subscribe()`, lookups, `shut_down()`). The registry holds the
//! channels that have not ended: as in realtime-js, a channel leaves it the moment it closes
//! (`unsubscribe()`, `removeChannel()`, a server close), so the same name gives a fresh
//! channel at once, also in the same tick (React StrictMode's subscribe, remove, subscribe).
//! The rest is one `impl Realtime` block per concern:
//!
//! - `socket.rs`: connect (the URL built per connect), open / close / lost, the ref counter
//!   and the one frame send path, heartbeat and health checks, reconnect backoff, online /
//!   offline, idle disconnect.
//! - `join.rs`: subscribe, unsubscribe, joins (payload built at send time) and their replies
//!   and timeouts, rejoin backoff, token changes and `access_token` pushes, recovery after
//!   expiry.
//! - `push.rs`: broadcasts (socket or HTTP), presence track / untrack, the push buffer, push
//!   replies and timeouts; `http.rs`: the HTTP broadcast requests (`send()`'s fallback and
//!   `httpSend()`), held until auth is ready, and their timeouts.
//! - `inbound.rs`: decoding frames, routing them to their channel, turning them into app
//!   events.
//! - `timers.rs`: the timer names and the `handle_timeout` dispatch.
//! - `channel.rs`: one channel's state and its transitions (closed → joining → joined →
//!   closed, errored), its buffered and in-flight pushes.
//! - `bindings.rs`, `presence.rs`: Postgres-change binding ids; presence state and diffs.
//!
//! Where the guarantees are kept on this side:
//! - G1: `join.rs`, `try_join`: the `phx_join` payload is built from the [`TokenView`] passed
//!   when the frame is sent; nothing is buffered pre-built.
//! - G2: every join, token push and channel push waits for `view.ready`: `try_join`,
//!   `push_token_if_stale` and `resume` (`join.rs`), `flush` (`push.rs`); so do HTTP
//!   broadcasts: `http_flush` (`http.rs`).
//! - G3: `join.rs`, `push_token_if_stale`: a joined channel whose server side holds an older
//!   token gets an `access_token` push before any other push, also right after its join reply.
//! - G5: `join.rs`, `token_changed`: on sign-out private channels leave (`signed_out`); the
//!   others, and every channel on a user switch, rejoin with a fresh join.
//! - G6: expiry errors from a join reply (`join.rs`) or a `phx_close` (`inbound.rs`) go to
//!   `recover` (`join.rs`): status `RECOVERING`, [`Signal::TokenExpired`], rejoin on a new token.
//! - G7: `socket.rs`, `ensure_connected`: the URL is built at each (re)connect from
//!   `view.socket_key` (no key, no connect); `reconnect_now` reconnects with a fresh one.

pub mod bindings;
pub mod channel;
mod http;
mod inbound;
mod join;
pub mod presence;
mod push;
mod socket;
#[cfg(test)]
mod tests;
mod timers;

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::Vsn;
use authwire_wire::realtime::{self as rt, JoinConfig, PgChange, TOPIC_PREFIX};

use self::bindings::Registered;
pub use self::channel::Gap;
use self::channel::{Channel, ChannelState};
pub use self::http::HttpChannel;
use self::http::HttpSends;
use self::socket::Sock;
pub use self::socket::NO_STATUS;
use self::timers::Timer;
use crate::backoff::Backoff;
use crate::error::{ChannelError, ChannelOpError};
use crate::io::{ChannelId, Outbox};
use crate::map::VecMap;
use crate::rng::Rng;
use crate::time::{Instant, Millis, Now, UnixTime};
use crate::timer::TimerTable;
pub use crate::token::{TokenChange, TokenView};

/// Realtime settings. Defaults follow realtime-js (protocol reference §10.3) except the
/// reconnect policy, which adds full jitter.
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// The socket endpoint without `/websocket`, e.g. `wss://ref.supabase.co/realtime/v1`.
    pub endpoint: String,
    /// The serializer (`vsn`). Default V2.
    pub vsn: Vsn,
    /// Heartbeat period, and the deadline for a reply (or any frame). Default 25 s (§3).
    pub heartbeat_interval_ms: Millis,
    /// Deadline of a health-check heartbeat sent on wake, `online` or visibility. Default 5 s.
    pub probe_timeout_ms: Millis,
    /// Join, push and HTTP broadcast timeout. Default 10 s (§4.7).
    pub timeout_ms: Millis,
    /// Socket reconnect policy. Default full jitter, base 1 s, cap 5 s.
    pub reconnect: Backoff,
    /// Ask the application for each reconnect delay ([`crate::io::Output::ReconnectDelay`],
    /// its `reconnectAfterMs(tries)`); `reconnect` decides when its answer is unusable.
    pub reconnect_from_app: bool,
    /// Channel rejoin policy after errors. Default 1/2/5/10 s (§4.6).
    pub rejoin: Backoff,
    /// Extra URL query parameters.
    pub params: Vec<(String, String)>,
    /// `log_level` URL parameter (`info`, `warning`, `error`).
    pub log_level: Option<String>,
    /// Pushes buffered per channel before it is joined; the oldest is dropped beyond this.
    /// Default 100 (realtime-js `MAX_PUSH_BUFFER_SIZE`).
    pub push_buffer_limit: usize,
    /// Close the socket this long after the last channel is removed. Default 50 s.
    pub disconnect_on_empty_ms: Option<Millis>,
    /// When a broadcast goes to the HTTP endpoint instead of the socket.
    pub broadcast_fallback: BroadcastFallback,
    /// The largest broadcast or presence payload sent, in bytes of JSON (or binary data);
    /// a larger one is refused with `payload_too_large` before anything is sent. Default
    /// 3,000,000: the server's default tenant limit (`max_payload_size_in_kb` 3000, §6.4),
    /// over which it drops the message (silently without `ack`). `None`: no check.
    pub max_payload_bytes: Option<usize>,
}

/// When `send()` uses the HTTP broadcast endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastFallback {
    /// Only for a channel that is not subscribed: a subscribed channel buffers broadcasts
    /// until it is joined (nothing lost).
    Unsubscribed,
    /// Whenever the channel is not joined on an open socket, as realtime-js does (`send()`
    /// while joining, errored or disconnected goes over HTTP). What `ClientConfig` uses.
    NotJoined,
}

impl RealtimeConfig {
    /// Defaults for `endpoint`.
    pub fn new(endpoint: String) -> Self {
        RealtimeConfig {
            endpoint,
            vsn: Vsn::V2,
            heartbeat_interval_ms: 25_000,
            probe_timeout_ms: 5_000,
            timeout_ms: 10_000,
            reconnect: Backoff::RECONNECT,
            reconnect_from_app: false,
            rejoin: Backoff::REJOIN,
            params: Vec::new(),
            log_level: None,
            push_buffer_limit: 100,
            disconnect_on_empty_ms: Some(50_000),
            broadcast_fallback: BroadcastFallback::Unsubscribed,
            max_payload_bytes: Some(3_000_000),
        }
    }
}

/// Things the realtime half tells the [`crate::Client`] about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The server said the token of generation `generation` expired (G6): refresh unless a
    /// newer token exists already; channels rejoin once one does.
    TokenExpired {
        /// The token generation the channel's server side held.
        generation: u64,
    },
    /// A connection attempt closed before it opened: the handshake was probably refused
    /// (a browser cannot read why).
    RefusedBeforeOpen,
    /// The server refused the token at a join or closed a channel over it (an `access_token`
    /// push, the re-validation timer): `error` is [`ChannelError::Refused`] or
    /// [`ChannelError::InvalidJwt`].
    TokenRefused {
        /// What the channel was told.
        error: ChannelError,
    },
}

/// Socket connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Not connected, and not trying (or waiting for a reconnect).
    Closed,
    /// A connection attempt is under way.
    Connecting,
    /// Connected.
    Open,
}

impl ConnectionState {
    /// The realtime-js string (`connectionState()`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Closed => "closed",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Open => "open",
        }
    }
}

/// Options for [`Realtime::channel`].
#[derive(Debug, Clone, Default)]
pub struct ChannelOptions {
    /// `broadcast.self`.
    pub broadcast_self: bool,
    /// `broadcast.ack`.
    pub broadcast_ack: bool,
    /// `broadcast.replay` (private channels only).
    pub replay: Option<rt::Replay>,
    /// A private channel that rejoins after losing its join asks the server to replay what
    /// it missed (`broadcast.replay` from when it was lost). Default true (`ChannelOptions`
    /// has it off; `Realtime::channel` callers set it: JS `replay: false` turns it off).
    pub replay_on_rejoin: bool,
    /// `presence.key`.
    pub presence_key: Option<String>,
    /// `presence.enabled`.
    pub presence_enabled: bool,
    /// `private`.
    pub private: bool,
}

/// A channel's public view, for `diagnose()` and getters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// The topic.
    pub topic: String,
    /// The state.
    pub state: ChannelState,
    /// `private`.
    pub private: bool,
    /// The role of the token the current join carried.
    pub effective_role: Option<String>,
    /// Waiting for a fresh token (G6).
    pub recovering: bool,
    /// Pushes waiting to be sent.
    pub buffered: usize,
    /// The last gap reported.
    pub last_gap: Option<Gap>,
}

/// The socket and its channels.
#[derive(Debug)]
pub struct Realtime {
    cfg: RealtimeConfig,
    sock: Sock,
    next_conn: u32,
    reconnect_attempt: u32,
    /// [`crate::io::Output::ReconnectDelay`] went out and its answer is awaited.
    reconnect_asked: bool,
    next_ref: u64,
    /// Ref and send time of the heartbeat awaiting its reply.
    heartbeat: Option<(String, Instant)>,
    channels: VecMap<ChannelId, Channel>,
    next_channel: u32,
    /// Channels removed so far (see [`Realtime::channels_removed`]).
    removed: u64,
    /// When the open socket last received a frame (or opened): the server writes in order,
    /// so what it sent before then arrived, and a loss is dated from here.
    heard_at: UnixTime,
    /// Our wall clock minus the monotonic one when last looked at, and how far the wall
    /// clock has jumped (either way) since the token changed: the session's skew was measured
    /// before those jumps, so a replay `since` starts that much earlier (never later).
    clock_base: Option<i64>,
    jumped_ms: i64,
    jumped_gen: u64,
    timers: TimerTable<Timer>,
    rng: Rng,
    /// Connect even with no channel (`connect()` was called).
    manual_connect: bool,
    /// `disconnect()` was called: no socket until `connect()` or a `subscribe()`, as in
    /// realtime-js (its clean close does not reconnect).
    held_down: bool,
    online: bool,
    opened_once: bool,
    last_close: Option<(u16, String)>,
    /// HTTP broadcasts, waiting for auth or in flight.
    http: HttpSends,
    /// `disconnect()` calls waiting for the browser's report of the close.
    disconnects: Vec<crate::io::Ticket>,
    signals: Vec<Signal>,
}

impl Realtime {
    /// A socket that is not connected, with no channels.
    pub fn new(cfg: RealtimeConfig, seed: u64) -> Self {
        Realtime {
            cfg,
            sock: Sock::Idle,
            next_conn: 0,
            reconnect_attempt: 0,
            reconnect_asked: false,
            next_ref: 0,
            heartbeat: None,
            channels: VecMap::new(),
            next_channel: 0,
            removed: 0,
            heard_at: UnixTime::default(),
            clock_base: None,
            jumped_ms: 0,
            jumped_gen: 0,
            timers: TimerTable::default(),
            rng: Rng::new(seed),
            manual_connect: false,
            held_down: false,
            online: true,
            opened_once: false,
            last_close: None,
            http: HttpSends::default(),
            disconnects: Vec::new(),
            signals: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RealtimeConfig {
        &self.cfg
    }

    /// Signals raised since the last call.
    pub fn take_signals(&mut self) -> Vec<Signal> {
        core::mem::take(&mut self.signals)
    }

    /// The earliest deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Socket state.
    pub fn connection_state(&self) -> ConnectionState {
        match self.sock {
            // realtime-js says `closing` while its close completes; authwire's socket is
            // closed for the app the moment `disconnect()` is called.
            Sock::Idle | Sock::Closing(_) => ConnectionState::Closed,
            Sock::Connecting(_) => ConnectionState::Connecting,
            Sock::Open(_) => ConnectionState::Open,
        }
    }

    /// The last close code and reason.
    pub fn last_close(&self) -> Option<&(u16, String)> {
        self.last_close.as_ref()
    }

    /// The channel for `name` (`realtime:<name>`), creating it if no registered channel has
    /// that topic (realtime-js returns the existing instance for the same topic; one that has
    /// ended is not registered).
    pub fn channel(&mut self, name: &str, opts: ChannelOptions) -> Result<ChannelId, ChannelOpError> {
        let mut topic = String::from(TOPIC_PREFIX);
        topic.push_str(name.strip_prefix(TOPIC_PREFIX).unwrap_or(name));
        if topic.len() == TOPIC_PREFIX.len() {
            return Err(ChannelOpError::EmptyTopic);
        }
        if topic.len() > 255 {
            return Err(ChannelOpError::TopicTooLong);
        }
        if opts.replay.is_some() && !opts.private {
            return Err(ChannelOpError::ReplayOnPublicChannel);
        }
        if let Some(id) = self.registered(&topic) {
            return Ok(id);
        }
        let config = JoinConfig {
            broadcast_self: opts.broadcast_self,
            broadcast_ack: opts.broadcast_ack,
            replay: opts.replay,
            presence_key: opts.presence_key.unwrap_or_default(),
            presence_enabled: opts.presence_enabled,
            postgres_changes: Vec::new(),
            private: opts.private,
        };
        self.next_channel += 1;
        let id = ChannelId(self.next_channel);
        let mut ch = Channel::new(topic, config, self.cfg.timeout_ms);
        ch.replay_on_rejoin = opts.replay_on_rejoin;
        self.channels.insert(id, ch);
        self.timers.stop(Timer::IdleDisconnect);
        Ok(id)
    }

    /// The registered channel (not ended) with `topic`: the one frames of that topic are for.
    fn registered(&self, topic: &str) -> Option<ChannelId> {
        self.channels.iter().find(|(_, c)| c.topic == topic && !c.ended()).map(|(id, _)| *id)
    }

    /// The channel `id`, or `unknown channel`.
    fn chan(&mut self, id: ChannelId) -> Result<&mut Channel, ChannelOpError> {
        self.channels.get_mut(&id).ok_or(ChannelOpError::UnknownChannel)
    }

    /// The channel `id` if listeners that shape its join may still be added (not while it is
    /// joining or joined, as realtime-js).
    fn chan_before_join(&mut self, id: ChannelId) -> Result<&mut Channel, ChannelOpError> {
        let ch = self.chan(id)?;
        if ch.join_underway() {
            return Err(ChannelOpError::BindingAfterSubscribe);
        }
        Ok(ch)
    }

    /// Registers a `postgres_changes` listener (before `subscribe()`); returns its local index.
    /// A filter that fails validation is refused.
    pub fn add_postgres_binding(&mut self, id: ChannelId, spec: PgChange) -> Result<u32, ChannelOpError> {
        self.chan_before_join(id)?.bindings.add(spec)
    }

    /// Registers a `postgres_changes` listener as realtime-js does: whatever its filter (the
    /// server reports a bad one), noting why authwire's validation refused it.
    pub fn register_postgres_binding(&mut self, id: ChannelId, spec: PgChange) -> Result<Registered, ChannelOpError> {
        Ok(self.chan_before_join(id)?.bindings.register(spec))
    }

    /// Turns presence on for the join (a `presence` listener was added, as realtime-js does).
    pub fn enable_presence(&mut self, id: ChannelId) -> Result<(), ChannelOpError> {
        self.chan_before_join(id)?.config.presence_enabled = true;
        Ok(())
    }

    /// The registered channels (`getChannels()`), in creation order.
    pub fn channel_ids(&self) -> Vec<ChannelId> {
        self.channels.iter().filter(|(_, c)| !c.ended()).map(|(id, _)| *id).collect()
    }

    /// Every channel, ended ones too (for the loops that must see each state).
    fn all_ids(&self) -> Vec<ChannelId> {
        self.channels.keys().copied().collect()
    }

    /// Forgets the channels that ended: their frames are stale and their ids unknown from now
    /// on. The client calls this after each step, once their last events are out.
    pub fn forget_ended(&mut self) {
        // It runs after every input: the usual answer, none ended, costs one pass.
        if !self.channels.values().any(Channel::ended) {
            return;
        }
        for id in self.all_ids() {
            if self.channels.get(&id).is_some_and(Channel::ended) {
                self.drop_channel(id);
            }
        }
    }

    /// Removes `id` and its timers.
    fn drop_channel(&mut self, id: ChannelId) {
        if self.channels.remove(&id).is_some() {
            self.removed += 1;
        }
        self.clear_channel_timers(id);
    }

    /// Notes a wall-clock jump (over 1 s) since the last look; a new token starts the count
    /// over (its response measured the skew afresh).
    pub(crate) fn watch_clock(&mut self, now: Now, generation: u64) {
        let d = now.wall.as_millis() as i64 - now.mono.as_millis() as i64;
        if let Some(b) = self.clock_base {
            let jump = (d - b).abs();
            if jump > 1_000 {
                self.jumped_ms = self.jumped_ms.saturating_add(jump);
            }
        }
        self.clock_base = Some(d);
        if generation != self.jumped_gen {
            self.jumped_gen = generation;
            self.jumped_ms = 0;
        }
    }

    /// How many channels were removed so far: a shell mirroring the channels looks for the
    /// ones gone only when this moved (it changes far less often than inputs arrive).
    pub fn channels_removed(&self) -> u64 {
        self.removed
    }

    /// A channel's public view.
    pub fn channel_info(&self, id: ChannelId) -> Option<ChannelInfo> {
        self.channels.get(&id).map(|c| ChannelInfo {
            topic: c.topic.clone(),
            state: c.state(),
            private: c.config.private,
            effective_role: c.effective_role().map(String::from),
            recovering: c.recovering(),
            buffered: c.buffered(),
            last_gap: c.last_gap().cloned(),
        })
    }

    /// `presenceState()` JSON of a channel.
    pub fn presence_state_json(&self, id: ChannelId) -> Option<String> {
        self.channels.get(&id).map(|c| c.presence.state_json())
    }

    /// Leaves everything, closes the socket and stops every timer, for `client.destroy()`:
    /// nothing reconnects (the socket is held down). The [`crate::Client`] holds the one
    /// `destroyed` flag and calls nothing here afterwards.
    pub fn shut_down(&mut self, now: Now, out: &mut Outbox) {
        for id in self.channel_ids() {
            self.leave_silently(id, out);
            self.finish_close(id, None, out);
        }
        self.removed += self.channels.len() as u64;
        self.channels.clear();
        self.held_down = true;
        self.manual_connect = false;
        self.close_socket(1000, "destroyed", now, out, false);
        self.close_overdue(now, out);
        self.http.fail_all(out);
        self.timers = TimerTable::default();
    }
}

/// Where HTTP broadcasts go.
#[derive(Debug, Clone, Copy)]
pub struct HttpTarget<'a> {
    /// `https://ref.supabase.co/realtime/v1`.
    pub base_url: &'a str,
    /// The `apikey` header.
    pub apikey: &'a str,
}
