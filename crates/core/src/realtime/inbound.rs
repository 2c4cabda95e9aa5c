//! Inbound frames: decoding a socket message, dropping what is stale (another connection, an
//! older join of the topic, a channel that ended), routing replies to the join or push they
//! answer, and
//! turning server events into app events: broadcasts (JSON and binary), presence state and
//! diffs, Postgres changes (routed to their bindings), `system` messages, and `phx_error` /
//! `phx_close`, where a close after a token-expired `system` error is healed (G6).

use alloc::string::String;

use authwire_wire::frame::{self, Frame, Payload, Side, UserData, WireMsg};
use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::realtime::{
    self as rt, parse_postgres_changes, parse_presence_diff, parse_presence_state, parse_reply, Event, System,
    PHOENIX_TOPIC,
};

use super::channel::ChannelState;
use super::socket::Sock;
use super::timers::Timer;
use super::{Realtime, Signal};
use crate::error::ChannelError;
use crate::io::{concat, AppEvent, ChannelId, ConnId, Level, Outbox, SubscribeStatus};
use crate::time::Now;
use crate::token::TokenView;

impl Realtime {
    /// A message arrived.
    pub fn handle_message(&mut self, conn: ConnId, msg: &WireMsg, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !matches!(self.sock, Sock::Open(c) if c == conn) {
            return;
        }
        self.heard_at = now.wall;
        self.watch_clock(now, view.generation);
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

    /// Routes a decoded frame to the registered channel of its topic, dropping frames of an
    /// older join (also one of an ended channel of the same name).
    fn handle_frame(&mut self, f: Frame, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if f.topic == PHOENIX_TOPIC {
            self.on_heartbeat_reply(&f, now, out);
            return;
        }
        let Some(id) = self.registered(&f.topic) else { return };
        let Some(ch) = self.channels.get(&id) else { return };
        // Strict on the client side: a frame of another join of this topic is stale (§4.4),
        // and so is any join_ref before this channel's own join went out.
        if f.join_ref.is_some() && f.join_ref.as_deref() != ch.join_ref() {
            return;
        }
        // V1 frames carry no join_ref, but a `phx_close` or `phx_error` has the join_ref of the
        // join it ends as its ref: one for an older join (the server closing it because we
        // joined again, or the channel this one replaced) must not end the current one.
        if f.join_ref.is_none() && matches!(Event::parse(&f.event), Event::Close | Event::Error) {
            let Some(cur) = ch.join_ref() else { return };
            if f.msg_ref.as_deref().is_some_and(|r| r != cur) {
                return;
            }
        }
        match Event::parse(&f.event) {
            Event::Reply => self.on_reply(id, &f, now, view, out),
            Event::Close => self.on_close(id, now, view, out),
            Event::Error if matches!(ch.state(), ChannelState::Joined | ChannelState::Joining) && ch.join_sent() => {
                let crash = ChannelError::Server { reason: String::new() };
                self.set_errored(id, SubscribeStatus::ChannelError, Some(crash), now, out);
                self.schedule_rejoin(id, now);
            }
            Event::System => {
                if let Payload::Json(p) = &f.payload {
                    let mut code = None;
                    if let Ok(sys) = System::parse(p) {
                        if sys.extension == "postgres_changes" {
                            self.report_feed_gap(id, now, out);
                        }
                        if sys.status == "error" {
                            if let Some(ch) = self.channels.get_mut(&id) {
                                ch.note_system_error(sys.message.clone());
                                // The server refused a filter authwire refused too: add its code.
                                if sys.extension == "postgres_changes" && ch.bindings.has_invalid() {
                                    code = Some("invalid_filter");
                                }
                            }
                        }
                    }
                    out.event(AppEvent::System { channel: id, payload: p.clone(), code });
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
                    self.report_feed_gap(id, now, out);
                    self.on_postgres_change(id, p, out);
                }
            }
            // Unknown and client-only events are ignored (decoded to `Other`).
            _ => {}
        }
    }

    /// `phx_reply`: to the join in flight, the leave in flight, or a push.
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
        let Some(ch) = self.channels.get(&id) else { return };
        if ch.is_join_reply(msg_ref) {
            self.on_join_reply(id, &reply, now, view, out);
        } else {
            self.on_push_reply(id, msg_ref, &reply, out);
        }
    }

    /// `phx_close`: a close after a token-expired `system` error recovers (G6); any other ends
    /// the channel (`CLOSED` with no error, as realtime-js; the `system` message that came
    /// before it says why).
    fn on_close(&mut self, id: ChannelId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        if !ch.wanted() {
            return;
        }
        let error = ch.last_system_error().map(String::from).map(ChannelError::from_system_message);
        if let Some(err @ ChannelError::TokenExpired { .. }) = error {
            self.recover(id, err, now, view, out);
            return;
        }
        // Any other server close is terminal for this channel instance (§4.6, §10.4). A token
        // refusal is named on the `CLOSED` status too (realtime-js reports a bare `CLOSED`).
        let refusal = error.filter(|e| matches!(e, ChannelError::Refused { .. } | ChannelError::InvalidJwt { .. }));
        if let Some(err) = &refusal {
            self.signals.push(Signal::TokenRefused { error: err.clone() });
        }
        self.finish_close(id, refusal, out);
    }

    /// `broadcast`: JSON or binary (V2 user broadcast), to the app as realtime-js shapes it.
    fn on_broadcast(&mut self, id: ChannelId, payload: Payload, out: &mut Outbox) {
        // `meta.id` (database and HTTP broadcasts with an id) de-duplicates a replayed message
        // and its live copy; `meta.replayed` counts the replay toward the server's limit.
        // One pass over a JSON payload's members finds both `event` and `meta`.
        let (event, meta) = match &payload {
            Payload::Json(p) => {
                let members = json::fields(p).unwrap_or_default();
                let raw = |key: &str| members.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
                (raw("event").and_then(json::str_of).unwrap_or_default(), raw("meta").map(String::from))
            }
            Payload::UserBroadcast(ub) if !ub.metadata.is_empty() => (String::new(), Some(ub.metadata.clone())),
            _ => (String::new(), None),
        };
        let mid = meta.as_deref().and_then(|m| json::field(m, "id").ok().flatten()).and_then(json::str_of);
        let replayed = meta.as_deref().and_then(|m| json::field(m, "replayed").ok().flatten()) == Some("true");
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let (fresh, gap) = ch.take_broadcast(mid.as_deref(), replayed);
        if fresh {
            self.deliver_broadcast(id, event, payload, out);
        }
        if let Some(gap) = gap {
            out.event(AppEvent::System { channel: id, payload: super::join::gap_payload(&gap), code: Some("gap") });
        }
    }

    /// `event`: a JSON payload's `event` member, read by the caller (kind 4 carries its own).
    fn deliver_broadcast(&mut self, id: ChannelId, event: String, payload: Payload, out: &mut Outbox) {
        match payload {
            Payload::Json(p) => {
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

    /// The held `postgres_changes` gap of a rejoin, once the feed is back (before anything of it).
    fn report_feed_gap(&mut self, id: ChannelId, now: Now, out: &mut Outbox) {
        if let Some(gap) = self.channels.get_mut(&id).and_then(|c| c.take_feed_gap(now.wall)) {
            out.event(AppEvent::System { channel: id, payload: super::join::gap_payload(&gap), code: Some("gap") });
        }
    }

    /// `postgres_changes`: shaped as realtime-js does and routed to the matching bindings.
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
}
