//! Joining and leaving: `subscribe()` / `unsubscribe()` / `removeChannel()`, sending the join
//! (its payload built at send time from the [`TokenView`], G1, and only once auth is resolved,
//! G2), join replies and timeouts, the rejoin backoff, token changes (`access_token` pushes,
//! G3; sign-out and user switch, G5) and recovery after the server ended a channel for an
//! expired token (G6). The state changes themselves are [`Channel`](super::channel::Channel)
//! methods; this file adds what needs the socket, the timers and the app events.
//!
//! Leaving is immediate, as in realtime-js: `phx_leave` goes out (when the server may hold a
//! membership) and the channel closes in the same call, without waiting for the reply; its
//! later frames carry the old `join_ref` and are dropped as stale.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::{Frame, Payload};
use authwire_wire::realtime::{self as rt, access_token_payload, join_payload, Event};

use super::channel::{Channel, ChannelState, Gap};
use super::socket::Sock;
use super::timers::Timer;
use super::{Realtime, Signal};
use crate::error::{ChannelError, ChannelOpError, PushError};
use crate::io::{AppEvent, ChannelId, Outbox, PushOutcome, SubscribeStatus, Ticket};
use crate::time::{Millis, Now};
use crate::token::{TokenChange, TokenView};

impl Realtime {
    /// Starts joining. `timeout_ms` overrides the join timeout for this channel.
    pub fn subscribe(
        &mut self,
        id: ChannelId,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let t = self.chan(id)?.subscribe(timeout_ms)?;
        // realtime-js's subscribe() connects a socket that was disconnected.
        self.held_down = false;
        self.timers.set(Timer::Join(id), now.mono.add(t));
        self.ensure_connected(now, view, out);
        self.try_join(id, now, view, out);
        Ok(())
    }

    /// Leaves the channel: `phx_leave` goes out if the server may hold a membership, and the
    /// channel closes now (`CLOSED`; the ticket resolves `ok`), as realtime-js's `unsubscribe()`
    /// does. The name is free at once for a new channel.
    pub fn unsubscribe(&mut self, id: ChannelId, ticket: Option<Ticket>, _now: Now, out: &mut Outbox) {
        if let Some(ch) = self.channels.get_mut(&id) {
            ch.stop_wanting();
            // The server may hold a membership even if a rejoin is pending, so leave.
            if ch.may_hold_membership() {
                self.leave_silently(id, out);
            }
            self.finish_close(id, None, out);
        }
        if let Some(t) = ticket {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
        }
    }

    /// Unsubscribes and forgets the channel. When no channel is left the socket closes after
    /// `disconnect_on_empty_ms`.
    pub fn remove_channel(&mut self, id: ChannelId, ticket: Option<Ticket>, now: Now, out: &mut Outbox) {
        self.unsubscribe(id, ticket, now, out);
        self.drop_channel(id);
        self.maybe_idle(now);
    }

    /// `removeAllChannels()`: removes every registered channel (each `tickets` entry resolves
    /// `ok`, in `channel_ids()` order), then disconnects, as realtime-js does.
    pub fn remove_all_channels(&mut self, tickets: &[(ChannelId, Ticket)], now: Now, out: &mut Outbox) {
        for (id, t) in tickets {
            self.remove_channel(*id, Some(*t), now, out);
        }
        self.disconnect_then(None, now, out);
    }

    /// Sends the join of channel `id` if everything it needs is there: an open socket, a
    /// resolved token (G2), and (when recovering from an expiry) a new token (G6). The payload
    /// is built now, from `view` (G1).
    pub(super) fn try_join(&mut self, id: ChannelId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        let Some(ch) = self.channels.get(&id) else { return };
        if !ch.ready_to_join(view.generation) {
            return;
        }
        if self.timers.is_set(Timer::Rejoin(id)) {
            return;
        }
        let r = self.next_ref();
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let mut cfg = ch.config.clone();
        cfg.postgres_changes = ch.bindings.specs();
        cfg.replay = ch.join_replay(view.skew_ms.saturating_sub(self.jumped_ms));
        let payload = join_payload(&cfg, view.token);
        ch.join_went_out(r.clone(), view.generation, view.role);
        let t = ch.timeout_ms();
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

    /// The reply to the join in flight: joined (then the token push G3 may owe it and its
    /// buffered pushes), errored with a rejoin, or recovering (G6) on an expired token.
    pub(super) fn on_join_reply(
        &mut self,
        id: ChannelId,
        reply: &rt::Reply<'_>,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) {
        self.timers.stop(Timer::Join(id));
        if reply.is_ok() {
            let echo = reply.postgres_changes().unwrap_or_default();
            let Some(ch) = self.channels.get_mut(&id) else { return };
            if !ch.bindings.apply_reply(&echo) {
                // realtime-js leaves first (`CLOSED`), then reports the mismatch.
                ch.mark_joined(now.wall);
                self.unsubscribe(id, None, now, out);
                out.event(AppEvent::ChannelStatus {
                    channel: id,
                    status: SubscribeStatus::ChannelError,
                    error: Some(ChannelError::BindingMismatch),
                });
                return;
            }
            let gap = ch.mark_joined(now.wall);
            out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Subscribed, error: None });
            if let Some(gap) = gap {
                // Before anything live of the new join reaches the app.
                out.event(AppEvent::System { channel: id, payload: gap_payload(&gap), code: Some("gap") });
            }
            // G3 for a join that was in flight while the token changed.
            self.push_token_if_stale(id, view, out);
            self.flush(id, view, out);
        } else {
            let reason = reply.reason();
            if let Some(ch) = self.channels.get_mut(&id) {
                ch.join_refused(&reason);
            }
            let err = ChannelError::from_join_reason(reason);
            if matches!(err, ChannelError::Refused { .. } | ChannelError::InvalidJwt { .. }) {
                self.signals.push(Signal::TokenRefused { error: err.clone() });
            }
            if matches!(err, ChannelError::TokenExpired { .. }) {
                self.recover(id, err, now, view, out);
            } else {
                self.set_errored(id, SubscribeStatus::ChannelError, Some(err), now, out);
                self.schedule_rejoin(id, now);
            }
        }
    }

    /// The join was not answered in time: errored, rejoin scheduled.
    pub(super) fn join_timed_out(&mut self, id: ChannelId, now: Now, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        if !ch.wanted() || ch.state() != ChannelState::Joining {
            return;
        }
        if ch.join_sent() {
            // Tell the server to drop the half-made join (Phoenix does the same).
            self.leave_silently(id, out);
        }
        // realtime-js reports `TIMED_OUT` with no error.
        self.set_errored(id, SubscribeStatus::TimedOut, None, now, out);
        self.schedule_rejoin(id, now);
    }

    /// Puts an errored channel back to joining after its rejoin delay.
    pub(super) fn schedule_rejoin(&mut self, id: ChannelId, now: Now) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        if !ch.wanted() {
            return;
        }
        let delay = self.cfg.rejoin.delay(ch.next_rejoin_attempt(), &mut self.rng);
        self.timers.set(Timer::Rejoin(id), now.mono.add(delay));
    }

    /// The rejoin delay is over: an errored channel joins again.
    pub(super) fn rejoin_due(&mut self, id: ChannelId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if let Some(ch) = self.channels.get_mut(&id) {
            if ch.retry_join() {
                let t = ch.timeout_ms();
                self.timers.set(Timer::Join(id), now.mono.add(t));
            }
        }
        self.ensure_connected(now, view, out);
        self.try_join(id, now, view, out);
    }

    /// Errors the channel and reports `status` with `error` (the caller schedules a rejoin).
    pub(super) fn set_errored(
        &mut self,
        id: ChannelId,
        status: SubscribeStatus,
        error: Option<ChannelError>,
        now: Now,
        out: &mut Outbox,
    ) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let lost = ch.mark_errored(now.wall);
        self.timers.stop(Timer::Join(id));
        self.settle_pushes(id, lost, PushError::ChannelClosed, out);
        out.event(AppEvent::ChannelStatus { channel: id, status, error });
    }

    /// A channel ended: state closed, out of the registry, buffered and in-flight pushes fail,
    /// `CLOSED` reported. realtime-js gives `CLOSED` no error; authwire gives one only where
    /// it closed the channel itself for a reason of its own (`signed_out`, G5).
    pub(super) fn finish_close(&mut self, id: ChannelId, error: Option<ChannelError>, out: &mut Outbox) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let ended = ch.close();
        self.clear_channel_timers(id);
        for t in ended.failed_pushes {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(PushError::ChannelClosed) });
        }
        if !ended.was_closed {
            out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Closed, error });
        }
    }

    /// Re-runs every gated action: connect, joins, token pushes, buffered pushes. The client
    /// calls this whenever the token view may have changed.
    pub fn resume(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.ensure_connected(now, view, out);
        if !view.ready {
            return;
        }
        self.http_flush(view, out);
        if !matches!(self.sock, Sock::Open(_)) {
            // Joins, token pushes and buffered pushes all wait for an open socket.
            return;
        }
        // This runs after every input, each message included: one pass finds the channels
        // with something to do (in the steady state none), and only those are looked up.
        let due: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| !c.ended() && c.may_resume(view.generation))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
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
        if !ch.holds_stale_token(view.generation) {
            return;
        }
        let Some(token) = view.token else {
            // No token to push (signed out with an opaque key): the client rejoins instead.
            return;
        };
        let r = self.next_ref();
        let Some(ch) = self.channels.get_mut(&id) else { return };
        ch.token_pushed(view.generation, view.role);
        let frame = Frame {
            join_ref: ch.join_ref().map(String::from),
            msg_ref: Some(r),
            topic: ch.topic.clone(),
            event: String::from(Event::AccessToken.as_str()),
            payload: Payload::Json(access_token_payload(token)),
        };
        self.send_frame(out, &frame);
    }

    /// The token changed (G3, G5). Call after the client's view reflects the new token.
    pub fn token_changed(&mut self, change: TokenChange, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.watch_clock(now, view.generation);
        match change {
            TokenChange::Rotated => {}
            TokenChange::UserSwitched | TokenChange::SignedOut => {
                for id in self.channel_ids() {
                    let Some(ch) = self.channels.get(&id) else { continue };
                    if !ch.wanted() {
                        continue;
                    }
                    if change == TokenChange::SignedOut && ch.config.private {
                        // A private channel must not outlive its user (G5).
                        self.leave_silently(id, out);
                        self.finish_close(id, Some(ChannelError::SignedOut), out);
                        continue;
                    }
                    if !view.ready {
                        // The new token cannot be joined with yet: the old user's membership
                        // must not wait for it (G5).
                        self.leave_silently(id, out);
                    }
                    // The old user's unsent pushes are not the next user's to send (G5).
                    let queued = self.channels.get_mut(&id).map(Channel::drop_buffered).unwrap_or_default();
                    self.settle_pushes(id, queued, PushError::SignedOut, out);
                    self.restart_join(id, now, out);
                }
            }
        }
        self.resume(now, view, out);
    }

    /// Pushes that will never be answered or sent: their timers stopped, their tickets
    /// resolved `error` with `why`.
    pub(super) fn settle_pushes(&mut self, id: ChannelId, tickets: Vec<Ticket>, why: PushError, out: &mut Outbox) {
        for t in tickets {
            out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Error(why.clone()) });
        }
        if let Some(ch) = self.channels.get(&id) {
            // The timers of pushes no longer held would fire into nothing.
            let held = ch.push_seqs();
            self.timers.stop_where(|t| matches!(t, Timer::Push(c, seq) if *c == id && !held.contains(seq)));
        }
    }

    /// Sends `phx_leave` without waiting for the reply.
    pub(super) fn leave_silently(&mut self, id: ChannelId, out: &mut Outbox) {
        let Some(ch) = self.channels.get(&id) else { return };
        // `join_ref`, not `join_sent`: a membership made by an earlier join outlives a pending
        // rejoin (G5: a private channel must not stay joined after sign-out).
        if ch.join_ref().is_none() || !matches!(self.sock, Sock::Open(_)) {
            return;
        }
        let r = self.next_ref();
        let Some(ch) = self.channels.get(&id) else { return };
        let frame = Frame {
            join_ref: ch.join_ref().map(String::from),
            msg_ref: Some(r),
            topic: ch.topic.clone(),
            event: String::from(Event::Leave.as_str()),
            payload: Payload::Json(String::from("{}")),
        };
        self.send_frame(out, &frame);
    }

    /// Marks a wanted channel to join again with a fresh join (new ref, payload built at send).
    fn restart_join(&mut self, id: ChannelId, now: Now, out: &mut Outbox) {
        let at = self.loss_time(now);
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let lost = ch.restart_join(at);
        let t = ch.timeout_ms();
        self.settle_pushes(id, lost, PushError::ChannelClosed, out);
        self.timers.stop(Timer::Rejoin(id));
        self.timers.set(Timer::Join(id), now.mono.add(t));
    }

    /// G6: the server ended the channel because its token expired. Report `RECOVERING`, ask
    /// the client for a fresh token, and rejoin once it is there.
    pub(super) fn recover(
        &mut self,
        id: ChannelId,
        err: ChannelError,
        now: Now,
        view: &TokenView<'_>,
        out: &mut Outbox,
    ) {
        let Some(ch) = self.channels.get_mut(&id) else { return };
        let (held, lost) = ch.await_fresh_token(view.generation, now.wall);
        self.settle_pushes(id, lost, PushError::ChannelClosed, out);
        self.timers.stop(Timer::Join(id));
        self.timers.stop(Timer::Rejoin(id));
        out.event(AppEvent::ChannelStatus { channel: id, status: SubscribeStatus::Recovering, error: Some(err) });
        self.signals.push(Signal::TokenExpired { generation: held });
    }
}

/// The `system` payload of a gap: `{ event: 'gap', from, to, reason }` (ms since the epoch)
/// in the shape of the server's `system` messages.
pub(super) fn gap_payload(gap: &Gap) -> String {
    let mut w = authwire_wire::json::ObjectWriter::new();
    w.str("event", "gap")
        .u64("from", gap.from.as_millis())
        .u64("to", gap.to.as_millis())
        .str("reason", gap.reason)
        .str("extension", "system")
        .str("status", "ok")
        .str("message", "the channel was not joined for a while; what was sent meanwhile is not replayed");
    w.finish()
}
