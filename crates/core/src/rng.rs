//! Randomness, of two kinds that never mix. [`Rng`] is a generator seeded by the caller, so a
//! run is a pure function of its inputs and its seed: it draws jitter (reconnect, rejoin and
//! refresh-retry backoff) and nothing else. [`Entropy`] holds bytes of the runtime's CSPRNG
//! (`crypto.getRandomValues`), fed by the shell as an input: the only source of secrets (PKCE
//! verifiers, lock-holder ids). The core has no path from a seed to a secret: without bytes
//! from the shell, a call that needs one fails (design.md, "Secrets from a CSPRNG").

use alloc::vec::Vec;

/// SplitMix64: tiny, fast, and good enough for jitter. Never for secrets: those come from
/// [`Entropy`].
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub const fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A uniform value in `0..=max` (`max` inclusive; 0 when `max` is 0).
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        // Modulo bias is below 2^-32 for the spans used (jitter in ms); u128 arithmetic would
        // pull a 1 KB division routine into the wasm.
        self.next_u64() % (max + 1)
    }
    /// Fills `buf` with pseudo-random bytes (test servers and schedules; not for secrets).
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Bytes from the runtime's CSPRNG, each handed out once. The core keeps [`Entropy::TARGET`]
/// bytes in reserve and asks for more ([`crate::io::Output::Entropy`]) after every step that
/// used some; the shell answers in the same drain ([`crate::io::Input::Entropy`]), so every
/// command finds a full reserve (several PKCE flows parked behind start-up included).
#[derive(Default)]
pub struct Entropy {
    pool: Vec<u8>,
    /// A request is out and not answered yet.
    asked: bool,
    /// The runtime answered that it has no CSPRNG: ask again only after a secret was refused.
    unavailable: bool,
}

// Never print the bytes (the `Debug` of the core's state ends up in test and trace output).
impl core::fmt::Debug for Entropy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Entropy").field("bytes", &self.pool.len()).field("unavailable", &self.unavailable).finish()
    }
}

impl Entropy {
    /// Bytes kept in reserve: nine PKCE verifiers (56 bytes each) and a lock-holder id.
    pub const TARGET: usize = 512;

    /// How many bytes to ask the runtime for now, if any (at most one request is out).
    pub fn wanted(&mut self) -> Option<usize> {
        if self.asked || self.unavailable || self.pool.len() >= Self::TARGET {
            return None;
        }
        self.asked = true;
        Some(Self::TARGET - self.pool.len())
    }

    /// The runtime's answer: fresh bytes, or `None` when it has no CSPRNG.
    pub fn feed(&mut self, bytes: Option<&[u8]>) {
        self.asked = false;
        match bytes {
            Some(b) if !b.is_empty() => {
                // Newest first out: nothing is gained by keeping more than the reserve.
                let room = (Self::TARGET * 2).saturating_sub(self.pool.len());
                self.pool.extend_from_slice(&b[..b.len().min(room)]);
                self.unavailable = false;
            }
            _ => self.unavailable = true,
        }
    }

    /// `N` fresh bytes, removed from the reserve; `None` when it has fewer (the runtime is
    /// asked again at the end of the step).
    pub fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let Some(start) = self.pool.len().checked_sub(N) else {
            self.unavailable = false;
            return None;
        };
        let mut out = [0u8; N];
        out.copy_from_slice(&self.pool[start..]);
        // Overwrite what was handed out before giving the memory back.
        self.pool[start..].fill(0);
        self.pool.truncate(start);
        Some(out)
    }

    /// Bytes in reserve.
    pub fn len(&self) -> usize {
        self.pool.len()
    }

    /// `true` when the reserve is empty.
    pub fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }
}

/// Distinct bytes for tests that stand in for the runtime's CSPRNG (a counter through
/// SplitMix64: each call continues where the last one stopped).
#[cfg(test)]
pub(crate) fn test_bytes(len: usize) -> Vec<u8> {
    use core::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut rng = Rng::new(NEXT.fetch_add(1, Ordering::Relaxed));
    let mut v = alloc::vec![0u8; len];
    rng.fill(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_hands_each_byte_out_once_and_asks_for_the_rest() {
        let mut e = Entropy::default();
        assert_eq!(e.take::<8>(), None, "nothing before the runtime answered");
        assert_eq!(e.wanted(), Some(Entropy::TARGET));
        assert_eq!(e.wanted(), None, "one request at a time");
        let bytes: Vec<u8> = (0..Entropy::TARGET).map(|i| i as u8).collect();
        e.feed(Some(&bytes));
        let a = e.take::<56>().unwrap();
        let b = e.take::<56>().unwrap();
        assert_ne!(a, b);
        assert_eq!(&a[..], &bytes[Entropy::TARGET - 56..]);
        assert_eq!(e.len(), Entropy::TARGET - 112);
        assert_eq!(e.wanted(), Some(112));
    }

    #[test]
    fn a_runtime_without_a_csprng_is_asked_again_only_after_a_refusal() {
        let mut e = Entropy::default();
        assert!(e.wanted().is_some());
        e.feed(None);
        assert_eq!(e.wanted(), None);
        assert_eq!(e.take::<56>(), None);
        assert!(e.wanted().is_some(), "a refused secret asks once more");
    }
}
