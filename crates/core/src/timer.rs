//! Named timers in one table (quinn-proto's `TimerTable` shape, with keyed entries because
//! channels and pushes each own a deadline). The owner asks [`TimerTable::next`] for the
//! earliest deadline and hands it to the shell, which keeps exactly one host timer.

use alloc::vec::Vec;

use crate::map::VecMap;
use crate::time::Instant;

/// Deadlines keyed by a timer name `K`.
#[derive(Debug, Clone)]
pub struct TimerTable<K: PartialEq + Copy> {
    deadlines: VecMap<K, Instant>,
}

impl<K: PartialEq + Copy> Default for TimerTable<K> {
    fn default() -> Self {
        TimerTable { deadlines: VecMap::new() }
    }
}

impl<K: PartialEq + Copy> TimerTable<K> {
    /// Arms (or re-arms) `timer` for `at`.
    pub fn set(&mut self, timer: K, at: Instant) {
        self.deadlines.insert(timer, at);
    }
    /// Disarms `timer`.
    pub fn stop(&mut self, timer: K) {
        self.deadlines.remove(&timer);
    }
    /// Disarms every timer matching `pred`.
    pub fn stop_where(&mut self, mut pred: impl FnMut(&K) -> bool) {
        self.deadlines.retain(|k, _| !pred(k));
    }
    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: K) -> Option<Instant> {
        self.deadlines.get(&timer).copied()
    }
    /// `true` if `timer` is armed.
    pub fn is_set(&self, timer: K) -> bool {
        self.deadlines.contains_key(&timer)
    }
    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }
    /// Disarms and returns every timer due at `now`, earliest first (ties in arming order).
    /// An early call returns nothing (spurious wake-ups are harmless).
    pub fn take_expired(&mut self, now: Instant) -> Vec<K> {
        let mut due = Vec::new();
        // Selection by repeated minimum: a handful of entries, and no sort routine in the wasm.
        while let Some((k, at)) = self.deadlines.iter().filter(|(_, at)| **at <= now).min_by_key(|(_, at)| **at) {
            let (k, _) = (*k, *at);
            self.deadlines.remove(&k);
            due.push(k);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_deadline_and_expiry() {
        let mut t = TimerTable::<u8>::default();
        assert_eq!(t.next(), None);
        t.set(2, Instant::from_millis(50));
        t.set(1, Instant::from_millis(100));
        assert_eq!(t.next(), Some(Instant::from_millis(50)));
        assert!(t.take_expired(Instant::from_millis(49)).is_empty());
        assert_eq!(t.take_expired(Instant::from_millis(100)), [2, 1]);
        assert_eq!(t.next(), None);
    }
}
