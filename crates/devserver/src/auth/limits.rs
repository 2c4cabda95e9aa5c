//! The wrong-password limiter: per (email, client IP), at most [`MAX_FAILURES`] failed
//! password grants in [`WINDOW`]; further attempts get 429 `over_request_rate_limit` until the
//! oldest failure leaves the window. A successful sign-in clears the count. `--limits off`
//! disables it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per window.
pub(crate) const MAX_FAILURES: usize = 10;
/// The sliding window.
pub(crate) const WINDOW: Duration = Duration::from_secs(300);
/// Keys kept before old entries are swept.
const SWEEP_AT: usize = 10_000;

/// Failure timestamps per (lowercased email, IP).
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    failures: Mutex<HashMap<(String, IpAddr), Vec<Instant>>>,
}

impl Limiter {
    /// True when this (email, ip) may try a password now.
    pub(crate) fn allowed(&self, email: &str, ip: IpAddr, now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(&(email.to_lowercase(), ip)) {
            Some(v) => {
                v.retain(|t| now.duration_since(*t) < WINDOW);
                v.len() < MAX_FAILURES
            }
            None => true,
        }
    }

    /// Records a wrong password.
    pub(crate) fn failed(&self, email: &str, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        map.entry((email.to_lowercase(), ip)).or_default().push(now);
    }

    /// Clears the count after a successful sign-in.
    pub(crate) fn succeeded(&self, email: &str, ip: IpAddr) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&(email.to_lowercase(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window() {
        let l = Limiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(l.allowed("A@x.io", ip, t0));
            l.failed("a@x.io", ip, t0);
        }
        assert!(!l.allowed("a@x.io", ip, t0));
        assert!(l.allowed("b@x.io", ip, t0));
        assert!(l.allowed("a@x.io", "127.0.0.2".parse().unwrap(), t0));
        assert!(l.allowed("a@x.io", ip, t0 + WINDOW));
        l.succeeded("a@x.io", ip);
        assert!(l.allowed("a@x.io", ip, t0));
    }
}
