//! The socket: connecting (the URL is built at each connect from the current view, G7),
//! opened / closed / lost, the ref counter and the one path every frame is sent through, the
//! heartbeat and its deadline, health checks on wake, `online` and visibility, the reconnect
//! backoff (or the application's `reconnectAfterMs(tries)`, asked through an output and
//! answered by an input in the same drain), `disconnect()`, and closing when idle. Losing the
//! socket errors the channels that are joining or joined, as realtime-js does; opening one
//! makes every wanted channel join at once (the joins themselves are in `join.rs`).
//!
//! `disconnect()` closes as realtime-js's does, with no status code, and its channels error
//! (and its promise resolves) when the browser reports the close, with the close code the
//! browser reports, so they see what realtime-js's see.

use alloc::string::String;

use authwire_wire::frame::{self, Frame, Payload, Side};
use authwire_wire::json;
use authwire_wire::realtime::{parse_reply, Event, PHOENIX_TOPIC};
use authwire_wire::url::encode_component;

use super::channel::ChannelState;
use super::timers::Timer;
use super::{Realtime, Signal};
use crate::error::ChannelError;
use crate::io::{
    concat, AppEvent, ConnId, HeartbeatStatus, Level, Outbox, Output, PushOutcome, SubscribeStatus, Ticket,
};
use crate::time::{Millis, Now};
use crate::token::TokenView;

/// Where the socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sock {
    /// Not connected (and maybe waiting for a reconnect).
    Idle,
    /// `Output::Connect` went out for this connection.
    Connecting(ConnId),
    /// This connection is open.
    Open(ConnId),
    /// `disconnect()` closed this connection; the browser's report of the close is awaited.
    Closing(ConnId),
}

/// The close code a browser reports when the close frame had none: what realtime-js's
/// `disconnect()` sends, and what `Output::Close` asks for (the shell then calls `close()`
/// with no arguments).
pub const NO_STATUS: u16 = 1005;

impl Realtime {
    /// The next message ref.
    pub(super) fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        json::u64_text(self.next_ref)
    }

    /// Encodes and sends `frame` on the open socket; `false` if it could not go out.
    pub(super) fn send_frame(&mut self, out: &mut Outbox, frame: &Frame) -> bool {
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

    /// `connect()`: connect even without channels.
    pub fn connect(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        self.manual_connect = true;
        self.held_down = false;
        self.stop_reconnect();
        self.ensure_connected(now, view, out);
    }

    /// `disconnect()`: close the socket (with no status code, as realtime-js) and stop
    /// reconnecting until `connect()` or a `subscribe()`. The channels error, and `ticket`
    /// resolves `ok`, once the browser reports the close (`timed out` if it does not within
    /// the timeout); at once when there is no socket. Channels rejoin on the next socket.
    pub fn disconnect_then(&mut self, ticket: Option<Ticket>, now: Now, out: &mut Outbox) {
        self.manual_connect = false;
        self.held_down = true;
        self.stop_reconnect();
        // realtime-js counts reconnect `tries` afresh after a disconnect.
        self.reconnect_attempt = 0;
        match self.sock {
            Sock::Idle => {
                if let Some(t) = ticket {
                    out.event(AppEvent::PushDone { ticket: t, outcome: PushOutcome::Ok });
                }
                return;
            }
            Sock::Connecting(c) | Sock::Open(c) => {
                out.push(Output::Close { conn: c, code: NO_STATUS, reason: "" });
                self.sock = Sock::Closing(c);
                self.heartbeat = None;
                self.timers.stop(Timer::Heartbeat);
                self.timers.stop(Timer::HeartbeatDeadline);
                self.timers.stop(Timer::Connect);
                self.timers.set(Timer::CloseDeadline, now.mono.add(self.cfg.timeout_ms));
            }
            Sock::Closing(_) => {}
        }
        self.disconnects.extend(ticket);
    }

    /// `disconnect()` without a promise to settle.
    pub fn disconnect(&mut self, now: Now, out: &mut Outbox) {
        self.disconnect_then(None, now, out);
    }

    /// The browser reported the close `disconnect()` asked for (or it never did: `timed_out`).
    fn disconnected(&mut self, code: u16, reason: String, timed_out: bool, now: Now, out: &mut Outbox) {
        self.timers.stop(Timer::CloseDeadline);
        let error = if self.opened_once {
            ChannelError::SocketClosed { code, reason: reason.clone() }
        } else {
            ChannelError::ConnectFailed
        };
        self.last_close = Some((code, reason));
        self.socket_lost(error, true, false, now, out);
        let outcome = if timed_out { PushOutcome::TimedOut } else { PushOutcome::Ok };
        for t in core::mem::take(&mut self.disconnects) {
            out.event(AppEvent::PushDone { ticket: t, outcome: outcome.clone() });
        }
    }

    /// The close `disconnect()` asked for was not reported in time: the socket counts as
    /// closed (a browser's 1006).
    pub(super) fn close_overdue(&mut self, now: Now, out: &mut Outbox) {
        if matches!(self.sock, Sock::Closing(_)) {
            self.disconnected(1006, String::new(), true, now, out);
        }
    }

    /// No reconnect is pending any more (neither its timer nor the app's answer).
    fn stop_reconnect(&mut self) {
        self.timers.stop(Timer::Reconnect);
        self.reconnect_asked = false;
    }

    /// A reconnect is pending: its delay runs, or the app is asked for it.
    fn reconnect_pending(&self) -> bool {
        self.reconnect_asked || self.timers.is_set(Timer::Reconnect)
    }

    /// A socket is wanted: `connect()` was called or a channel wants to be joined (and no
    /// `disconnect()` holds it down).
    pub(super) fn wants_socket(&self) -> bool {
        !self.held_down && (self.manual_connect || self.channels.values().any(|c| c.wanted()))
    }

    /// Connects if a socket is wanted, none is there or waiting to reconnect, the network is
    /// up, and the view has a socket key. The URL is built now, from `view` (G7).
    pub(super) fn ensure_connected(&mut self, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if self.sock != Sock::Idle || !self.wants_socket() || !self.online || self.reconnect_pending() {
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

    /// `conn` is the socket there is (connecting, open or closing).
    pub(super) fn current(&self, conn: ConnId) -> bool {
        matches!(self.sock, Sock::Connecting(c) | Sock::Open(c) | Sock::Closing(c) if c == conn)
    }

    /// The socket opened.
    pub fn handle_opened(&mut self, conn: ConnId, now: Now, view: &TokenView<'_>, out: &mut Outbox) {
        if !matches!(self.sock, Sock::Connecting(c) if c == conn) {
            return;
        }
        self.sock = Sock::Open(conn);
        self.heard_at = now.wall;
        self.opened_once = true;
        self.reconnect_attempt = 0;
        self.heartbeat = None;
        self.timers.stop(Timer::Connect);
        self.timers.stop(Timer::HeartbeatDeadline);
        // Fresh heartbeat state on every open, whatever the timer source (supabase-js#2625).
        self.timers.set(Timer::Heartbeat, now.mono.add(self.cfg.heartbeat_interval_ms));
        for id in self.channel_ids() {
            let Some(ch) = self.channels.get_mut(&id) else { continue };
            // On a new socket every wanted channel joins at once (§4.6).
            if ch.rejoin_on_open() {
                let t = ch.timeout_ms();
                self.timers.stop(Timer::Rejoin(id));
                if !self.timers.is_set(Timer::Join(id)) {
                    self.timers.set(Timer::Join(id), now.mono.add(t));
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
        if self.sock == Sock::Closing(conn) {
            self.disconnected(code, reason, false, now, out);
            return;
        }
        if self.sock == Sock::Connecting(conn) {
            // This attempt never opened: a refused handshake looks like this to a browser.
            self.signals.push(Signal::RefusedBeforeOpen);
        }
        let error = if self.opened_once {
            ChannelError::SocketClosed { code, reason: reason.clone() }
        } else {
            // A browser fires `error` for a socket that never opened: realtime-js's wording.
            ChannelError::ConnectFailed
        };
        self.last_close = Some((code, reason));
        self.socket_lost(error, true, true, now, out);
    }

    /// Closes the socket (if any) with `code` and `reason`; its channels error. With
    /// `reconnect` the reconnect backoff runs, else no reconnect is scheduled.
    pub(super) fn close_socket(
        &mut self,
        code: u16,
        reason: &'static str,
        now: Now,
        out: &mut Outbox,
        reconnect: bool,
    ) {
        let conn = match self.sock {
            // `disconnect()` is closing it already.
            Sock::Idle | Sock::Closing(_) => return,
            Sock::Connecting(c) | Sock::Open(c) => c,
        };
        out.push(Output::Close { conn, code, reason });
        self.last_close = Some((code, String::from(reason)));
        let error = if reason == "heartbeat timeout" {
            ChannelError::HeartbeatTimeout
        } else {
            ChannelError::SocketClosed { code, reason: String::from(reason) }
        };
        // A reconnect for a new token is authwire's own: channels waiting to join are not
        // told about a socket they never used.
        self.socket_lost(error, reason != "token changed", reconnect, now, out);
        if !reconnect {
            self.stop_reconnect();
        }
    }

    /// When channels that stop being joined now were last known to receive: the last frame
    /// the open socket heard (a socket that died silently is found out up to a heartbeat
    /// later, a half-open one never), else now. Their gaps start there.
    pub(super) fn loss_time(&self, now: Now) -> crate::time::UnixTime {
        if matches!(self.sock, Sock::Open(_)) {
            self.heard_at.min(now.wall)
        } else {
            now.wall
        }
    }

    /// The socket is gone: channels joined, or joining (with `waiting_too`, also those whose
    /// join has not gone out yet, as realtime-js reports every joining channel), error, and
    /// (with `reconnect`) a reconnect is scheduled if a socket is still wanted.
    fn socket_lost(&mut self, error: ChannelError, waiting_too: bool, reconnect: bool, now: Now, out: &mut Outbox) {
        let lost = Now { wall: self.loss_time(now), ..now };
        self.sock = Sock::Idle;
        self.heartbeat = None;
        self.timers.stop(Timer::Heartbeat);
        self.timers.stop(Timer::HeartbeatDeadline);
        self.timers.stop(Timer::Connect);
        for id in self.channel_ids() {
            let Some(ch) = self.channels.get(&id) else { continue };
            let report = match ch.state() {
                ChannelState::Joined => true,
                ChannelState::Joining => ch.join_sent() || (waiting_too && ch.wanted()),
                _ => false,
            };
            if report {
                self.set_errored(id, SubscribeStatus::ChannelError, Some(error.clone()), lost, out);
            }
        }
        if reconnect && self.wants_socket() {
            self.schedule_reconnect(now, out);
        }
    }

    /// Arms the next reconnect: from the default policy, or (with `reconnect_from_app`) from
    /// the application's answer, asked for now and handed back by [`Realtime::reconnect_delay`].
    fn schedule_reconnect(&mut self, now: Now, out: &mut Outbox) {
        self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
        if self.cfg.reconnect_from_app {
            self.reconnect_asked = true;
            out.push(Output::ReconnectDelay { tries: self.reconnect_attempt });
        } else {
            let delay = self.cfg.reconnect.delay(self.reconnect_attempt - 1, &mut self.rng);
            self.timers.set(Timer::Reconnect, now.mono.add(delay));
        }
    }

    /// The application's `reconnectAfterMs(tries)` answered (`None`: unusable, the default
    /// policy decides). Ignored unless a reconnect is waiting for it.
    pub fn reconnect_delay(&mut self, ms: Option<Millis>, now: Now) {
        if !self.reconnect_asked {
            return;
        }
        self.reconnect_asked = false;
        let delay = ms.unwrap_or_else(|| self.cfg.reconnect.delay(self.reconnect_attempt - 1, &mut self.rng));
        self.timers.set(Timer::Reconnect, now.mono.add(delay));
    }

    /// Sends a heartbeat (if none is pending) that must be answered within `deadline_ms`, and
    /// arms the next one.
    pub(super) fn heartbeat_due(&mut self, now: Now, deadline_ms: Millis, out: &mut Outbox) {
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

    /// A `phoenix` topic frame: the reply to the pending heartbeat ends it.
    pub(super) fn on_heartbeat_reply(&mut self, f: &Frame, now: Now, out: &mut Outbox) {
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
            Sock::Connecting(_) | Sock::Closing(_) => {}
            Sock::Idle => {
                self.stop_reconnect();
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
        self.stop_reconnect();
        self.ensure_connected(now, view, out);
    }

    /// No channel is left and no `connect()` holds the socket: close it after
    /// `disconnect_on_empty_ms`.
    pub(super) fn maybe_idle(&mut self, now: Now) {
        if self.channels.is_empty() && !self.manual_connect {
            if let Some(ms) = self.cfg.disconnect_on_empty_ms {
                if self.sock != Sock::Idle && !self.timers.is_set(Timer::IdleDisconnect) {
                    self.timers.set(Timer::IdleDisconnect, now.mono.add(ms));
                }
            }
        }
    }
}
