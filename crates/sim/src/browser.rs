//! A model browser profile: several tabs (client cores) sharing one `localStorage`, one Web
//! Locks manager and one BroadcastChannel, plus WebCrypto's digest. It decides *what* happens
//! and to whom; [`super::services::AuthServices`] decides *when* (delays, the queue, tab
//! epochs). Every method returns the inputs to deliver as `(delay_ms, tab, input)`.
//!
//! Fidelity notes:
//! - `storage` events: a `setItem` that changes the value, or a `removeItem` of a present key,
//!   fires in every *other* tab of the profile, never in the writer (HTML "storage" event).
//!   [`authwire_core::io::Input::StorageChanged`] carries no key, so only the session key fires.
//! - Web Locks: exclusive, FIFO per name; an acquire with `timeout_ms == 0` is `ifAvailable`;
//!   a waiter past its deadline gets `LockUnavailable` (the shell implements the timeout with
//!   an `AbortSignal`); a tab that crashes or closes releases what it holds and abandons what
//!   it waits for, as browsers do when a document goes away.
//! - BroadcastChannel: delivered to the other open tabs, not the sender, in posting order.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use super::digest::digest_b64url;
use super::rt_server::ClientIdx;
use authwire_core::io::{concat, Input, RequestId, StorageOp};
use authwire_core::time::{Instant, Now, UnixTime};

/// Inputs to deliver: `(delay_ms, tab, input)`.
pub type Deliveries = Vec<(u64, ClientIdx, Input)>;

/// One tab's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tab {
    /// The page is alive.
    pub open: bool,
    /// Incremented when the page goes away, so late replies meant for the old page are not
    /// delivered to the next one.
    pub epoch: u32,
}

/// A tab waiting for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockWaiter {
    /// The tab.
    pub client: ClientIdx,
    /// Its acquire request.
    pub id: RequestId,
    /// When it gives up (`None`: never).
    pub deadline: Option<Instant>,
}

/// The state of one lock name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// The holder: tab and acquire request.
    pub holder: Option<(ClientIdx, RequestId)>,
    /// Waiters, first come first served.
    pub waiters: VecDeque<LockWaiter>,
}

/// One browser profile.
#[derive(Debug)]
pub struct ModelBrowser {
    tabs: BTreeMap<ClientIdx, Tab>,
    /// `localStorage`.
    pub storage: BTreeMap<String, String>,
    /// The key whose changes other tabs hear about (`sb-<ref>-auth-token`).
    pub session_key: String,
    /// The next `n` `setItem` calls throw a quota error (`u32::MAX`: all of them).
    pub quota_failures: u32,
    /// Every fetch fails without reaching the server (`HttpFailed`).
    pub offline: bool,
    /// `crypto.subtle` exists (otherwise a digest answers `None`).
    pub webcrypto: bool,
    /// What the app's `accessToken()` callback returns (third-party auth).
    pub access_token_callback: Option<String>,
    /// The page URL (changed by [`authwire_core::io::Output::ReplaceUrl`]).
    pub url: String,
    /// Delay of storage results (0: `localStorage` is synchronous).
    pub storage_delay_ms: u64,
    /// Delay of `storage` events in the other tabs.
    pub event_delay_ms: u64,
    /// Delay of BroadcastChannel messages.
    pub broadcast_delay_ms: u64,
    locks: BTreeMap<String, LockState>,
    skew: Rc<Cell<i64>>,
}

/// What `setItem` throws when the quota is exceeded (Chromium's text).
pub fn quota_error(key: &str) -> String {
    concat(&[
        "QuotaExceededError: Failed to execute 'setItem' on 'Storage': Setting the value of '",
        key,
        "' exceeded the quota.",
    ])
}

/// `now` as seen by a machine whose wall clock is `skew_ms` off (the monotonic clock is not
/// affected).
pub fn skewed(now: Now, skew_ms: i64) -> Now {
    let wall = now.wall.as_millis().saturating_add_signed(skew_ms);
    Now { mono: now.mono, wall: UnixTime::from_millis(wall) }
}

impl ModelBrowser {
    /// A profile with open `tabs`, whose session lives at `session_key`.
    pub fn new(session_key: &str, tabs: &[ClientIdx]) -> Self {
        ModelBrowser {
            tabs: tabs.iter().map(|&c| (c, Tab { open: true, epoch: 0 })).collect(),
            storage: BTreeMap::new(),
            session_key: String::from(session_key),
            quota_failures: 0,
            offline: false,
            webcrypto: true,
            access_token_callback: None,
            url: String::from("http://localhost:3000/"),
            storage_delay_ms: 0,
            event_delay_ms: 1,
            broadcast_delay_ms: 1,
            locks: BTreeMap::new(),
            skew: Rc::new(Cell::new(0)),
        }
    }

    // ---- tabs ------------------------------------------------------------------------------

    /// Adds an open tab.
    pub fn add_tab(&mut self, client: ClientIdx) {
        self.tabs.entry(client).or_insert(Tab { open: true, epoch: 0 }).open = true;
    }

    /// `true` if `client` is a tab of this profile (open or not).
    pub fn has_tab(&self, client: ClientIdx) -> bool {
        self.tabs.contains_key(&client)
    }

    /// The tab's state.
    pub fn tab(&self, client: ClientIdx) -> Option<Tab> {
        self.tabs.get(&client).copied()
    }

    /// The open tabs.
    pub fn open_tabs(&self) -> impl Iterator<Item = ClientIdx> + '_ {
        self.tabs.iter().filter(|(_, t)| t.open).map(|(c, _)| *c)
    }

    fn others(&self, from: ClientIdx) -> Vec<ClientIdx> {
        self.open_tabs().filter(|&c| c != from).collect()
    }

    /// The page of `client` goes away (crash or close): its locks are released (granting the
    /// next waiters), its waits abandoned, and nothing more reaches it until
    /// [`Self::reopen`].
    pub fn crash(&mut self, client: ClientIdx) -> Deliveries {
        if let Some(t) = self.tabs.get_mut(&client) {
            t.open = false;
            t.epoch += 1;
        }
        let mut out = Vec::new();
        let names: Vec<String> = self.locks.keys().cloned().collect();
        for name in names {
            if let Some(l) = self.locks.get_mut(&name) {
                l.waiters.retain(|w| w.client != client);
                if l.holder.is_some_and(|(c, _)| c == client) {
                    l.holder = None;
                }
            }
            self.grant_next(&name, &mut out);
        }
        out
    }

    /// A new page loads in the tab of `client` (its core must be a fresh one).
    pub fn reopen(&mut self, client: ClientIdx) {
        self.add_tab(client);
    }

    // ---- clock -----------------------------------------------------------------------------

    /// The profile's wall-clock skew in ms (positive: the machine's clock is ahead).
    pub fn skew_ms(&self) -> i64 {
        self.skew.get()
    }

    /// Sets the skew; a change mid-run is a wall-clock jump.
    pub fn set_skew_ms(&self, ms: i64) {
        self.skew.set(ms);
    }

    /// A shared handle to the skew, for an endpoint adapter ([`super::services::Skewed`]).
    pub fn skew_handle(&self) -> Rc<Cell<i64>> {
        Rc::clone(&self.skew)
    }

    /// `now` as this profile's tabs see it.
    pub fn local_now(&self, now: Now) -> Now {
        skewed(now, self.skew.get())
    }

    // ---- storage ---------------------------------------------------------------------------

    /// Runs a storage operation of `from`: its result, and `storage` events in the other tabs.
    pub fn storage_op(&mut self, from: ClientIdx, id: RequestId, op: StorageOp) -> Deliveries {
        let mut out = Vec::new();
        let result = match op {
            StorageOp::Get(key) => Ok(self.storage.get(&key).cloned()),
            StorageOp::Set(key, value) => {
                if self.quota_failures > 0 {
                    if self.quota_failures != u32::MAX {
                        self.quota_failures -= 1;
                    }
                    Err(quota_error(&key))
                } else {
                    self.write(Some(from), key, Some(value), &mut out);
                    Ok(None)
                }
            }
            StorageOp::Remove(key) => {
                self.write(Some(from), key, None, &mut out);
                Ok(None)
            }
        };
        out.insert(0, (self.storage_delay_ms, from, Input::Storage { id, result }));
        out
    }

    /// A write by a page that is not simulated (a supabase-js tab, devtools): every open tab
    /// hears about a session-key change.
    pub fn external_write(&mut self, key: &str, value: Option<&str>) -> Deliveries {
        let mut out = Vec::new();
        self.write(None, String::from(key), value.map(String::from), &mut out);
        out
    }

    fn write(&mut self, from: Option<ClientIdx>, key: String, value: Option<String>, out: &mut Deliveries) {
        let fires = key == self.session_key;
        let changed = match &value {
            Some(v) => self.storage.insert(key, v.clone()).as_ref() != Some(v),
            None => self.storage.remove(&key).is_some(),
        };
        if fires && changed {
            for c in self.open_tabs().filter(|&c| Some(c) != from) {
                out.push((self.event_delay_ms, c, Input::StorageChanged { value: value.clone() }));
            }
        }
    }

    // ---- Web Locks -------------------------------------------------------------------------

    /// The state of lock `name`.
    pub fn lock(&self, name: &str) -> Option<&LockState> {
        self.locks.get(name)
    }

    /// `navigator.locks.request(name, {signal: timeout})` from `from`.
    pub fn acquire(&mut self, from: ClientIdx, id: RequestId, name: &str, timeout_ms: u64, now: Instant) -> Deliveries {
        let l = self.locks.entry(String::from(name)).or_default();
        if l.holder.is_none() && l.waiters.is_empty() {
            l.holder = Some((from, id));
            return alloc::vec![(0, from, Input::LockGranted { id })];
        }
        if timeout_ms == 0 {
            return alloc::vec![(0, from, Input::LockUnavailable { id })];
        }
        let deadline = (timeout_ms != u64::MAX).then(|| now.add(timeout_ms));
        l.waiters.push_back(LockWaiter { client: from, id, deadline });
        Vec::new()
    }

    /// Releases the lock acquired by request `of` of `from` (or abandons that wait).
    pub fn release(&mut self, from: ClientIdx, of: RequestId) -> Deliveries {
        let mut out = Vec::new();
        let mut freed = None;
        for (name, l) in self.locks.iter_mut() {
            if l.holder == Some((from, of)) {
                l.holder = None;
                freed = Some(name.clone());
                break;
            }
            let before = l.waiters.len();
            l.waiters.retain(|w| !(w.client == from && w.id == of));
            if l.waiters.len() != before {
                break;
            }
        }
        if let Some(name) = freed {
            self.grant_next(&name, &mut out);
        }
        out
    }

    fn grant_next(&mut self, name: &str, out: &mut Deliveries) {
        if let Some(l) = self.locks.get_mut(name) {
            if l.holder.is_none() {
                if let Some(w) = l.waiters.pop_front() {
                    l.holder = Some((w.client, w.id));
                    out.push((0, w.client, Input::LockGranted { id: w.id }));
                }
            }
        }
    }

    /// Waiters whose deadline is at or before `now` give up (`LockUnavailable`).
    pub fn expire_locks(&mut self, now: Instant) -> Deliveries {
        let mut out = Vec::new();
        for l in self.locks.values_mut() {
            l.waiters.retain(|w| {
                let expired = w.deadline.is_some_and(|d| d <= now);
                if expired {
                    out.push((0, w.client, Input::LockUnavailable { id: w.id }));
                }
                !expired
            });
        }
        out
    }

    /// The earliest waiter deadline.
    pub fn next_lock_deadline(&self) -> Option<Instant> {
        self.locks.values().flat_map(|l| l.waiters.iter().filter_map(|w| w.deadline)).min()
    }

    // ---- BroadcastChannel and WebCrypto ----------------------------------------------------

    /// `channel.postMessage(data)` from `from`: every other open tab receives it.
    pub fn post(&self, from: ClientIdx, data: &str) -> Deliveries {
        self.others(from)
            .into_iter()
            .map(|c| (self.broadcast_delay_ms, c, Input::TabMessage { data: String::from(data) }))
            .collect()
    }

    /// `crypto.subtle.digest('SHA-256', data)`, base64url.
    pub fn digest(&self, id: RequestId, data: &str) -> Input {
        Input::Digest { id, b64url: self.webcrypto.then(|| digest_b64url(data)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const KEY: &str = "sb-127-auth-token";

    fn get(b: &mut ModelBrowser, c: ClientIdx, key: &str) -> Option<String> {
        match b.storage_op(c, RequestId(99), StorageOp::Get(key.into())).remove(0).2 {
            Input::Storage { result: Ok(v), .. } => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn storage_events_reach_the_other_tabs_only() {
        let mut b = ModelBrowser::new(KEY, &[0, 1, 2]);
        let d = b.storage_op(1, RequestId(1), StorageOp::Set(KEY.into(), "s1".into()));
        assert_eq!(
            d,
            vec![
                (0, 1, Input::Storage { id: RequestId(1), result: Ok(None) }),
                (1, 0, Input::StorageChanged { value: Some("s1".into()) }),
                (1, 2, Input::StorageChanged { value: Some("s1".into()) }),
            ]
        );
        assert_eq!(get(&mut b, 2, KEY).as_deref(), Some("s1"));
        // Writing the same value again fires nothing; other keys never fire.
        assert_eq!(b.storage_op(0, RequestId(2), StorageOp::Set(KEY.into(), "s1".into())).len(), 1);
        assert_eq!(b.storage_op(0, RequestId(3), StorageOp::Set("other".into(), "x".into())).len(), 1);
        // A closed tab hears nothing.
        b.crash(2);
        let d = b.storage_op(0, RequestId(4), StorageOp::Remove(KEY.into()));
        assert_eq!(d[1..], [(1, 1, Input::StorageChanged { value: None })]);
        // Removing an absent key fires nothing.
        assert_eq!(b.storage_op(0, RequestId(5), StorageOp::Remove(KEY.into())).len(), 1);
        // An outside write is heard by every open tab.
        let d = b.external_write(KEY, Some("js"));
        assert_eq!(d.iter().map(|x| x.1).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn quota_fault_fails_sets() {
        let mut b = ModelBrowser::new(KEY, &[0, 1]);
        b.quota_failures = 1;
        let d = b.storage_op(0, RequestId(1), StorageOp::Set(KEY.into(), "v".into()));
        assert_eq!(d.len(), 1, "a failed write fires no event");
        match &d[0].2 {
            Input::Storage { result: Err(e), .. } => assert!(e.starts_with("QuotaExceededError"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(get(&mut b, 0, KEY), None);
        // Only the next one failed; removes are not affected.
        assert_eq!(b.storage_op(0, RequestId(2), StorageOp::Set(KEY.into(), "v".into())).len(), 2);
        b.quota_failures = u32::MAX;
        for i in 0..3 {
            let d = b.storage_op(0, RequestId(10 + i), StorageOp::Set(KEY.into(), "w".into()));
            assert!(matches!(d[0].2, Input::Storage { result: Err(_), .. }));
        }
        assert_eq!(b.quota_failures, u32::MAX);
        assert_eq!(get(&mut b, 1, KEY).as_deref(), Some("v"));
    }

    #[test]
    fn locks_are_fifo_with_timeouts() {
        let mut b = ModelBrowser::new(KEY, &[0, 1, 2]);
        let t0 = Instant::from_millis(1000);
        let lk = "lock:sb-127-auth-token";
        assert_eq!(b.acquire(0, RequestId(1), lk, 5000, t0), [(0, 0, Input::LockGranted { id: RequestId(1) })]);
        assert!(b.acquire(1, RequestId(1), lk, 5000, t0.add(10)).is_empty());
        assert!(b.acquire(2, RequestId(7), lk, 2000, t0.add(20)).is_empty());
        // ifAvailable fails at once when held.
        assert_eq!(b.acquire(2, RequestId(8), lk, 0, t0), [(0, 2, Input::LockUnavailable { id: RequestId(8) })]);
        assert_eq!(b.next_lock_deadline(), Some(t0.add(2020)));
        assert!(b.expire_locks(t0.add(2019)).is_empty());
        assert_eq!(b.expire_locks(t0.add(2020)), [(0, 2, Input::LockUnavailable { id: RequestId(7) })]);
        // Release grants the next waiter in order; an unknown release is ignored.
        assert!(b.release(0, RequestId(42)).is_empty());
        assert_eq!(b.release(0, RequestId(1)), [(0, 1, Input::LockGranted { id: RequestId(1) })]);
        assert_eq!(b.lock(lk).unwrap().holder, Some((1, RequestId(1))));
        assert_eq!(b.next_lock_deadline(), None);
        // Another name is independent.
        assert_eq!(b.acquire(0, RequestId(2), "other", 10, t0), [(0, 0, Input::LockGranted { id: RequestId(2) })]);
        // A waiter can abandon its wait with a release of its request.
        assert!(b.acquire(2, RequestId(9), lk, u64::MAX, t0).is_empty());
        assert!(b.release(2, RequestId(9)).is_empty());
        assert!(b.lock(lk).unwrap().waiters.is_empty());
    }

    #[test]
    fn a_crashed_tab_releases_its_locks() {
        let mut b = ModelBrowser::new(KEY, &[0, 1, 2]);
        let t0 = Instant::from_millis(0);
        b.acquire(0, RequestId(1), "a", 5000, t0);
        b.acquire(1, RequestId(1), "a", 5000, t0);
        b.acquire(2, RequestId(1), "a", 5000, t0);
        b.acquire(1, RequestId(2), "b", 5000, t0);
        b.acquire(0, RequestId(2), "b", 5000, t0);
        // Tab 1 holds "b" and waits for "a": it crashes.
        let d = b.crash(1);
        assert_eq!(d, [(0, 0, Input::LockGranted { id: RequestId(2) })]);
        assert_eq!(b.lock("a").unwrap().waiters.iter().map(|w| w.client).collect::<Vec<_>>(), [2]);
        assert_eq!(b.tab(1), Some(Tab { open: false, epoch: 1 }));
        // Tab 0 crashes holding "a" and "b": tab 2 gets "a".
        assert_eq!(b.crash(0), [(0, 2, Input::LockGranted { id: RequestId(1) })]);
        assert_eq!(b.lock("b").unwrap().holder, None);
        b.reopen(1);
        assert_eq!(b.tab(1), Some(Tab { open: true, epoch: 1 }));
        assert_eq!(b.open_tabs().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn broadcast_fans_out_to_the_others() {
        let mut b = ModelBrowser::new(KEY, &[3, 4, 5]);
        let d = b.post(4, r#"{"event":"SIGNED_OUT","session":null}"#);
        assert_eq!(d.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), [(1, 3), (1, 5)]);
        assert!(matches!(&d[0].2, Input::TabMessage { data } if data.contains("SIGNED_OUT")));
        b.crash(5);
        assert_eq!(b.post(4, "x").len(), 1);
    }

    #[test]
    fn digest_and_skew() {
        let mut b = ModelBrowser::new(KEY, &[0]);
        assert_eq!(
            b.digest(RequestId(1), "abc"),
            Input::Digest { id: RequestId(1), b64url: Some("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0".into()) }
        );
        b.webcrypto = false;
        assert_eq!(b.digest(RequestId(2), "abc"), Input::Digest { id: RequestId(2), b64url: None });
        let now = Now::new(5, 10_000);
        b.set_skew_ms(-3000);
        assert_eq!(b.local_now(now), Now::new(5, 7000));
        b.skew_handle().set(500);
        assert_eq!(b.local_now(now), Now::new(5, 10_500));
        assert_eq!(skewed(Now::new(0, 100), -1000).wall.as_millis(), 0);
    }
}
