//! Counters for `/_dev/stats` (`"realtime"` section).

use super::Settings;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Realtime counters since start.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) connections_total: AtomicU64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) joins_ok: AtomicU64,
    pub(crate) joins_refused: AtomicU64,
    pub(crate) broadcasts: AtomicU64,
    pub(crate) http_broadcasts: AtomicU64,
    pub(crate) changes_read: AtomicU64,
    pub(crate) changes_delivered: AtomicU64,
    /// Change-feed ticks that read the slot, and ticks skipped by the `pauseChanges` fault
    /// (a test's proof that a paused feed really passed over a change).
    pub(crate) feed_polls: AtomicU64,
    pub(crate) feed_polls_paused: AtomicU64,
    /// Refused handshakes by reason code.
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

impl Stats {
    /// Counts a refused handshake.
    pub(crate) fn rejected(&self, code: &'static str) {
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_default() += 1;
    }

    pub(crate) fn to_json(
        &self,
        sockets: usize,
        channels: usize,
        topics: usize,
        subscriptions: usize,
        settings: &Settings,
    ) -> Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let rejected = self.rejected.lock().unwrap_or_else(|e| e.into_inner()).clone();
        json!({
            "connections": sockets,
            "connectionsTotal": n(&self.connections_total),
            "channels": channels,
            "topics": topics,
            "postgresSubscriptions": subscriptions,
            "framesIn": n(&self.frames_in),
            "framesOut": n(&self.frames_out),
            "joins": n(&self.joins_ok),
            "joinsRefused": n(&self.joins_refused),
            "broadcasts": n(&self.broadcasts),
            "httpBroadcasts": n(&self.http_broadcasts),
            "changesRead": n(&self.changes_read),
            "changesDelivered": n(&self.changes_delivered),
            "feedPolls": n(&self.feed_polls),
            "feedPollsPaused": n(&self.feed_polls_paused),
            "rejectedHandshakes": rejected,
            "settings": {
                "mode": settings.mode.as_str(),
                "strictSessions": settings.strict_sessions,
                "joinErrorDelayMs": settings.join_error_delay.as_millis() as u64,
                "connectErrorBackoffMs": settings.connect_error_backoff.as_millis() as u64,
                "idleTimeoutMs": settings.idle_timeout.as_millis() as u64,
                "pollIntervalMs": settings.poll_interval.as_millis() as u64,
                "limits": settings.limits.to_json(),
            },
        })
    }
}
