//! The Realtime half of the core: one socket (connect, heartbeat, refs, reconnect with
//! jitter) and its channels (join, leave, rejoin, pushes, presence, Postgres bindings).
//!
//! It knows nothing about sessions. Every call that may send a join or an `access_token`
//! takes a [`TokenView`], the auth state *at that moment*, from which join payloads are built
//! at send time (G1) and which gates joins, token pushes and channel pushes while auth is
//! unresolved (G2). The [`crate::Client`] decides what the view is; tests pass one directly.

pub mod bindings;
pub mod channel;
pub mod presence;

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, UserBroadcast, UserData, Vsn, WireMsg};
use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::realtime::{
    self as rt, access_token_payload, broadcast_payload, join_payload, parse_postgres_changes, parse_presence_diff,
    parse_presence_state, parse_reply, presence_payload, Event, JoinConfig, PgChange, System, PHOENIX_TOPIC,
    TOPIC_PREFIX,
};
use authwire_wire::url::encode_component;

use self::channel::{Channel, ChannelState, Inflight, PushKind, Queued};
use crate::backoff::Backoff;
use crate::error::{ChannelError, ChannelOpError, PushError};
use crate::io::{
    concat, AppEvent, ChannelId, ConnId, HeartbeatStatus, HttpRequest, Level, Outbox, Output, PushOutcome, RequestId,
    SubscribeStatus, Ticket,
};
use crate::map::VecMap;
use crate::rng::Rng;
use crate::time::{Instant, Millis, Now};
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
    /// Join, leave and push timeout. Default 10 s (§4.7).
    pub timeout_ms: Millis,
    /// Socket reconnect policy. Default full jitter, base 1 s, cap 5 s.
    pub reconnect: Backoff,
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
            rejoin: Backoff::REJOIN,
            params: Vec::new(),
            log_level: None,
            push_buffer_limit: 100,
            disconnect_on_empty_ms: Some(50_000),
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
    /// The socket closed before it opened: the handshake was probably refused.
    RefusedBeforeOpen,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Heartbeat,
    HeartbeatDeadline,
    Connect,
    Reconnect,
    IdleDisconnect,
    Join(ChannelId),
    Rejoin(ChannelId),
    Leave(ChannelId),
    Push(ChannelId, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sock {
    Idle,
    Connecting(ConnId),
    Open(ConnId),
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
}

/// The socket and its channels.
#[derive(Debug)]
pub struct Realtime {
    cfg: RealtimeConfig,
    sock: Sock,
    next_conn: u32,
    reconnect_attempt: u32,
    next_ref: u64,
    /// Ref and send time of the heartbeat awaiting its reply.
    heartbeat: Option<(String, Instant)>,
    channels: VecMap<ChannelId, Channel>,
    next_channel: u32,
    timers: TimerTable<Timer>,
    rng: Rng,
    /// Connect even with no channel (`connect()` was called).
    manual_connect: bool,
    online: bool,
    opened_once: bool,
    last_close: Option<(u16, String)>,
    /// HTTP broadcasts in flight: request → ticket.
    http_sends: VecMap<RequestId, Ticket>,
    signals: Vec<Signal>,
    destroyed: bool,
}

impl Realtime {
    /// A socket that is not connected, with no channels.
    pub fn new(cfg: RealtimeConfig, seed: u64) -> Self {
        Realtime {
            cfg,
            sock: Sock::Idle,
            next_conn: 0,
            reconnect_attempt: 0,
            next_ref: 0,
            heartbeat: None,
            channels: VecMap::new(),
            next_channel: 0,
            timers: TimerTable::default(),
            rng: Rng::new(seed),
            manual_connect: false,
            online: true,
            opened_once: false,
            last_close: None,
            http_sends: VecMap::new(),
            signals: Vec::new(),
            destroyed: false,
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
            Sock::Idle => ConnectionState::Closed,
            Sock::Connecting(_) => ConnectionState::Connecting,
            Sock::Open(_) => ConnectionState::Open,
        }
    }

    /// The last close code and reason.
    pub fn last_close(&self) -> Option<&(u16, String)> {
        self.last_close.as_ref()
    }

    fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        json::u64_text(self.next_ref)
    }

    fn send_frame(&mut self, out: &mut Outbox, frame: &Frame) -> bool {
        let Sock::Open(conn) = self.sock else { return false };
        match frame::encode(frame, self.cfg.vsn, Side::Client) {
            Ok(msg) => {
                out.push(Output::Send { conn, msg });
                true
            }
            Err(e) => {
                out.log(Level::Error, concat(&["cannot encode ", &frame.event, " on ", &frame.topic, ": ", e.code()]));
                false
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Channels: registry and commands
    // ------------------------------------------------------------------------------------

    /// The channel for `name` (`realtime:<name>`), creating it if no live channel has that
    /// topic (realtime-js returns the existing instance for the same topic).
    pub fn channel(&mut self, name: &str, opts: ChannelOptions) -> Result<ChannelId, ChannelOpError> {
        if self.destroyed {
            return Err(ChannelOpError::Destroyed);
        }
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
        if let Some((id, _)) = self.channels.iter().find(|(_, c)| c.topic == topic) {
            return Ok(*id);
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
        self.channels.insert(id, Channel::new(topic, config, self.cfg.timeout_ms));
        self.timers.stop(Timer::IdleDisconnect);
        Ok(id)
    }

    fn chan(&mut self, id: ChannelId) -> Result<&mut Channel, ChannelOpError> {
        self.channels.get_mut(&id).ok_or(ChannelOpError::UnknownChannel)
    }

    /// Registers a `postgres_changes` listener (before `subscribe()`); returns its local index.
    pub fn add_postgres_binding(&mut self, id: ChannelId, spec: PgChange) -> Result<u32, ChannelOpError> {
        let ch = self.chan(id)?;
        if ch.subscribed {
            return Err(ChannelOpError::BindingAfterSubscribe);
        }
        ch.bindings.add(spec)
    }

    /// Turns presence on for the join (a `presence` listener was added, as realtime-js does).
    pub fn enable_presence(&mut self, id: ChannelId) -> Result<(), ChannelOpError> {
        let ch = self.chan(id)?;
        if ch.subscribed {
            return Err(ChannelOpError::BindingAfterSubscribe);
        }
        ch.config.presence_enabled = true;
        Ok(())
    }

    /// All channel ids, in creation order.
    pub fn channel_ids(&self) -> Vec<ChannelId> {
        self.channels.keys().copied().collect()
    }

    /// A channel's public view.
    pub fn channel_info(&self, id: ChannelId) -> Option<ChannelInfo> {
        self.channels.get(&id).map(|c| ChannelInfo {
            topic: c.topic.clone(),
            state: c.state,
            private: c.config.private,
            effective_role: c.effective_role.clone(),
            recovering: c.recovering_from.is_some(),
            buffered: c.buffer.len(),
        })
    }

    /// `presenceState()` JSON of a channel.
    pub fn presence_state_json(&self, id: ChannelId) -> Option<String> {
        self.channels.get(&id).map(|c| c.presence.state_json())
    }

    /// Starts joining. `timeout_ms` overrides the join timeout for this channel.
    pub fn subscribe(
        &mut self,
        id: ChannelId,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let ch = self.chan(id)?;
        if ch.subscribed {
            return Err(ChannelOpError::AlreadySubscribed);
        }
        ch.subscribed = true;
        ch.want = true;
        ch.state = ChannelState::Joining;
        if let Some(t) = timeout_ms {
            ch.timeout_ms = t;
        }
        let t = ch.timeout_ms;
        self.timers.set(Timer::Join(id), now.mono.add(t));
        self.ensure_connected(now, view, out);
        self.try_join(id, now, view, out);
        Ok(())
    }

    /// Leaves the channel. The ticket resolves `ok` on the server's reply (or at once when
    /// nothing was joined), `timed out` after the timeout.
    pub fn unsubscribe(&mut self, id: ChannelId, ticket: Option<Ticket>, now: Now, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else {
            if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
            }
            return;
        };
        ch.want = false;
        // A join went out at some point (`join_ref`): the server may hold a membership even if
        // a rejoin is pending (`join_sent` was reset while auth was unresolved), so leave.
        let sent = ch.join_ref.is_some()
            && matches!(ch.state, ChannelState::Joining | ChannelState::Joined | ChannelState::Errored);
        if sent && matches!(self.sock, Sock::Open(_)) && ch.leave.is_none() {
            let r = self.next_ref();
            let Some(ch) = self.channels.get_mut(&id) else { return };
            let frame = Frame {
                join_ref: ch.join_ref.clone(),
                msg_ref: Some(r.clone()),
                topic: ch.topic.clone(),
                event: String::from(Event::Leave.as_str()),
                payload: Payload::Json(String::from("{}")),
            };
            ch.leave = Some((r, ticket));
            ch.state = ChannelState::Leaving;
            let t = ch.timeout_ms;
            self.send_frame(out, &frame);
            self.timers.set(Timer::Leave(id), now.mono.add(t));
            self.timers.stop(Timer::Join(id));
            self.timers.stop(Timer::Rejoin(id));
        } else if let Some((_, pending)) = ch.leave.as_mut() {
            // A leave is already in flight; resolve this call with it.
            if pending.is_none() {
                *pending = ticket;
            } else if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
            }
        } else {
            self.finish_close(id, None, true, now, out);
            if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
            }
        }
    }

    /// Unsubscribes and forgets the channel. When no channel is left the socket closes after
    /// `disconnect_on_empty_ms`.
    pub fn remove_channel(&mut self, id: ChannelId, ticket: Option<Ticket>, now: Now, out: &mut Outbox) {
        if let Some(ch) = self.channels.get_mut(&id) {
            ch.removing = true;
        }
        self.unsubscribe(id, ticket, now, out);
        if self.channels.get(&id).is_some_and(|c| c.state == ChannelState::Closed) {
            self.channels.remove(&id);
            self.clear_channel_timers(id);
        }
        self.maybe_idle(now);
    }

    fn maybe_idle(&mut self, now: Now) {
        if self.channels.is_empty() && !self.manual_connect {
            if let Some(ms) = self.cfg.disconnect_on_empty_ms {
                if self.sock != Sock::Idle && !self.timers.is_set(Timer::IdleDisconnect) {
                    self.timers.set(Timer::IdleDisconnect, now.mono.add(ms));
                }
            }
        }
    }

    fn clear_channel_timers(&mut self, id: ChannelId) {
        self.timers.stop_where(|t| match t {
            Timer::Join(c) | Timer::Rejoin(c) | Timer::Leave(c) | Timer::Push(c, _) => *c == id,
            _ => false,
        });
    }

    /// Sends a broadcast. Not joined and never subscribed: the HTTP broadcast endpoint is
    /// used (`http` gives its URL and headers), as realtime-js does.
    #[allow(clippy::too_many_arguments)]
    pub fn send_broadcast(
        &mut self,
        id: ChannelId,
        event: &str,
        data: UserData,
        ticket: Ticket,
        now: Now,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let ch = self.chan(id)?;
        if !ch.want {
            let UserData::Json(payload) = data else {
                out.event(AppEvent::PushDone { ticket, outcome: PushOutcome::Error(PushError::ChannelClosed) });
                return Ok(());
            };
            let (topic, private) = (String::from(ch.sub_topic()), ch.config.private);
            self.http_broadcast(&topic, private, event, &payload, ticket, view, http, out);
            return Ok(());
        }
        let payload = match data {
            UserData::Json(p) => Payload::Json(broadcast_payload(event, &p)),
            bin @ UserData::Binary(_) => {
                if self.cfg.vsn == Vsn::V1 {
                    // V1 sockets never carry binary (§2.1).
                    out.event(AppEvent::PushDone {
                        ticket,
                        outcome: PushOutcome::Error(PushError::Rejected {
                            reason: String::from("binary payloads need vsn 2.0.0"),
                        }),
                    });
                    return Ok(());
                }
                Payload::UserBroadcast(UserBroadcast { event: String::from(event), metadata: String::new(), data: bin })
            }
        };
        self.queue_push(
            id,
            PushKind::Broadcast,
            String::from(Event::Broadcast.as_str()),
            payload,
            Some(ticket),
            now,
            view,
            out,
        );
        Ok(())
    }

    /// Tracks presence with `payload_json` (a JSON object text).
    pub fn track(
        &mut self,
        id: ChannelId,
        payload_json: &str,
        ticket: Ticket,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        self.presence_push(id, "track", Some(payload_json), ticket, now, view, out)
    }

    /// Stops tracking presence.
    pub fn untrack(
        &mut self,
        id: ChannelId,
        ticket: Ticket,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        self.presence_push(id, "untrack", None, ticket, now, view, out)
    }

    #[allow(clippy::too_many_arguments)]
    fn presence_push(
        &mut self,
        id: ChannelId,
        event: &str,
        payload_json: Option<&str>,
        ticket: Ticket,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        self.chan(id)?;
        let p = Payload::Json(presence_payload(event, payload_json));
        let presence = String::from(Event::Presence.as_str());
        self.queue_push(id, PushKind::Presence, presence, p, Some(ticket), now, view, out);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_push(
        &mut self,
        id: ChannelId,
        kind: PushKind,
        event: String,
        payload: Payload,
        ticket: Option<Ticket>,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) {
        let limit = self.cfg.push_buffer_limit;
        let Some(ch) = self.channels.get_mut(&id) else { return };
        if !ch.want {
            if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::ChannelClosed) });
            }
            return;
        }
        let seq = ch.seq();
        let t = ch.timeout_ms;
        ch.buffer.push_back(Queued { seq, ticket, kind, event, payload });
        if ch.buffer.len() > limit {
            if let Some(old) = ch.buffer.pop_front() {
                self.timers.stop(Timer::Push(id, old.seq));
                if let Some(t) = old.ticket {
                    out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::BufferOverflow) });
                }
            }
        }
        // The timeout starts now, buffered or not (§4.7).
        self.timers.set(Timer::Push(id, seq), now.mono.add(t));
        self.flush(id, view, out);
    }

    /// Sends buffered pushes of a joined channel, in order, while auth is ready.
    fn flush(&mut self, id: ChannelId, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        loop {
            let Some(ch) = self.channels.get_mut(&id) else { return };
            if ch.state != ChannelState::Joined {
                return;
            }
            let Some(q) = ch.buffer.pop_front() else { return };
            let ack = ch.config.broadcast_ack;
            let join_ref = ch.join_ref.clone();
            let topic = ch.topic.clone();
            let r = self.next_ref();
            let frame = Frame { join_ref, msg_ref: Some(r.clone()), topic, event: q.event, payload: q.payload };
            let sent = self.send_frame(out, &frame);
            let wants_reply = q.kind == PushKind::Presence || ack;
            if sent && wants_reply {
                if let Some(ch) = self.channels.get_mut(&id) {
                    ch.inflight.push(Inflight { seq: q.seq, msg_ref: r, ticket: q.ticket });
                }
            } else {
                self.timers.stop(Timer::Push(id, q.seq));
                if let Some(t) = q.ticket {
                    // Without ack realtime-js resolves a sent broadcast with 'ok' at once.
                    let outcome = if sent {
                        PushOutcome::Ok
                    } else {
                        PushOutcome::Error(PushError::Rejected { reason: String::from("encode failed") })
                    };
                    out.event(AppEvent::PushDone { ticket: t, outcome });
                }
            }
        }
    }

    /// `channel.httpSend(event, payload)`: the HTTP broadcast endpoint, whatever the socket.
    #[allow(clippy::too_many_arguments)]
    pub fn http_send(
        &mut self,
        id: ChannelId,
        event: &str,
        payload_json: &str,
        ticket: Ticket,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let ch = self.chan(id)?;
        let (topic, private) = (String::from(ch.sub_topic()), ch.config.private);
        self.http_broadcast(&topic, private, event, payload_json, ticket, view, http, out);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn http_broadcast(
        &mut self,
        sub_topic: &str,
        private: bool,
        event: &str,
        payload: &str,
        ticket: Ticket,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) {
        let mut msg = ObjectWriter::new();
        msg.str("topic", sub_topic).str("event", event).raw("payload", payload).bool("private", private);
        let mut body = String::from("{\"messages\":[");
        body.push_str(&msg.finish());
        body.push_str("]}");
        let mut headers = alloc::vec![
            (String::from("apikey"), String::from(http.apikey)),
            (String::from("Content-Type"), String::from("application/json")),
        ];
        if let Some(t) = view.token {
            let mut b = String::from("Bearer ");
            b.push_str(t);
            headers.push((String::from("Authorization"), b));
        }
        let mut url = String::from(http.base_url);
        url.push_str("/api/broadcast");
        let id = out.request_id();
        self.http_sends.insert(id, ticket);
        out.push(Output::Http { id, request: HttpRequest { method: "POST", url, headers, body: Some(body) } });
    }

    /// Handles an HTTP reply; `false` if it was not for the realtime half.
    pub fn handle_http(&mut self, id: RequestId, status: Option<u16>, out: &mut Outbox) -> bool {
        let Some(ticket) = self.http_sends.remove(&id) else { return false };
        let outcome = match status {
            Some(200..=299) => PushOutcome::Ok,
            Some(s) => PushOutcome::Error(PushError::Http { status: s }),
            None => PushOutcome::Error(PushError::Http { status: 0 }),
        };
        out.event(AppEvent::PushDone { ticket, outcome });
        true
    }

    // ------------------------------------------------------------------------------------
    // Joining
    // ------------------------------------------------------------------------------------

    /// Sends the join of channel `id` if everything it needs is there: an open socket, a
    /// resolved token (G2), and (when recovering from an expiry) a new token (G6). The payload
    /// is built now, from `view` (G1).
    fn try_join(&mut self, id: ChannelId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        let Some(ch) = self.channels.get(&id) else { return };
        if !ch.want || ch.state != ChannelState::Joining || ch.join_sent {
            return;
        }
        if ch.recovering_from == Some(view.generation) {
            return;
        }
        if self.timers.is_set(Timer::Rejoin(id)) {
            return;
        }
        let r = self.next_ref();
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let mut cfg = ch.config.clone();
        cfg.postgres_changes = ch.bindings.specs();
        let payload = join_payload(&cfg, view.token);
        ch.join_ref = Some(r.clone());
        ch.join_sent = true;
        ch.token_gen = Some(view.generation);
        ch.recovering_from = None;
        ch.effective_role = view.role.map(String::from);
        ch.presence.rejoining();
        ch.last_system_error = None;
        let t = ch.timeout_ms;
        let frame = Frame {
            join_ref: Some(r.clone()),
            msg_ref: Some(r),
            topic: ch.topic.clone(),
            event: String::from(Event::Join.as_str()),
            payload: Payload::Json(payload),
        };
        if !self.timers.is_set(Timer::Join(id)) {
            self.timers.set(Timer::Join(id), now.mono.add(t));
        }
        self.send_frame(out, &frame);
    }

    /// Puts an errored channel back to joining after its rejoin delay.
    fn schedule_rejoin(&mut self, id: ChannelId, now: Now) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        if !ch.want {
            return;
        }
        let delay = self.cfg.rejoin.delay(ch.rejoin_attempt, &mut self.rng);
        ch.rejoin_attempt = ch.rejoin_attempt.saturating_add(1);
        self.timers.set(Timer::Rejoin(id), now.mono.add(delay));
    }

    fn set_errored(&mut self, id: ChannelId, status: SubscribeStatus, error: ChannelError, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        ch.state = ChannelState::Errored;
        ch.join_sent = false;
        ch.token_gen = None;
        ch.inflight.clear();
        self.timers.stop(Timer::Join(id));
        out.event(AppEvent::ChannelStatus { channel: id, status, error: Some(error) });
    }

    /// A channel ended: state closed, buffered and in-flight pushes fail, `CLOSED` reported.
    fn finish_close(&mut self, id: ChannelId, error: Option<ChannelError>, report: bool, _now: Now, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let was_closed = ch.state == ChannelState::Closed && !ch.want;
        ch.state = ChannelState::Closed;
        ch.want = false;
        ch.join_sent = false;
        ch.token_gen = None;
        ch.recovering_from = None;
        ch.presence.clear();
        let mut failed: Vec<Ticket> = ch.buffer.drain(..).filter_map(|q| q.ticket).collect();
        failed.extend(ch.inflight.drain(..).filter_map(|f| f.ticket));
        let leave_ticket = ch.leave.take().and_then(|(_, t)| t);
        self.clear_channel_timers(id);
        for t in failed {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::ChannelClosed) });
        }
        if let Some(t) = leave_ticket {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
        }
        if report && !was_closed {
            out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Closed, error });
        }
        if self.channels.get(&id).is_some_and(|c| c.removing) {
            self.channels.remove(&id);
        }
    }

    /// Re-runs every gated action: connect, joins, token pushes, buffered pushes. The client
    /// calls this whenever the token view may have changed.
    pub fn resume(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.ensure_connected(now, view, out);
        if !view.ready {
            return;
        }
        for id in self.channel_ids() {
            self.try_join(id, now, view, out);
            self.push_token_if_stale(id, view, out);
            self.flush(id, view, out);
        }
    }

    /// G3: a joined channel whose server side holds an older token gets an `access_token` push
    /// before anything else is sent on it.
    fn push_token_if_stale(&mut self, id: ChannelId, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        let Some(ch) = self.channels.get(&id) else { return };
        if ch.state != ChannelState::Joined || ch.token_gen == Some(view.generation) {
            return;
        }
        let Some(token) = view.token else {
            // No token to push (signed out with an opaque key): the client rejoins instead.
            return;
        };
        let r = self.next_ref();
        let Some(ch) = self.channels.get_mut(&id) else { return };
        ch.token_gen = Some(view.generation);
        ch.effective_role = view.role.map(String::from);
        let frame = Frame {
            join_ref: ch.join_ref.clone(),
            msg_ref: Some(r),
            topic: ch.topic.clone(),
            event: String::from(Event::AccessToken.as_str()),
            payload: Payload::Json(access_token_payload(token)),
        };
        self.send_frame(out, &frame);
    }

    /// The token changed (G3, G5). Call after the client's view reflects the new token.
    pub fn token_changed(&mut self, change: TokenChange, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        match change {
            TokenChange::Rotated => {}
            TokenChange::UserSwitched | TokenChange::SignedOut => {
                for id in self.channel_ids() {
                    let Some(ch) = self.channels.get(&id) else { continue };
                    if !ch.want {
                        continue;
                    }
                    if change == TokenChange::SignedOut && ch.config.private {
                        // A private channel must not outlive its user (G5).
                        self.leave_silently(id, out);
                        self.finish_close(id, Some(ChannelError::SignedOut), true, now, out);
                        continue;
                    }
                    if !view.ready {
                        // The new token cannot be joined with yet: the old user's membership
                        // must not wait for it (G5).
                        self.leave_silently(id, out);
                    }
                    self.restart_join(id, now);
                }
            }
        }
        self.resume(now, view, out);
    }

    /// Sends `phx_leave` without waiting for the reply.
    fn leave_silently(&mut self, id: ChannelId, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        // `join_ref`, not `join_sent`: a membership made by an earlier join outlives a pending
        // rejoin (G5: a private channel must not stay joined after sign-out).
        if ch.join_ref.is_none() || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        let r = self.next_ref();
        let Some(ch) = self.channels.get(&id) else { return };
        let frame = Frame {
            join_ref: ch.join_ref.clone(),
            msg_ref: Some(r),
            topic: ch.topic.clone(),
            event: String::from(Event::Leave.as_str()),
            payload: Payload::Json(String::from("{}")),
        };
        self.send_frame(out, &frame);
    }

    /// Marks a wanted channel to join again with a fresh join (new ref, payload built at send).
    fn restart_join(&mut self, id: ChannelId, now: Now) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        ch.state = ChannelState::Joining;
        ch.join_sent = false;
        ch.token_gen = None;
        ch.inflight.clear();
        let t = ch.timeout_ms;
        self.timers.stop(Timer::Rejoin(id));
        self.timers.set(Timer::Join(id), now.mono.add(t));
    }

    // ------------------------------------------------------------------------------------
    // The socket
    // ------------------------------------------------------------------------------------

    /// `connect()`: connect even without channels.
    pub fn connect(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.manual_connect = true;
        self.timers.stop(Timer::Reconnect);
        self.ensure_connected(now, view, out);
    }

    /// `disconnect()`: close the socket and stop reconnecting; channels error and rejoin on the
    /// next `connect()` or subscribe.
    pub fn disconnect(&mut self, now: Now, out: &mut Outbox) {
        self.manual_connect = false;
        self.timers.stop(Timer::Reconnect);
        self.close_socket(1000, "manual disconnect", now, out, false);
    }

    fn wants_socket(&self) -> bool {
        !self.destroyed && (self.manual_connect || self.channels.values().any(|c| c.want))
    }

    fn ensure_connected(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if self.sock != Sock::Idle || !self.wants_socket() || !self.online {
            return;
        }
        if self.timers.is_set(Timer::Reconnect) {
            return;
        }
        let Some(key) = view.socket_key else { return };
        let mut url = self.cfg.endpoint.clone();
        url.push_str("/websocket?apikey=");
        encode_component(&mut url, key);
        for (k, v) in &self.cfg.params {
            if k == "apikey" || k == "vsn" {
                continue;
            }
            url.push('&');
            encode_component(&mut url, k);
            url.push('=');
            encode_component(&mut url, v);
        }
        if let Some(l) = &self.cfg.log_level {
            url.push_str("&log_level=");
            encode_component(&mut url, l);
        }
        url.push_str("&vsn=");
        url.push_str(self.cfg.vsn.as_str());
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.sock = Sock::Connecting(conn);
        self.opened_once = false;
        self.timers.set(Timer::Connect, now.mono.add(self.cfg.timeout_ms));
        out.push(Output::Connect { conn, url });
    }

    fn current(&self, conn: ConnId) -> bool {
        matches!(self.sock, Sock::Connecting(c) | Sock::Open(c) if c == conn)
    }

    /// The socket opened.
    pub fn handle_opened(&mut self, conn: ConnId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !matches!(self.sock, Sock::Connecting(c) if c == conn) {
            return;
        }
        self.sock = Sock::Open(conn);
        self.opened_once = true;
        self.reconnect_attempt = 0;
        self.heartbeat = None;
        self.timers.stop(Timer::Connect);
        self.timers.stop(Timer::HeartbeatDeadline);
        // Fresh heartbeat state on every open, whatever the timer source (supabase-js#2625).
        self.timers.set(Timer::Heartbeat, now.mono.add(self.cfg.heartbeat_interval_ms));
        for id in self.channel_ids() {
            if let Some(ch) = self.channels.get_mut(&id) {
                if ch.want && matches!(ch.state, ChannelState::Errored | ChannelState::Joining) {
                    // On a new socket every wanted channel joins at once (§4.6).
                    ch.state = ChannelState::Joining;
                    ch.join_sent = false;
                    ch.rejoin_attempt = 0;
                    self.timers.stop(Timer::Rejoin(id));
                    if !self.timers.is_set(Timer::Join(id)) {
                        let t = ch.timeout_ms;
                        self.timers.set(Timer::Join(id), now.mono.add(t));
                    }
                }
            }
        }
        self.resume(now, view, out);
    }

    /// The socket closed (or could not open).
    pub fn handle_closed(&mut self, conn: ConnId, code: u16, reason: String, now: Now, out: &mut Outbox) {
        if !self.current(conn) {
            return;
        }
        if !self.opened_once {
            self.signals.push(Signal::RefusedBeforeOpen);
        }
        let error = ChannelError::SocketClosed { code, reason: reason.clone() };
        self.last_close = Some((code, reason));
        self.socket_lost(error, now, out);
    }

    fn close_socket(&mut self, code: u16, reason: &'static str, now: Now, out: &mut Outbox, reconnect: bool) {
        let conn = match self.sock {
            Sock::Idle => return,
            Sock::Connecting(c) | Sock::Open(c) => c,
        };
        out.push(Output::Close { conn, code, reason });
        self.last_close = Some((code, String::from(reason)));
        let error = if reason == "heartbeat timeout" {
            ChannelError::HeartbeatTimeout
        } else {
            ChannelError::SocketClosed { code, reason: String::from(reason) }
        };
        self.socket_lost(error, now, out);
        if !reconnect {
            self.timers.stop(Timer::Reconnect);
        }
    }

    fn socket_lost(&mut self, error: ChannelError, now: Now, out: &mut Outbox) {
        self.sock = Sock::Idle;
        self.heartbeat = None;
        self.timers.stop(Timer::Heartbeat);
        self.timers.stop(Timer::HeartbeatDeadline);
        self.timers.stop(Timer::Connect);
        for id in self.channel_ids() {
            let Some(ch) = self.channels.get_mut(&id) else { continue };
            match ch.state {
                ChannelState::Leaving => self.finish_close(id, None, true, now, out),
                ChannelState::Joined => self.set_errored(id, SubscribeStatus::ChannelError, error.clone(), out),
                ChannelState::Joining if ch.join_sent => {
                    self.set_errored(id, SubscribeStatus::ChannelError, error.clone(), out);
                }
                _ => {}
            }
        }
        if self.wants_socket() {
            let delay = self.cfg.reconnect.delay(self.reconnect_attempt, &mut self.rng);
            self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
            self.timers.set(Timer::Reconnect, now.mono.add(delay));
        }
    }

    /// A message arrived.
    pub fn handle_message(&mut self, conn: ConnId, msg: &WireMsg, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !matches!(self.sock, Sock::Open(c) if c == conn) {
            return;
        }
        // Any inbound frame proves the socket alive (the heartbeat deadline is for silence):
        // a pending heartbeat's deadline starts again. Stopping it instead would leave that
        // heartbeat pending with no deadline if its reply is lost, and a pending heartbeat
        // holds back the next one: a socket that goes silent then is never found dead.
        if self.heartbeat.is_some() {
            self.timers.set(Timer::HeartbeatDeadline, now.mono.add(self.cfg.heartbeat_interval_ms));
        }
        let frame = match frame::decode(msg, self.cfg.vsn, Side::Server) {
            Ok(f) => f,
            Err(e) => {
                // Dropped and logged; the socket stays (the server does the same, §2.2).
                out.log(Level::Warn, concat(&["dropped a malformed frame: ", e.code()]));
                return;
            }
        };
        self.handle_frame(frame, now, view, out);
    }

    fn handle_frame(&mut self, f: Frame, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if f.topic == PHOENIX_TOPIC {
            if let (Some((r, sent)), Some(fr)) = (&self.heartbeat, &f.msg_ref) {
                if r == fr {
                    let ok = match &f.payload {
                        Payload::Json(p) => parse_reply(p).is_ok_and(|r| r.is_ok()),
                        Payload::BinaryReply { status, .. } => status == "ok",
                        _ => false,
                    };
                    let latency = now.mono.since(*sent);
                    self.heartbeat = None;
                    let status = if ok { HeartbeatStatus::Ok } else { HeartbeatStatus::Error };
                    out.event(AppEvent::Heartbeat { status, latency_ms: Some(latency) });
                }
            }
            return;
        }
        let Some(id) = self.channels.iter().find(|(_, c)| c.topic == f.topic).map(|(id, _)| *id) else {
            return;
        };
        let Some(ch) = self.channels.get(&id) else { return };
        // Strict on the client side: a frame of an older join of this topic is stale (§4.4).
        if let (Some(jr), Some(cur)) = (&f.join_ref, &ch.join_ref) {
            if jr != cur {
                return;
            }
        }
        // V1 frames carry no join_ref, but a `phx_close` or `phx_error` has the join_ref of the
        // join it ends as its ref: one for an older join (the server closing it because we
        // joined again) must not end the current one.
        if f.join_ref.is_none() && matches!(Event::parse(&f.event), Event::Close | Event::Error) {
            if let (Some(r), Some(cur)) = (&f.msg_ref, &ch.join_ref) {
                if r != cur {
                    return;
                }
            }
        }
        match Event::parse(&f.event) {
            Event::Reply => self.on_reply(id, &f, now, view, out),
            Event::Close => self.on_close(id, now, view, out),
            Event::Error if matches!(ch.state, ChannelState::Joined | ChannelState::Joining) && ch.join_sent => {
                self.set_errored(
                    id,
                    SubscribeStatus::ChannelError,
                    ChannelError::Server { reason: String::new() },
                    out,
                );
                self.schedule_rejoin(id, now);
            }
            Event::System => {
                if let Payload::Json(p) = &f.payload {
                    if let Ok(sys) = System::parse(p) {
                        if sys.status == "error" {
                            if let Some(ch) = self.channels.get_mut(&id) {
                                ch.last_system_error = Some(sys.message.clone());
                            }
                        }
                    }
                    out.event(AppEvent::System { channel: id, payload: p.clone() });
                }
            }
            Event::Broadcast => self.on_broadcast(id, f.payload, out),
            Event::PresenceState => {
                if let Payload::Json(p) = &f.payload {
                    match parse_presence_state(p) {
                        Ok(entries) => {
                            let events = self.channels.get_mut(&id).map(|c| c.presence.on_state(&entries));
                            for e in events.into_iter().flatten() {
                                out.event(AppEvent::Presence { channel: id, event: e });
                            }
                        }
                        Err(e) => out.log(Level::Warn, concat(&["bad presence_state: ", e.code()])),
                    }
                }
            }
            Event::PresenceDiff => {
                if let Payload::Json(p) = &f.payload {
                    match parse_presence_diff(p) {
                        Ok(d) => {
                            let events = self.channels.get_mut(&id).map(|c| c.presence.on_diff(d));
                            for e in events.into_iter().flatten() {
                                out.event(AppEvent::Presence { channel: id, event: e });
                            }
                        }
                        Err(e) => out.log(Level::Warn, concat(&["bad presence_diff: ", e.code()])),
                    }
                }
            }
            Event::PostgresChanges => {
                if let Payload::Json(p) = &f.payload {
                    self.on_postgres_change(id, p, out);
                }
            }
            // Unknown and client-only events are ignored (decoded to `Other`).
            _ => {}
        }
    }

    fn on_reply(&mut self, id: ChannelId, f: &Frame, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        let Some(msg_ref) = f.msg_ref.as_deref() else { return };
        let (status, response_raw): (String, String) = match &f.payload {
            Payload::Json(p) => match parse_reply(p) {
                Ok(r) => (r.status.clone(), String::from(r.response)),
                Err(_) => return,
            },
            Payload::BinaryReply { status, .. } => (status.clone(), String::from("{}")),
            _ => return,
        };
        let reply = rt::Reply { status, response: &response_raw };
        let Some(ch) = self.channels.get_mut(&id) else { return };
        // The join reply.
        if ch.join_sent && ch.state == ChannelState::Joining && ch.join_ref.as_deref() == Some(msg_ref) {
            self.timers.stop(Timer::Join(id));
            if reply.is_ok() {
                let echo = reply.postgres_changes().unwrap_or_default();
                let Some(ch) = self.channels.get_mut(&id) else { return };
                if !ch.bindings.apply_reply(&echo) {
                    out.event(AppEvent::ChannelStatus {
                        channel: id,
                        status: SubscribeStatus::ChannelError,
                        error: Some(ChannelError::BindingMismatch),
                    });
                    ch.state = ChannelState::Joined;
                    self.unsubscribe(id, None, now, out);
                    return;
                }
                ch.state = ChannelState::Joined;
                ch.rejoin_attempt = 0;
                out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Subscribed, error: None });
                // G3 for a join that was in flight while the token changed.
                self.push_token_if_stale(id, view, out);
                self.flush(id, view, out);
            } else {
                let err = ChannelError::from_join_reason(reply.reason());
                if matches!(err, ChannelError::TokenExpired { .. }) {
                    self.recover(id, err, now, view, out);
                } else {
                    self.set_errored(id, SubscribeStatus::ChannelError, err, out);
                    self.schedule_rejoin(id, now);
                }
            }
            return;
        }
        // The leave reply.
        if ch.leave.as_ref().is_some_and(|(r, _)| r == msg_ref) {
            self.finish_close(id, None, true, now, out);
            return;
        }
        // A push reply.
        if let Some(pos) = ch.inflight.iter().position(|p| p.msg_ref == msg_ref) {
            let p = ch.inflight.remove(pos);
            self.timers.stop(Timer::Push(id, p.seq));
            if let Some(t) = p.ticket {
                let outcome = if reply.is_ok() {
                    PushOutcome::Ok
                } else {
                    PushOutcome::Error(PushError::Rejected { reason: reply.reason() })
                };
                out.event(AppEvent::PushDone { ticket: t, outcome });
            }
        }
    }

    /// G6: the server ended the channel because its token expired. Report `RECOVERING`, ask
    /// the client for a fresh token, and rejoin once it is there.
    fn recover(&mut self, id: ChannelId, err: ChannelError, _now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        // Wait for a token newer than the one the server judged, not than the current one: if
        // another channel's expiry already got us a fresh token, rejoin with it at once.
        let held = ch.token_gen.unwrap_or(view.generation);
        ch.state = ChannelState::Joining;
        ch.join_sent = false;
        ch.token_gen = None;
        ch.inflight.clear();
        ch.recovering_from = Some(held);
        ch.rejoin_attempt = 0;
        self.timers.stop(Timer::Join(id));
        self.timers.stop(Timer::Rejoin(id));
        out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Recovering, error: Some(err) });
        self.signals.push(Signal::TokenExpired { generation: held });
    }

    fn on_close(&mut self, id: ChannelId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        if ch.state == ChannelState::Leaving {
            self.finish_close(id, None, true, now, out);
            return;
        }
        if !ch.want {
            return;
        }
        let error = ch.last_system_error.clone().map(ChannelError::from_system_message);
        if matches!(error, Some(ChannelError::TokenExpired { .. })) {
            let err = error.unwrap_or(ChannelError::TokenExpired { reason: String::new() });
            self.recover(id, err, now, view, out);
            return;
        }
        // Any other server close is terminal for this channel instance (§4.6, §10.4).
        self.finish_close(id, error, true, now, out);
    }

    fn on_broadcast(&mut self, id: ChannelId, payload: Payload, out: &mut Outbox) {
        match payload {
            Payload::Json(p) => {
                let event = json::field(&p, "event").ok().flatten().and_then(json::str_of).unwrap_or_default();
                out.event(AppEvent::Broadcast { channel: id, event, payload: p, binary: None });
            }
            Payload::UserBroadcast(ub) => {
                let mut w = ObjectWriter::new();
                w.str("type", "broadcast").str("event", &ub.event);
                let binary = match ub.data {
                    UserData::Json(j) => {
                        w.raw("payload", &j);
                        None
                    }
                    UserData::Binary(b) => Some(b),
                };
                if !ub.metadata.is_empty() {
                    w.raw("meta", &ub.metadata);
                }
                out.event(AppEvent::Broadcast { channel: id, event: ub.event, payload: w.finish(), binary });
            }
            _ => {}
        }
    }

    fn on_postgres_change(&mut self, id: ChannelId, p: &str, out: &mut Outbox) {
        let ev = match parse_postgres_changes(p) {
            Ok(ev) => ev,
            Err(e) => {
                out.log(Level::Warn, concat(&["bad postgres_changes: ", e.code()]));
                return;
            }
        };
        let Some(ch) = self.channels.get(&id) else { return };
        let bindings = ch.bindings.route(&ev.ids, ev.change);
        if bindings.is_empty() {
            return;
        }
        let mut w = ObjectWriter::new();
        let field = |k: &str| ev.data_field(k).unwrap_or("null");
        w.raw("schema", field("schema"))
            .raw("table", field("table"))
            .raw("commit_timestamp", field("commit_timestamp"));
        w.str("eventType", ev.change.as_str());
        let (has_new, has_old) = match ev.change {
            rt::ChangeType::Insert => (true, false),
            rt::ChangeType::Update => (true, true),
            rt::ChangeType::Delete => (false, true),
        };
        w.raw("new", if has_new { ev.data_field("record").unwrap_or("{}") } else { "{}" });
        w.raw("old", if has_old { ev.data_field("old_record").unwrap_or("{}") } else { "{}" });
        w.raw("errors", field("errors")).raw("columns", ev.data_field("columns").unwrap_or("[]"));
        out.event(AppEvent::PostgresChange { channel: id, bindings, payload: w.finish() });
    }

    // ------------------------------------------------------------------------------------
    // Time and page lifecycle
    // ------------------------------------------------------------------------------------

    /// Handles due timers.
    pub fn handle_timeout(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        for t in self.timers.take_expired(now.mono) {
            match t {
                Timer::Heartbeat => self.heartbeat_due(now, self.cfg.heartbeat_interval_ms, out),
                Timer::HeartbeatDeadline => {
                    if self.heartbeat.is_some() {
                        out.event(AppEvent::Heartbeat { status: HeartbeatStatus::Timeout, latency_ms: None });
                        self.close_socket(1000, "heartbeat timeout", now, out, true);
                    }
                }
                Timer::Connect => {
                    if let Sock::Connecting(_) = self.sock {
                        self.close_socket(1000, "connect timeout", now, out, true);
                    }
                }
                Timer::Reconnect => self.ensure_connected(now, view, out),
                Timer::IdleDisconnect => {
                    if self.channels.is_empty() && !self.manual_connect {
                        self.close_socket(1000, "no channels", now, out, false);
                    }
                }
                Timer::Join(id) => self.join_timed_out(id, now, out),
                Timer::Rejoin(id) => {
                    if let Some(ch) = self.channels.get_mut(&id) {
                        if ch.want && ch.state == ChannelState::Errored {
                            ch.state = ChannelState::Joining;
                            ch.join_sent = false;
                            let t = ch.timeout_ms;
                            self.timers.set(Timer::Join(id), now.mono.add(t));
                        }
                    }
                    self.ensure_connected(now, view, out);
                    self.try_join(id, now, view, out);
                }
                Timer::Leave(id) => {
                    // No reply to the leave: close locally, resolve 'timed out'.
                    if let Some(ch) = self.channels.get_mut(&id) {
                        if let Some((_, Some(t))) = ch.leave.take() {
                            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::TimedOut });
                        }
                    }
                    self.finish_close(id, None, true, now, out);
                }
                Timer::Push(id, seq) => {
                    let Some(ch) = self.channels.get_mut(&id) else { continue };
                    let mut ticket = None;
                    if let Some(pos) = ch.buffer.iter().position(|q| q.seq == seq) {
                        ticket = ch.buffer.remove(pos).and_then(|q| q.ticket);
                    } else if let Some(pos) = ch.inflight.iter().position(|p| p.seq == seq) {
                        ticket = ch.inflight.remove(pos).ticket;
                    }
                    if let Some(t) = ticket {
                        out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::TimedOut });
                    }
                }
            }
        }
        self.maybe_idle(now);
    }

    fn join_timed_out(&mut self, id: ChannelId, now: Now, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        if !ch.want || ch.state != ChannelState::Joining {
            return;
        }
        if ch.join_sent {
            // Tell the server to drop the half-made join (Phoenix does the same).
            self.leave_silently(id, out);
        }
        self.set_errored(id, SubscribeStatus::TimedOut, ChannelError::JoinTimeout, out);
        self.schedule_rejoin(id, now);
    }

    fn heartbeat_due(&mut self, now: Now, deadline_ms: Millis, out: &mut Outbox) {
        if !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        self.timers.set(Timer::Heartbeat, now.mono.add(self.cfg.heartbeat_interval_ms));
        if self.heartbeat.is_some() {
            // One in flight; its deadline decides.
            return;
        }
        let r = self.next_ref();
        let frame = Frame {
            join_ref: None,
            msg_ref: Some(r.clone()),
            topic: String::from(PHOENIX_TOPIC),
            event: String::from(Event::Heartbeat.as_str()),
            payload: Payload::Json(String::from("{}")),
        };
        if self.send_frame(out, &frame) {
            self.heartbeat = Some((r, now.mono));
            self.timers.set(Timer::HeartbeatDeadline, now.mono.add(deadline_ms));
            out.event(AppEvent::Heartbeat { status: HeartbeatStatus::Sent, latency_ms: None });
        }
    }

    /// Wake, `online` or visible: check the socket now (a heartbeat with a short deadline),
    /// or reconnect at once if it is down.
    pub fn health_check(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        match self.sock {
            Sock::Open(_) => {
                if self.heartbeat.is_none() {
                    self.heartbeat_due(now, self.cfg.probe_timeout_ms, out);
                }
            }
            Sock::Connecting(_) => {}
            Sock::Idle => {
                self.timers.stop(Timer::Reconnect);
                self.ensure_connected(now, view, out);
            }
        }
    }

    /// Network connectivity changed: offline stops reconnect attempts, online resumes them.
    pub fn set_online(&mut self, online: bool, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.online = online;
        if online {
            self.health_check(now, view, out);
        }
    }

    /// Reconnects with a fresh connect URL (G7 after a user change in `'session'` mode).
    pub fn reconnect_now(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if self.sock != Sock::Idle {
            self.close_socket(1000, "token changed", now, out, false);
        }
        self.timers.stop(Timer::Reconnect);
        self.ensure_connected(now, view, out);
    }

    /// Leaves everything and closes the socket; later commands fail with `destroyed`.
    pub fn destroy(&mut self, now: Now, out: &mut Outbox) {
        for id in self.channel_ids() {
            self.leave_silently(id, out);
            self.finish_close(id, None, true, now, out);
        }
        self.channels.clear();
        self.destroyed = true;
        self.manual_connect = false;
        self.close_socket(1000, "destroyed", now, out, false);
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
