//! Pushes: broadcasts (over the socket, or over HTTP per [`super::BroadcastFallback`]: when
//! the channel is not subscribed, or, as realtime-js, whenever it is not joined), presence
//! track / untrack, the per-channel buffer that holds them until the channel is joined and
//! auth is ready (G2), and their outcomes: the reply (or `ok` at once without
//! `broadcast.ack`), the timeout that starts when the push is made, and buffer overflow.

use alloc::string::String;

use authwire_wire::frame::{Frame, Payload, UserBroadcast, UserData, Vsn};
use authwire_wire::realtime::{self as rt, broadcast_payload, presence_payload, Event};

use super::channel::{ChannelState, PushKind};
use super::socket::Sock;
use super::timers::Timer;
use super::{BroadcastFallback, HttpChannel, HttpTarget, Realtime};
use crate::error::{ChannelOpError, PushError};
use crate::io::{AppEvent, ChannelId, Outbox, PushOutcome, Ticket};
use crate::time::{Millis, Now};
use crate::token::TokenView;

impl Realtime {
    /// Sends a broadcast with the default timeout (see [`Realtime::send_broadcast_within`]).
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
        self.send_broadcast_within(id, event, data, ticket, None, now, view, http, out)
    }

    /// Sends a broadcast over the socket, or to the HTTP broadcast endpoint (`http` gives its
    /// URL and key) when [`super::BroadcastFallback`] says so; `timeout_ms` overrides the
    /// timeout of this one message (realtime-js's `send(args, { timeout })`).
    #[allow(clippy::too_many_arguments)]
    pub fn send_broadcast_within(
        &mut self,
        id: ChannelId,
        event: &str,
        data: UserData,
        ticket: Ticket,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let size = match &data {
            UserData::Json(p) => p.len(),
            UserData::Binary(b) => b.len(),
        };
        self.check_payload_size(size)?;
        let can_push = matches!(self.sock, Sock::Open(_));
        let fallback = self.cfg.broadcast_fallback;
        let ch = self.chan(id)?;
        let over_http = match fallback {
            BroadcastFallback::Unsubscribed => !ch.wanted(),
            BroadcastFallback::NotJoined => !(can_push && ch.state() == ChannelState::Joined),
        };
        if over_http {
            let (sub_topic, private) = (String::from(ch.sub_topic()), ch.config.private);
            let target = HttpChannel { sub_topic: &sub_topic, private };
            return self.broadcast_over_http(target, event, data, ticket, timeout_ms, now, view, http, out);
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
        let broadcast = String::from(Event::Broadcast.as_str());
        self.queue_push(id, PushKind::Broadcast, broadcast, payload, Some(ticket), timeout_ms, now, view, out);
        Ok(())
    }

    /// Refuses what the server would drop for its size (`max_payload_bytes`), before sending.
    pub(super) fn check_payload_size(&self, size: usize) -> Result<(), ChannelOpError> {
        match self.cfg.max_payload_bytes {
            Some(max) if size > max => Err(ChannelOpError::PayloadTooLarge),
            _ => Ok(()),
        }
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
        self.check_payload_size(payload_json.map_or(0, str::len))?;
        let p = Payload::Json(presence_payload(event, payload_json));
        let presence = String::from(Event::Presence.as_str());
        self.queue_push(id, PushKind::Presence, presence, p, Some(ticket), None, now, view, out);
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
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) {
        let limit = self.cfg.push_buffer_limit;
        let Some(ch) = self.channels.get_mut(&id) else { return };
        if !ch.wanted() {
            if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::ChannelClosed) });
            }
            return;
        }
        let t = timeout_ms.unwrap_or(ch.timeout_ms());
        let Some(seq) = ch.enqueue(kind, event, payload, ticket, limit) else {
            // Full: this push is refused at once, typed; the queued ones keep their place.
            if let Some(t) = ticket {
                out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::QueueFull) });
            }
            return;
        };
        // The timeout starts now, buffered or not (§4.7).
        self.timers.set(Timer::Push(id, seq), now.mono.add(t));
        self.flush(id, view, out);
    }

    /// Sends buffered pushes of a joined channel, in order, while auth is ready.
    pub(super) fn flush(&mut self, id: ChannelId, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        loop {
            let Some(ch) = self.channels.get_mut(&id) else { return };
            let Some(q) = ch.next_to_send() else { return };
            let ack = ch.config.broadcast_ack;
            let join_ref = ch.join_ref().map(String::from);
            let topic = ch.topic.clone();
            let r = self.next_ref();
            let frame = Frame { join_ref, msg_ref: Some(r.clone()), topic, event: q.event, payload: q.payload };
            let sent = self.send_frame(out, &frame);
            let wants_reply = q.kind == PushKind::Presence || ack;
            if sent && wants_reply {
                if let Some(ch) = self.channels.get_mut(&id) {
                    ch.await_reply(q.seq, r, q.ticket);
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

    /// The reply to a push in flight: its ticket resolves `ok` or with the server's reason.
    pub(super) fn on_push_reply(&mut self, id: ChannelId, msg_ref: &str, reply: &rt::Reply<'_>, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let Some(p) = ch.take_reply(msg_ref) else { return };
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

    /// Push `seq` was not sent or answered in time: its ticket resolves `timed out`.
    pub(super) fn push_timed_out(&mut self, id: ChannelId, seq: u64, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        if let Some(t) = ch.forget_push(seq) {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::TimedOut });
        }
    }
}
