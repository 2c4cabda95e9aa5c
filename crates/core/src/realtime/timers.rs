//! The Realtime timers: every deadline the socket and its channels can arm, by name, and the
//! dispatch of the due ones to the module that owns each ([`TimerTable`] keeps them; the
//! earliest is [`Realtime::poll_timeout`]). Socket timers act here, through `socket.rs`;
//! join and rejoin timers are handled in `join.rs`, push timers in `push.rs`, HTTP broadcast
//! timers in `http.rs`.

use super::socket::Sock;
use super::Realtime;
use crate::io::{AppEvent, ChannelId, HeartbeatStatus, Outbox};
use crate::time::Now;
use crate::token::TokenView;

#[cfg(doc)]
use crate::timer::TimerTable;

/// A Realtime deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Send the next heartbeat.
    Heartbeat,
    /// The pending heartbeat (or any frame) must have arrived by now.
    HeartbeatDeadline,
    /// The connection attempt must have opened by now.
    Connect,
    /// The close `disconnect()` asked for must have been reported by now.
    CloseDeadline,
    /// Try to connect again (backoff after a loss).
    Reconnect,
    /// No channel is left: close the socket.
    IdleDisconnect,
    /// The channel's join must have been answered by now.
    Join(ChannelId),
    /// The errored channel's rejoin delay is over.
    Rejoin(ChannelId),
    /// Push `seq` of the channel must have been sent and answered by now.
    Push(ChannelId, u64),
    /// HTTP broadcast call `seq` must have been answered by now.
    Http(u64),
}

impl Realtime {
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
                Timer::CloseDeadline => self.close_overdue(now, out),
                Timer::IdleDisconnect => {
                    if self.channels.is_empty() && !self.manual_connect {
                        self.close_socket(1000, "no channels", now, out, false);
                    }
                }
                Timer::Join(id) => self.join_timed_out(id, now, out),
                Timer::Rejoin(id) => self.rejoin_due(id, now, view, out),
                Timer::Push(id, seq) => self.push_timed_out(id, seq, out),
                Timer::Http(seq) => self.http_timed_out(seq, out),
            }
        }
        self.maybe_idle(now);
    }

    /// Disarms every timer of channel `id`.
    pub(super) fn clear_channel_timers(&mut self, id: ChannelId) {
        self.timers.stop_where(|t| match t {
            Timer::Join(c) | Timer::Rejoin(c) | Timer::Push(c, _) => *c == id,
            _ => false,
        });
    }
}
