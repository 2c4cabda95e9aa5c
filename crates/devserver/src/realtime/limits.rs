//! Rate limits with the real server's defaults (protocol reference §9.4); `--limits off`
//! lifts all of them.
//!
//! | field | default | what happens when exceeded |
//! |---|---|---|
//! | `max_concurrent_users` | 200 | handshake 429 `Too many connected users`; join `ConnectionRateLimitReached: Too many connected users` (sockets with at least one channel count) |
//! | `max_joins_per_second` | 100 | average over the last 5 s; handshake 429 `Too many joins per second`; join `ClientJoinRateLimitReached: Too many joins per second`, then the socket is closed with 1001 |
//! | `max_channels_per_client` | 100 | join `ChannelRateLimitReached: Too many channels` |
//! | `max_events_per_second` | 100 | average over the last 5 s of client broadcasts, presence pushes and HTTP broadcast messages; a channel that then sends a broadcast is shut down with `Too many messages per second`; HTTP broadcast 429 |
//! | `max_presence_events_per_second` | 1000 | average over 5 s; the tracking channel is shut down with `Too many presence messages per second` |
//! | `client_presence_max_calls` / `client_presence_window` | 5 / 30 s | per channel; `Client presence rate limit exceeded` |
//! | `max_payload_size_in_kb` | 3000 | broadcast dropped (`payload_size_exceeded` with ack); presence `Track message size exceeded` |

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits in force. `None` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_concurrent_users: Option<u32>,
    pub(crate) max_joins_per_second: Option<u32>,
    pub(crate) max_channels_per_client: Option<u32>,
    pub(crate) max_events_per_second: Option<u32>,
    pub(crate) max_presence_events_per_second: Option<u32>,
    pub(crate) client_presence_max_calls: Option<u32>,
    pub(crate) client_presence_window: Duration,
    /// Payload limit in bytes of JSON text (the real server measures the Erlang term size
    /// of the decoded payload, which is close to but not the same).
    pub(crate) max_payload_bytes: Option<usize>,
}

impl Limits {
    /// The real server's defaults.
    pub(crate) fn defaults() -> Self {
        Limits {
            max_concurrent_users: Some(200),
            max_joins_per_second: Some(100),
            max_channels_per_client: Some(100),
            max_events_per_second: Some(100),
            max_presence_events_per_second: Some(1000),
            client_presence_max_calls: Some(5),
            client_presence_window: Duration::from_secs(30),
            max_payload_bytes: Some(3000 * 1000 + 500),
        }
    }

    /// No limits (`--limits off`).
    pub(crate) fn off() -> Self {
        Limits {
            max_concurrent_users: None,
            max_joins_per_second: None,
            max_channels_per_client: None,
            max_events_per_second: None,
            max_presence_events_per_second: None,
            client_presence_max_calls: None,
            client_presence_window: Duration::from_secs(30),
            max_payload_bytes: None,
        }
    }

    pub(crate) fn for_flag(on: bool) -> Self {
        if on {
            Limits::defaults()
        } else {
            Limits::off()
        }
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "maxConcurrentUsers": self.max_concurrent_users,
            "maxJoinsPerSecond": self.max_joins_per_second,
            "maxChannelsPerClient": self.max_channels_per_client,
            "maxEventsPerSecond": self.max_events_per_second,
            "maxPresenceEventsPerSecond": self.max_presence_events_per_second,
            "clientPresenceMaxCalls": self.client_presence_max_calls,
            "clientPresenceWindowMs": self.client_presence_window.as_millis() as u64,
            "maxPayloadBytes": self.max_payload_bytes,
        })
    }
}

/// Counts events in one-second buckets and answers "is the average over the last
/// [`RateCounter::WINDOW`] above `limit` per second?".
#[derive(Debug)]
pub(crate) struct RateCounter {
    buckets: Mutex<VecDeque<(Instant, u64)>>,
}

impl RateCounter {
    /// The averaging window.
    pub(crate) const WINDOW: Duration = Duration::from_secs(5);

    pub(crate) fn new() -> Self {
        RateCounter { buckets: Mutex::new(VecDeque::new()) }
    }

    fn trim(b: &mut VecDeque<(Instant, u64)>, now: Instant) {
        while b.front().is_some_and(|(t, _)| now.duration_since(*t) >= Self::WINDOW) {
            b.pop_front();
        }
    }

    /// Records `n` events now.
    pub(crate) fn add(&self, n: u64, now: Instant) {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        Self::trim(&mut b, now);
        match b.back_mut() {
            Some((t, c)) if now.duration_since(*t) < Duration::from_secs(1) => *c += n,
            _ => b.push_back((now, n)),
        }
    }

    /// Events in the window.
    pub(crate) fn total(&self, now: Instant) -> u64 {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        Self::trim(&mut b, now);
        b.iter().map(|(_, c)| c).sum()
    }

    /// True when the average rate over the window exceeds `limit` per second.
    pub(crate) fn exceeded(&self, limit: Option<u32>, now: Instant) -> bool {
        match limit {
            Some(l) => self.total(now) > u64::from(l) * Self::WINDOW.as_secs(),
            None => false,
        }
    }
}

/// A sliding window of call times (the per-channel client presence limit).
#[derive(Debug, Default)]
pub(crate) struct CallWindow {
    calls: VecDeque<Instant>,
}

impl CallWindow {
    /// Records a call; true when more than `max` calls fall within `window`.
    pub(crate) fn call(&mut self, max: Option<u32>, window: Duration, now: Instant) -> bool {
        let Some(max) = max else { return false };
        while self.calls.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.calls.pop_front();
        }
        self.calls.push_back(now);
        self.calls.len() > max as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counter_averages_over_the_window() {
        let c = RateCounter::new();
        let t0 = Instant::now();
        c.add(400, t0);
        assert!(!c.exceeded(Some(100), t0));
        c.add(101, t0 + Duration::from_millis(1500));
        assert!(c.exceeded(Some(100), t0 + Duration::from_millis(1500)));
        assert!(!c.exceeded(None, t0));
        // The first bucket leaves the window.
        assert!(!c.exceeded(Some(100), t0 + Duration::from_secs(5)));
        assert_eq!(c.total(t0 + Duration::from_secs(7)), 0);
    }

    #[test]
    fn presence_window() {
        let mut w = CallWindow::default();
        let t0 = Instant::now();
        let win = Duration::from_secs(30);
        for i in 0..5 {
            assert!(!w.call(Some(5), win, t0 + Duration::from_secs(i)));
        }
        assert!(w.call(Some(5), win, t0 + Duration::from_secs(6)));
        assert!(!w.call(Some(5), win, t0 + Duration::from_secs(40)));
        assert!(!w.call(None, win, t0));
    }
}
