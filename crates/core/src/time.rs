//! Time as data. The core never reads a clock: every call that can move state takes a
//! [`Now`], which carries a monotonic [`Instant`] (for timers) and a wall-clock [`UnixTime`]
//! (for JWT `exp`). Both are plain milliseconds so that tests start from zero.

/// Milliseconds, the unit of every duration in the core.
pub type Millis = u64;

/// A monotonic instant in milliseconds since an arbitrary origin (the shell uses
/// `performance.now()`; tests start at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// An instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }
    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// `self + ms`, saturating.
    #[must_use]
    pub const fn add(self, ms: Millis) -> Self {
        Instant(self.0.saturating_add(ms))
    }
    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn since(self, earlier: Instant) -> Millis {
        self.0.saturating_sub(earlier.0)
    }
}

/// Wall-clock time in milliseconds since the Unix epoch (the shell uses `Date.now()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(u64);

impl UnixTime {
    /// `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        UnixTime(ms)
    }
    /// `s` seconds after the epoch.
    pub const fn from_secs(s: u64) -> Self {
        UnixTime(s.saturating_mul(1000))
    }
    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
}

/// The two clocks at the moment of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Now {
    /// Monotonic time, for timers.
    pub mono: Instant,
    /// Wall-clock time, for token expiry.
    pub wall: UnixTime,
}

impl Now {
    /// Both clocks from milliseconds.
    pub const fn new(mono_ms: u64, wall_ms: u64) -> Self {
        Now { mono: Instant(mono_ms), wall: UnixTime(wall_ms) }
    }
    /// Both clocks advanced by `ms` (what a virtual clock does between steps).
    #[must_use]
    pub const fn advance(self, ms: Millis) -> Self {
        Now { mono: self.mono.add(ms), wall: UnixTime(self.wall.0.saturating_add(ms)) }
    }
}
