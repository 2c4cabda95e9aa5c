//! Seeded randomness. The core owns a generator seeded by the caller, so a run is a pure
//! function of its inputs and its seed (the shell seeds from `crypto.getRandomValues`, tests
//! and the simulation from a u64).

/// SplitMix64: tiny, fast, and good enough for jitter and PKCE verifiers seeded with real
/// entropy by the shell. Not for keys.
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
    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
