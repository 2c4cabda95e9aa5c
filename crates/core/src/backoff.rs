//! Retry delays as pure functions of the attempt number and a random source.

use alloc::borrow::Cow;

use crate::rng::Rng;
use crate::time::Millis;

/// How long to wait before retry number `attempt` (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backoff {
    /// Full jitter: uniform in `0..=min(cap, base · growth^attempt)` (AWS "Exponential
    /// Backoff And Jitter"). Spreads a crowd of clients whose server came back at the same
    /// moment.
    FullJitter {
        /// Delay ceiling for attempt 0.
        base: Millis,
        /// Largest delay.
        cap: Millis,
        /// Ceiling growth per attempt, in percent (200 doubles).
        growth_pct: u32,
    },
    /// Fixed steps, the last one repeating: Phoenix's rejoin schedule 1/2/5/10 s (protocol
    /// reference §4.6), or any fixed table (the application's `reconnectAfterMs(tries)` is
    /// asked per attempt instead: `RealtimeConfig::reconnect_from_app`).
    Steps(Cow<'static, [Millis]>),
}

/// Channel rejoin steps after an error (protocol reference §4.6).
pub const REJOIN_STEPS: &[Millis] = &[1_000, 2_000, 5_000, 10_000];

impl Backoff {
    /// The default socket reconnect policy: full jitter, base 1 s, ceiling ×1.5 per attempt,
    /// cap 5 s. With ×2 the ceilings reach 4–5 s by the third failure, and a crowd whose server
    /// returns after a 3 s outage waits 1.49 s (median) for its next attempt; ×1.5 brings that
    /// to ~1.0 s with the same cap and the same spread (see the reconnect-storm test).
    pub const RECONNECT: Backoff = Backoff::FullJitter { base: 1_000, cap: 5_000, growth_pct: 150 };
    /// The default channel rejoin policy.
    pub const REJOIN: Backoff = Backoff::Steps(Cow::Borrowed(REJOIN_STEPS));

    /// The delay before retry `attempt`.
    pub fn delay(&self, attempt: u32, rng: &mut Rng) -> Millis {
        match self {
            Backoff::FullJitter { base, cap, growth_pct } => {
                let mut ceiling = (*base).min(*cap);
                for _ in 0..attempt {
                    if ceiling >= *cap {
                        break;
                    }
                    ceiling = (ceiling.saturating_mul(u64::from(*growth_pct)) / 100).min(*cap);
                }
                rng.up_to(ceiling)
            }
            Backoff::Steps(steps) => steps.get(attempt as usize).or(steps.last()).copied().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let mut rng = Rng::new(7);
        for attempt in 0..40 {
            for _ in 0..100 {
                let d = Backoff::RECONNECT.delay(attempt, &mut rng);
                let ceiling = [1000, 1500, 2250, 3375][..].get(attempt as usize).copied().unwrap_or(5000);
                assert!(d <= ceiling, "attempt {attempt}: {d}");
            }
        }
    }

    #[test]
    fn steps_repeat_the_last() {
        let mut rng = Rng::new(1);
        let d: alloc::vec::Vec<_> = (0..6).map(|a| Backoff::REJOIN.delay(a, &mut rng)).collect();
        assert_eq!(d, [1000, 2000, 5000, 10000, 10000, 10000]);
    }
}
