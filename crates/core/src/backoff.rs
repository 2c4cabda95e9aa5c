//! Retry delays as pure functions of the attempt number and a random source.

use crate::rng::Rng;
use crate::time::Millis;

/// How long to wait before retry number `attempt` (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backoff {
    /// Full jitter: uniform in `0..=min(cap, base · 2^attempt)` (AWS "Exponential Backoff And
    /// Jitter"). Spreads a crowd of clients whose server came back at the same moment.
    FullJitter {
        /// Delay ceiling for attempt 0.
        base: Millis,
        /// Largest delay.
        cap: Millis,
    },
    /// Fixed steps, the last one repeating (Phoenix's rejoin schedule 1/2/5/10 s,
    /// protocol reference §4.6).
    Steps(&'static [Millis]),
}

/// Channel rejoin steps after an error (protocol reference §4.6).
pub const REJOIN_STEPS: &[Millis] = &[1_000, 2_000, 5_000, 10_000];

impl Backoff {
    /// The default socket reconnect policy: full jitter, base 1 s, cap 5 s.
    pub const RECONNECT: Backoff = Backoff::FullJitter { base: 1_000, cap: 5_000 };
    /// The default channel rejoin policy.
    pub const REJOIN: Backoff = Backoff::Steps(REJOIN_STEPS);

    /// The delay before retry `attempt`.
    pub fn delay(&self, attempt: u32, rng: &mut Rng) -> Millis {
        match self {
            Backoff::FullJitter { base, cap } => {
                let ceiling = base.saturating_mul(1u64 << attempt.min(32)).min(*cap);
                rng.up_to(ceiling)
            }
            Backoff::Steps(steps) => match steps.get(attempt as usize).or(steps.last()) {
                Some(ms) => *ms,
                None => 0,
            },
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
                assert!(d <= (1000u64 << attempt.min(32)).min(5000));
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
