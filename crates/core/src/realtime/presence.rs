//! Presence: pure `sync_state` / `sync_diff` (Phoenix's algorithm, protocol reference §7.3)
//! that never mutate their inputs, plus the per-channel tracker that buffers diffs until the
//! join's `presence_state` arrives.
//!
//! Differences from Phoenix JS, on purpose: inputs are never mutated (the ghost-member bug of
//! realtime-js#244 / supabase-js#2566 came from mutating live metas), and a meta replaced by a
//! new `track()` (a join carrying `phx_ref_prev` plus the matching leave) additionally yields
//! one [`PresenceEvent::Update`].

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::realtime::{PresenceDiff, PresenceEntries, PresenceMeta};

use crate::io::PresenceEvent;
use crate::map::VecMap;

/// Key → metas.
pub type PresenceState = VecMap<String, Vec<PresenceMeta>>;

/// Diffs buffered while waiting for `presence_state`; beyond this the oldest are dropped
/// (the state snapshot supersedes them anyway).
pub const MAX_PENDING_DIFFS: usize = 1_000;

fn refs(metas: &[PresenceMeta]) -> impl Iterator<Item = &str> {
    metas.iter().map(|m| m.phx_ref.as_str())
}

/// A meta as realtime-js shows it: `phx_ref` renamed `presence_ref`, `phx_ref_prev` dropped.
pub fn js_meta(m: &PresenceMeta) -> String {
    let Ok(fields) = json::fields(&m.raw) else { return String::from("{}") };
    let mut w = ObjectWriter::new();
    for (k, v) in fields {
        match k.as_str() {
            "phx_ref" => {
                w.raw("presence_ref", v);
            }
            "phx_ref_prev" => {}
            _ => {
                w.raw(&k, v);
            }
        }
    }
    w.finish()
}

fn js_metas(metas: &[PresenceMeta]) -> Vec<String> {
    metas.iter().map(js_meta).collect()
}

/// Applies a diff to `state`, returning the new state and the events, in Phoenix order
/// (joins, then leaves; an update after its leave). `sync` is not included.
pub fn sync_diff(state: &PresenceState, diff: &PresenceDiff) -> (PresenceState, Vec<PresenceEvent>) {
    let mut next = state.clone();
    let mut events = Vec::new();
    for (key, joined) in &diff.joins {
        let current = state.get(key).cloned().unwrap_or_default();
        let mut metas: Vec<PresenceMeta> =
            current.iter().filter(|m| !refs(joined).any(|r| r == m.phx_ref)).cloned().collect();
        metas.extend(joined.iter().cloned());
        next.insert(key.clone(), metas);
        events.push(PresenceEvent::Join { key: key.clone(), current: js_metas(&current), new: js_metas(joined) });
    }
    for (key, left) in &diff.leaves {
        let Some(current) = next.get(key) else { continue };
        let remaining: Vec<PresenceMeta> =
            current.iter().filter(|m| !refs(left).any(|r| r == m.phx_ref)).cloned().collect();
        events.push(PresenceEvent::Leave { key: key.clone(), current: js_metas(&remaining), left: js_metas(left) });
        if remaining.is_empty() {
            next.remove(key);
        } else {
            next.insert(key.clone(), remaining);
        }
        // An update: joined metas of this key that name a left meta as their predecessor.
        if let Some((_, joined)) = diff.joins.iter().find(|(k, _)| k == key) {
            let new: Vec<PresenceMeta> = joined
                .iter()
                .filter(|j| j.phx_ref_prev.as_deref().is_some_and(|p| refs(left).any(|r| r == p)))
                .cloned()
                .collect();
            if !new.is_empty() {
                let old: Vec<PresenceMeta> = left
                    .iter()
                    .filter(|l| new.iter().any(|n| n.phx_ref_prev.as_deref() == Some(l.phx_ref.as_str())))
                    .cloned()
                    .collect();
                events.push(PresenceEvent::Update { key: key.clone(), new: js_metas(&new), old: js_metas(&old) });
            }
        }
    }
    (next, events)
}

/// Replaces `state` by a full snapshot, as the joins and leaves that turn one into the other.
pub fn sync_state(state: &PresenceState, snapshot: &PresenceEntries) -> (PresenceState, Vec<PresenceEvent>) {
    let mut diff = PresenceDiff::default();
    for (key, metas) in state.iter() {
        if !snapshot.iter().any(|(k, _)| k == key) {
            diff.leaves.push((key.clone(), metas.clone()));
        }
    }
    for (key, new_metas) in snapshot {
        match state.get(key) {
            Some(cur) => {
                let joined: Vec<PresenceMeta> =
                    new_metas.iter().filter(|m| !refs(cur).any(|r| r == m.phx_ref)).cloned().collect();
                let left: Vec<PresenceMeta> =
                    cur.iter().filter(|m| !refs(new_metas).any(|r| r == m.phx_ref)).cloned().collect();
                if !joined.is_empty() {
                    diff.joins.push((key.clone(), joined));
                }
                if !left.is_empty() {
                    diff.leaves.push((key.clone(), left));
                }
            }
            None => diff.joins.push((key.clone(), new_metas.clone())),
        }
    }
    sync_diff(state, &diff)
}

/// A channel's presence view.
#[derive(Debug, Clone, Default)]
pub struct Presence {
    state: PresenceState,
    /// `true` once this join's `presence_state` arrived.
    synced: bool,
    pending: Vec<PresenceDiff>,
}

impl Presence {
    /// A new join started: diffs are buffered until its `presence_state` arrives, which then
    /// replaces the old view (removing members that left while we were away).
    pub fn rejoining(&mut self) {
        self.synced = false;
        self.pending.clear();
    }
    /// The channel closed: forget everything.
    pub fn clear(&mut self) {
        *self = Presence::default();
    }
    /// Applies a `presence_state`, then the buffered diffs; returns the events (ending in
    /// `Sync`).
    pub fn on_state(&mut self, snapshot: &PresenceEntries) -> Vec<PresenceEvent> {
        let (mut state, mut events) = sync_state(&self.state, snapshot);
        for d in core::mem::take(&mut self.pending) {
            let (s, e) = sync_diff(&state, &d);
            state = s;
            events.extend(e);
        }
        self.state = state;
        self.synced = true;
        events.push(PresenceEvent::Sync);
        events
    }
    /// Applies (or buffers) a `presence_diff`.
    pub fn on_diff(&mut self, diff: PresenceDiff) -> Vec<PresenceEvent> {
        if !self.synced {
            if self.pending.len() == MAX_PENDING_DIFFS {
                self.pending.remove(0);
            }
            self.pending.push(diff);
            return Vec::new();
        }
        let (state, mut events) = sync_diff(&self.state, &diff);
        self.state = state;
        events.push(PresenceEvent::Sync);
        events
    }
    /// `presenceState()`: `{key: [meta, …]}` JSON in realtime-js's shape.
    pub fn state_json(&self) -> String {
        let mut w = ObjectWriter::new();
        for (k, metas) in self.state.iter() {
            let mut arr = String::from("[");
            for (i, m) in metas.iter().enumerate() {
                if i > 0 {
                    arr.push(',');
                }
                arr.push_str(&js_meta(m));
            }
            arr.push(']');
            w.raw(k, &arr);
        }
        w.finish()
    }
    /// The current state.
    pub fn state(&self) -> &PresenceState {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use authwire_wire::realtime::{parse_presence_diff, parse_presence_state};

    fn meta(r: &str, prev: Option<&str>, user: &str) -> PresenceMeta {
        let mut w = ObjectWriter::new();
        w.str("phx_ref", r);
        if let Some(p) = prev {
            w.str("phx_ref_prev", p);
        }
        w.str("user", user);
        PresenceMeta { phx_ref: r.into(), phx_ref_prev: prev.map(String::from), raw: w.finish() }
    }

    fn kinds(events: &[PresenceEvent]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| match e {
                PresenceEvent::Sync => "sync",
                PresenceEvent::Join { .. } => "join",
                PresenceEvent::Leave { .. } => "leave",
                PresenceEvent::Update { .. } => "update",
            })
            .collect()
    }

    #[test]
    fn inputs_are_never_mutated() {
        let mut state = PresenceState::new();
        state.insert("a".to_string(), vec![meta("1", None, "x")]);
        let before = state.clone();
        let diff = PresenceDiff {
            joins: vec![("a".into(), vec![meta("2", Some("1"), "y")])],
            leaves: vec![("a".into(), vec![meta("1", None, "x")])],
        };
        let diff_before = diff.clone();
        let (next, _) = sync_diff(&state, &diff);
        assert_eq!(state.get(&"a".to_string()), before.get(&"a".to_string()));
        assert_eq!(diff, diff_before);
        let a = next.get(&"a".to_string()).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].phx_ref, "2");
    }

    #[test]
    fn an_update_is_one_update_event_besides_join_and_leave() {
        let mut p = Presence::default();
        let ev = p.on_state(&parse_presence_state(r#"{"alice":{"metas":[{"phx_ref":"1","s":"a"}]}}"#).unwrap());
        assert_eq!(kinds(&ev), ["join", "sync"]);
        let ev = p.on_diff(
            parse_presence_diff(
                r#"{"joins":{"alice":{"metas":[{"phx_ref":"2","phx_ref_prev":"1","s":"b"}]}},"leaves":{"alice":{"metas":[{"phx_ref":"1","s":"a"}]}}}"#,
            )
            .unwrap(),
        );
        assert_eq!(kinds(&ev), ["join", "leave", "update", "sync"]);
        let PresenceEvent::Update { key, new, old } = &ev[2] else { panic!() };
        assert_eq!(key, "alice");
        assert_eq!(new, &[r#"{"presence_ref":"2","s":"b"}"#.to_string()]);
        assert_eq!(old, &[r#"{"presence_ref":"1","s":"a"}"#.to_string()]);
        assert_eq!(p.state_json(), r#"{"alice":[{"presence_ref":"2","s":"b"}]}"#);
    }

    #[test]
    fn no_ghost_after_update_then_leave() {
        // realtime-js#244 / supabase-js#2566: track, re-track, leave must leave nobody behind.
        let mut p = Presence::default();
        p.on_state(&parse_presence_state("{}").unwrap());
        p.on_diff(parse_presence_diff(r#"{"joins":{"k":{"metas":[{"phx_ref":"1"}]}},"leaves":{}}"#).unwrap());
        p.on_diff(
            parse_presence_diff(
                r#"{"joins":{"k":{"metas":[{"phx_ref":"2","phx_ref_prev":"1"}]}},"leaves":{"k":{"metas":[{"phx_ref":"1"}]}}}"#,
            )
            .unwrap(),
        );
        let ev = p.on_diff(parse_presence_diff(r#"{"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"2"}]}}}"#).unwrap());
        assert_eq!(kinds(&ev), ["leave", "sync"]);
        assert!(p.state().is_empty());
        assert_eq!(p.state_json(), "{}");
    }

    #[test]
    fn diffs_wait_for_the_state_of_the_current_join() {
        let mut p = Presence::default();
        assert!(p
            .on_diff(parse_presence_diff(r#"{"joins":{"b":{"metas":[{"phx_ref":"9"}]}},"leaves":{}}"#).unwrap())
            .is_empty());
        let ev = p.on_state(&parse_presence_state(r#"{"a":{"metas":[{"phx_ref":"1"}]}}"#).unwrap());
        assert_eq!(kinds(&ev), ["join", "join", "sync"]);
        assert_eq!(p.state().len(), 2);
        // Rejoin: members gone while we were away leave when the new snapshot arrives.
        p.rejoining();
        let ev = p.on_state(&parse_presence_state(r#"{"a":{"metas":[{"phx_ref":"1"}]}}"#).unwrap());
        assert_eq!(kinds(&ev), ["leave", "sync"]);
        assert_eq!(p.state().keys().collect::<Vec<_>>(), [&"a".to_string()]);
    }

    #[test]
    fn several_metas_per_key() {
        let mut p = Presence::default();
        p.on_state(&parse_presence_state(r#"{"u":{"metas":[{"phx_ref":"1"},{"phx_ref":"2"}]}}"#).unwrap());
        let ev = p.on_diff(parse_presence_diff(r#"{"joins":{},"leaves":{"u":{"metas":[{"phx_ref":"1"}]}}}"#).unwrap());
        let PresenceEvent::Leave { current, left, .. } = &ev[0] else { panic!() };
        assert_eq!(current, &[r#"{"presence_ref":"2"}"#.to_string()]);
        assert_eq!(left.len(), 1);
        assert_eq!(p.state().get(&"u".to_string()).unwrap().len(), 1);
    }
}
