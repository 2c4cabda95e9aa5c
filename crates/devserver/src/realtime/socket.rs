//! One WebSocket connection: the task that owns the socket, decodes frames with
//! `authwire_wire::frame`, answers heartbeats, routes channel events, delivers fan-out
//! messages queued by the hub, runs the per-channel token timers and the idle timeout.
//!
//! Like a Phoenix socket, frames are handled one at a time: a join (with its policy checks
//! and its error delay) holds up the frames behind it.
//!
//! Every decoded frame in, frame out and the close are recorded in `/_dev/events` — before
//! the frame is handled or written, so a client that saw a frame finds its record.

use super::channel::Channel;
use super::{ChanId, ConnInfo, Realtime, SocketId};
use crate::events::{self, By, TokenInfo};
use crate::http::Shared;
use authwire_wire::frame::{self, Frame, Payload, Side, UserBroadcast, UserData, Vsn, WireMsg};
use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::realtime::{reply_payload, Event, PHOENIX_TOPIC, TOPIC_PREFIX};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A boxed future of a [`Transport`] call.
pub(crate) type BoxFut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What a session reads and writes: axum's WebSocket, or an in-memory peer (the `fuzzing`
/// feature's connection target feeds frames through one, with the rest of the server real).
pub(crate) trait Transport: Send {
    /// The next message; `None` when the peer is gone.
    fn recv(&mut self) -> BoxFut<'_, Option<Result<Message, axum::Error>>>;
    /// Sends and flushes one message.
    fn send(&mut self, m: Message) -> BoxFut<'_, Result<(), axum::Error>>;
    /// Queues one message without flushing.
    fn feed(&mut self, m: Message) -> BoxFut<'_, Result<(), axum::Error>>;
    /// Flushes what was fed.
    fn flush(&mut self) -> BoxFut<'_, Result<(), axum::Error>>;
}

impl Transport for WebSocket {
    fn recv(&mut self) -> BoxFut<'_, Option<Result<Message, axum::Error>>> {
        Box::pin(WebSocket::recv(self))
    }
    fn send(&mut self, m: Message) -> BoxFut<'_, Result<(), axum::Error>> {
        Box::pin(WebSocket::send(self, m))
    }
    fn feed(&mut self, m: Message) -> BoxFut<'_, Result<(), axum::Error>> {
        Box::pin(futures_util::sink::SinkExt::feed(self, m))
    }
    fn flush(&mut self) -> BoxFut<'_, Result<(), axum::Error>> {
        Box::pin(futures_util::sink::SinkExt::flush(self))
    }
}

/// A message fanned out to channel instances of one topic.
#[derive(Debug)]
pub(crate) enum FanMsg {
    /// A JSON event sent as `[null, null, topic, event, payload]`.
    Json {
        /// `broadcast`, `presence_diff`, `postgres_changes`.
        event: &'static str,
        /// The payload JSON text.
        payload: String,
        /// The message id (`meta.id`), for replay de-duplication.
        id: Option<String>,
    },
    /// A user broadcast: kind 4 to V2 sockets, a JSON broadcast to V1 sockets (binary
    /// payloads are not delivered to V1 sockets).
    User {
        /// Event, metadata and data.
        ub: UserBroadcast,
        /// The message id, for replay de-duplication.
        id: Option<String>,
    },
}

/// What other tasks queue for a socket.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A fan-out message for channel instance `chan`.
    Fan { chan: ChanId, msg: Arc<FanMsg> },
    /// A raw WebSocket message (fault injection).
    Raw(WireMsg),
    /// A raw message sent this many times back to back (the benchmarks' flood).
    Flood(WireMsg, u32),
    /// Run the token check of every channel now, treating the token as expired (fault
    /// injection `expireTokens`); `sub` limits it to channels of that user.
    ExpireNow { sub: Option<String> },
}

/// How a socket is ended from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseHow {
    /// Drop the TCP connection without a close frame (the browser sees 1006).
    Abrupt,
    /// Send a close frame with this code and reason.
    Code(u16, String),
}

/// The part of a socket other tasks can reach.
#[derive(Debug)]
pub(crate) struct SocketHandle {
    pub(crate) id: SocketId,
    tx: mpsc::Sender<Outbound>,
    close: watch::Sender<Option<CloseHow>>,
    /// `sub` claims of the connect token and of the channels' tokens.
    users: Mutex<Vec<String>>,
    /// Channels joined now.
    pub(crate) channels: AtomicUsize,
}

impl SocketHandle {
    /// Queues a message; a socket that cannot keep up is dropped (the real server kills a
    /// transport whose heap grows past its cap).
    pub(crate) fn push(&self, out: Outbound) {
        match self.tx.try_send(out) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(socket = self.id, "outbound queue full: dropping the socket");
                self.close(CloseHow::Abrupt);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Ends the socket.
    pub(crate) fn close(&self, how: CloseHow) {
        self.close.send_if_modified(|cur| {
            if cur.is_none() {
                *cur = Some(how);
                true
            } else {
                false
            }
        });
    }

    /// True when the connect token or a channel token belongs to `sub`.
    pub(crate) fn has_user(&self, sub: &str) -> bool {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|u| u == sub)
    }

    pub(super) fn add_user(&self, sub: &str) {
        let mut u = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if !u.iter().any(|x| x == sub) {
            u.push(sub.to_owned());
        }
    }
}

/// Capacity of a socket's outbound queue.
const OUTBOX: usize = 8192;

/// The connection task's state.
pub(super) struct Session {
    pub(super) state: Shared,
    pub(super) handle: Arc<SocketHandle>,
    pub(super) ws: Box<dyn Transport>,
    pub(super) conn: ConnInfo,
    /// Joined channels by full topic.
    pub(super) channels: HashMap<String, Channel>,
    pub(super) last_in: Instant,
    pub(super) closing: watch::Receiver<Option<CloseHow>>,
    /// Set when the loop must end after the current step.
    pub(super) ended: bool,
    /// The connect token's `sub` (who frames outside a joined channel are for).
    user: Option<Arc<str>>,
    /// Set once the socket's end is in `/_dev/events`.
    close_recorded: bool,
}

impl Session {
    pub(super) fn rt(&self) -> &Realtime {
        &self.state.realtime
    }
}

/// Runs a connection until it closes.
pub(crate) async fn run(state: Shared, ws: Box<dyn Transport>, conn: ConnInfo) {
    let rt = state.realtime.clone();
    let (tx, mut rx) = mpsc::channel(OUTBOX);
    let (close_tx, close_rx) = watch::channel(None);
    let handle = Arc::new(SocketHandle {
        id: conn.id,
        tx,
        close: close_tx,
        users: Mutex::new(conn.claims.sub().map(|s| vec![s.to_owned()]).unwrap_or_default()),
        channels: AtomicUsize::new(0),
    });
    rt.register(handle.clone());
    let mut stop = rt.stopping();
    let mut closing = close_rx.clone();
    let user = conn.claims.sub().map(Arc::from);
    let mut s = Session {
        state,
        handle: handle.clone(),
        ws,
        conn,
        channels: HashMap::new(),
        last_in: Instant::now(),
        closing: close_rx,
        ended: false,
        user,
        close_recorded: false,
    };
    tracing::debug!(socket = handle.id, vsn = s.conn.vsn.as_str(), "socket connected");
    // `socketLifetime` (a chaos fault): this socket is dropped when its lifetime is over.
    let lifetime = s.rt().faults.socket_lifetime();
    let dies = tokio::time::sleep(lifetime.unwrap_or(Duration::from_secs(86_400 * 365)));
    tokio::pin!(dies);
    while !s.ended {
        let deadline = s.next_deadline();
        tokio::select! {
            biased;
            _ = closing.changed() => {
                let how = closing.borrow().clone();
                if let Some(how) = how {
                    s.close_socket(how).await;
                }
                break;
            }
            _ = stop.changed() => {
                s.close_socket(CloseHow::Code(1001, String::new())).await;
                break;
            }
            m = s.ws.recv() => match m {
                Some(Ok(m)) => s.on_ws_message(m).await,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                        // Like cowboy's max_frame_size: the connection is closed.
                        tracing::info!(socket = handle.id, "frame over the 5 MB limit: closing with 1009");
                        s.close_socket(CloseHow::Code(1009, "message too big".into())).await;
                    } else {
                        tracing::debug!(socket = handle.id, "socket read error: {text}");
                    }
                    break;
                }
                None => break,
            },
            Some(out) = rx.recv() => s.on_outbound(out).await,
            _ = tokio::time::sleep_until(deadline) => s.on_deadline().await,
            _ = &mut dies, if lifetime.is_some() => {
                tracing::debug!(socket = handle.id, "socketLifetime fault: dropping the connection");
                s.close_socket(CloseHow::Abrupt).await;
                break;
            }
        }
    }
    // Ended without a close frame either way (the peer went away, a read or write failed).
    s.record_close(By::Client, None, None);
    s.teardown_all();
    s.rt().unregister(handle.id);
    tracing::debug!(socket = handle.id, "socket closed");
}

impl Session {
    fn next_deadline(&self) -> Instant {
        let idle = self.last_in + self.rt().settings.idle_timeout;
        self.channels.values().map(|c| c.check_at).fold(idle, Instant::min)
    }

    async fn on_deadline(&mut self) {
        let now = Instant::now();
        if now >= self.last_in + self.rt().settings.idle_timeout {
            tracing::debug!(socket = self.handle.id, "idle timeout");
            self.close_socket(CloseHow::Code(1000, String::new())).await;
            self.ended = true;
            return;
        }
        let due: Vec<String> = self.channels.values().filter(|c| c.check_at <= now).map(|c| c.topic.clone()).collect();
        for topic in due {
            self.check_token(&topic, false).await;
        }
    }

    /// Records how the socket ended (the first cause only).
    fn record_close(&mut self, by: By, code: Option<u16>, reason: Option<&str>) {
        if !std::mem::replace(&mut self.close_recorded, true) {
            let reason = reason.map(Into::into);
            self.state.events.record(events::Event::WsClose { conn: self.handle.id, by, code, reason });
        }
    }

    /// Who the socket acts for on `topic`: the channel's token, else the connect token.
    fn user_on(&self, topic: &str) -> Option<Arc<str>> {
        self.channels.get(topic).map_or_else(|| self.user.clone(), |c| c.user.clone())
    }

    /// Sends a close frame (or drops the connection) and ends the loop.
    pub(super) async fn close_socket(&mut self, how: CloseHow) {
        match &how {
            CloseHow::Code(code, reason) => self.record_close(By::Server, Some(*code), Some(reason)),
            CloseHow::Abrupt => self.record_close(By::Server, None, None),
        }
        if let CloseHow::Code(code, reason) = how {
            let frame = CloseFrame { code, reason: reason.into() };
            let sent = tokio::time::timeout(Duration::from_secs(1), self.ws.send(Message::Close(Some(frame)))).await;
            if matches!(sent, Ok(Ok(()))) {
                // The closing handshake (RFC 6455 §7.1.1): read until the client's close frame
                // (or a short deadline) before the connection is dropped. Dropping it with
                // frames still unread makes the kernel answer with a reset, and the client
                // then loses our close frame and sees 1006 instead of the code.
                let drain = async {
                    while let Some(Ok(m)) = self.ws.recv().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                };
                tokio::time::timeout(Duration::from_secs(1), drain).await.ok();
            }
        }
        self.ended = true;
    }

    async fn on_ws_message(&mut self, m: Message) {
        self.last_in = Instant::now();
        let wire = match m {
            Message::Text(t) => WireMsg::Text(t.as_str().to_owned()),
            Message::Binary(b) => WireMsg::Binary(b.to_vec()),
            Message::Ping(_) | Message::Pong(_) => return,
            Message::Close(frame) => {
                match frame {
                    Some(f) => self.record_close(By::Client, Some(f.code), Some(f.reason.as_str())),
                    None => self.record_close(By::Client, None, None),
                }
                self.ended = true;
                return;
            }
        };
        self.rt().stats.frames_in.fetch_add(1, Ordering::Relaxed);
        if self.conn.vsn == Vsn::V1 && matches!(wire, WireMsg::Binary(_)) {
            tracing::info!(socket = self.handle.id, "MalformedWebSocketMessage: binary frame on a V1 socket (dropped)");
            return;
        }
        match frame::decode(&wire, self.conn.vsn, Side::Client) {
            Ok(f) => {
                self.record_in(&f);
                self.on_frame(f).await
            }
            Err(e) => {
                // The socket stays open (protocol reference §2.2).
                tracing::info!(socket = self.handle.id, code = e.code(), "MalformedWebSocketMessage: frame dropped");
            }
        }
    }

    async fn on_frame(&mut self, f: Frame) {
        if f.topic == PHOENIX_TOPIC {
            if f.event == "heartbeat" {
                self.reply(f.join_ref.clone(), f.msg_ref.clone(), &f.topic, "ok", "{}", "heartbeat").await;
            } else {
                self.unmatched(&f).await;
            }
            return;
        }
        match Event::parse(&f.event) {
            Event::Join if f.topic.starts_with(TOPIC_PREFIX) => self.on_join(f).await,
            Event::Leave => self.on_leave(f).await,
            _ if self.channels.contains_key(&f.topic) => self.on_channel_event(f).await,
            _ => self.unmatched(&f).await,
        }
    }

    /// `{"status":"error","response":{"reason":"unmatched topic"}}`.
    async fn unmatched(&mut self, f: &Frame) {
        self.reply(
            f.join_ref.clone(),
            f.msg_ref.clone(),
            &f.topic,
            "error",
            r#"{"reason":"unmatched topic"}"#,
            &f.event,
        )
        .await;
    }

    /// Records a decoded client frame (`token` for joins and `access_token` pushes).
    fn record_in(&self, f: &Frame) {
        let token = match (&f.payload, f.event.as_str()) {
            (Payload::Json(p), "phx_join" | "access_token") => {
                json::field(p, "access_token").ok().flatten().and_then(json::str_of).and_then(|t| TokenInfo::of(&t))
            }
            _ => None,
        };
        self.state.events.record(events::Event::FrameIn {
            conn: self.handle.id,
            topic: f.topic.as_str().into(),
            event: f.event.as_str().into(),
            msg_ref: f.msg_ref.as_deref().map(Into::into),
            join_ref: f.join_ref.as_deref().map(Into::into),
            user: self.user_on(&f.topic),
            token,
        });
    }

    /// Records a frame about to be sent as `user`.
    fn record_out(&self, f: &Frame, user: Option<Arc<str>>) {
        let text = |raw: Option<&str>| raw.and_then(json::str_of).map(Into::into);
        let (status, user_event, msg_id) = match (&f.payload, f.event.as_str()) {
            (Payload::Json(p), "phx_reply") => (text(json::field(p, "status").ok().flatten()), None, None),
            (Payload::Json(p), "broadcast") => {
                let fields = json::fields(p).unwrap_or_default();
                let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
                let id = get("meta").and_then(|m| json::field(m, "id").ok().flatten());
                (None, text(get("event")), text(id))
            }
            (Payload::UserBroadcast(ub), _) => {
                let id = json::field(&ub.metadata, "id").ok().flatten();
                (None, Some(ub.event.as_str().into()), text(id))
            }
            _ => (None, None, None),
        };
        self.state.events.record(events::Event::FrameOut {
            conn: self.handle.id,
            topic: f.topic.as_str().into(),
            event: f.event.as_str().into(),
            msg_ref: f.msg_ref.as_deref().map(Into::into),
            status,
            user,
            user_event,
            msg_id,
        });
    }

    /// Sends one frame for whoever the socket acts for on its topic.
    pub(super) async fn send(&mut self, f: &Frame) {
        let user = self.user_on(&f.topic);
        self.send_as(f, user).await;
    }

    /// Sends one frame, recorded as sent to `user`. A failed send ends the connection.
    pub(super) async fn send_as(&mut self, f: &Frame, user: Option<Arc<str>>) {
        let msg = match frame::encode(f, self.conn.vsn, Side::Server) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(socket = self.handle.id, code = e.code(), "frame not encodable: dropped");
                return;
            }
        };
        self.record_out(f, user);
        self.send_wire(msg).await;
    }

    /// Sends a raw message (fault injection), recorded as the frame it decodes to, if any.
    async fn send_raw(&mut self, msg: WireMsg) {
        if let Ok(f) = frame::decode(&msg, self.conn.vsn, Side::Server) {
            let user = self.user_on(&f.topic);
            self.record_out(&f, user);
        }
        self.send_wire(msg).await;
    }

    /// Writes `msg` `n` times, flushing once: no decoding, recording or per-frame flush, so
    /// the reader, not this server, sets the rate.
    async fn flood(&mut self, msg: WireMsg, n: u32) {
        let m = ws_message(msg);
        for _ in 0..n {
            if self.ws.feed(m.clone()).await.is_err() {
                self.ended = true;
                return;
            }
        }
        if self.ws.flush().await.is_err() {
            self.ended = true;
        }
        self.rt().stats.frames_out.fetch_add(u64::from(n), Ordering::Relaxed);
    }

    async fn send_wire(&mut self, msg: WireMsg) {
        if self.ws.send(ws_message(msg)).await.is_err() {
            self.ended = true;
        } else {
            self.rt().stats.frames_out.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A `phx_reply`, subject to the reply faults for `for_event`.
    pub(super) async fn reply(
        &mut self,
        join_ref: Option<String>,
        msg_ref: Option<String>,
        topic: &str,
        status: &str,
        response: &str,
        for_event: &str,
    ) {
        match self.rt().faults.reply_fault(for_event, topic) {
            Some(super::faults::ReplyFault::Drop) => return,
            Some(super::faults::ReplyFault::Delay(d)) => self.pause(d).await,
            None => {}
        }
        let f = Frame {
            join_ref,
            msg_ref,
            topic: topic.to_owned(),
            event: "phx_reply".into(),
            payload: Payload::Json(reply_payload(status, response)),
        };
        self.send(&f).await;
    }

    /// Sleeps, unless the socket is being closed meanwhile.
    pub(super) async fn pause(&mut self, d: Duration) {
        if d.is_zero() {
            return;
        }
        let mut closing = self.closing.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = closing.changed() => {}
        }
    }

    /// A push from a channel: `[join_ref, null, topic, event, payload]`.
    pub(super) async fn push(&mut self, join_ref: Option<String>, topic: &str, event: &str, payload: String) {
        let f = Frame {
            join_ref,
            msg_ref: None,
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload: Payload::Json(payload),
        };
        self.send(&f).await;
    }

    async fn on_outbound(&mut self, out: Outbound) {
        match out {
            Outbound::Fan { chan, msg } => self.deliver(chan, &msg).await,
            Outbound::Raw(m) => self.send_raw(m).await,
            Outbound::Flood(m, n) => self.flood(m, n).await,
            Outbound::ExpireNow { sub } => {
                let topics: Vec<String> = self
                    .channels
                    .values()
                    .filter(|c| sub.as_deref().is_none_or(|s| c.claims.sub() == Some(s)))
                    .map(|c| c.topic.clone())
                    .collect();
                for t in topics {
                    self.check_token(&t, true).await;
                }
            }
        }
    }

    async fn deliver(&mut self, chan: ChanId, msg: &FanMsg) {
        let Some(c) = self.channels.values().find(|c| c.id == chan) else { return };
        let topic = c.topic.clone();
        match msg {
            FanMsg::Json { event, payload, id } => {
                if id.as_ref().is_some_and(|id| c.replayed.contains(id)) {
                    return;
                }
                let f = Frame {
                    join_ref: None,
                    msg_ref: None,
                    topic,
                    event: (*event).to_owned(),
                    payload: Payload::Json(payload.clone()),
                };
                self.send(&f).await;
            }
            FanMsg::User { ub, id } => {
                if id.as_ref().is_some_and(|id| c.replayed.contains(id)) {
                    return;
                }
                let payload = match (self.conn.vsn, &ub.data) {
                    (Vsn::V2, _) => Payload::UserBroadcast(ub.clone()),
                    (Vsn::V1, UserData::Json(data)) => Payload::Json(user_broadcast_json(ub, data)),
                    // Binary payloads cannot travel on V1 sockets: dropped (§2.1).
                    (Vsn::V1, UserData::Binary(_)) => return,
                };
                let f = Frame { join_ref: None, msg_ref: None, topic, event: "broadcast".into(), payload };
                self.send(&f).await;
            }
        }
    }
}

/// A user broadcast as the JSON broadcast V1 sockets receive.
pub(crate) fn user_broadcast_json(ub: &UserBroadcast, data: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("event", &ub.event).raw("payload", data).str("type", "broadcast");
    if !ub.metadata.is_empty() {
        w.raw("meta", &ub.metadata);
    }
    w.finish()
}

/// A wire message as axum sends it.
fn ws_message(msg: WireMsg) -> Message {
    match msg {
        WireMsg::Text(t) => Message::Text(t.into()),
        WireMsg::Binary(b) => Message::Binary(b.into()),
    }
}
