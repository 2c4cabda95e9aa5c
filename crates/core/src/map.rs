//! A small insertion-ordered map on a `Vec`.
//!
//! The core holds a handful of entries per map (timers, channels, pending requests). A
//! `BTreeMap` would be asymptotically better and, in wasm, several kilobytes bigger per key
//! type (each instance monomorphises the whole tree); linear search over a few entries is
//! both smaller and fast.

use alloc::vec::Vec;

/// Keys in insertion order, each once.
#[derive(Debug, Clone)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<K: PartialEq, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }
    fn pos(&self, k: &K) -> Option<usize> {
        self.entries.iter().position(|(x, _)| x == k)
    }
    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.entries.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }
    /// The value of `k`, mutably.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.entries.iter_mut().find(|(x, _)| x == k).map(|(_, v)| v)
    }
    /// `true` if `k` is present.
    pub fn contains_key(&self, k: &K) -> bool {
        self.pos(k).is_some()
    }
    /// Sets `k` to `v` (keeping its position if present); returns the old value.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.pos(&k) {
            Some(i) => Some(core::mem::replace(&mut self.entries[i].1, v)),
            None => {
                self.entries.push((k, v));
                None
            }
        }
    }
    /// Removes `k`, keeping the order of the others.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.pos(k)?;
        Some(self.entries.remove(i).1)
    }
    /// Keeps the entries for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| f(k, v));
    }
    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
    /// Mutable entries in insertion order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }
    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }
    /// Values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Removes everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
