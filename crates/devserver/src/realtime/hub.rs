//! The channel registry and fan-out: which channel instances listen on which topic, and
//! the presence state of each topic. Public and private channels with the same name are
//! different topics (protocol reference §4.1).
//!
//! The lock is never held across an `.await`: fan-out only queues messages on the
//! sockets' outboxes.

use super::presence::{Diff, Meta, Presence};
use super::socket::{FanMsg, Outbound, SocketHandle};
use super::ChanId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A topic: its name without `realtime:` and whether it is private.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TopicKey {
    pub(crate) private: bool,
    pub(crate) name: String,
}

/// A channel instance listening on a topic.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) socket: Arc<SocketHandle>,
    /// Private channels: may read broadcasts (public: always).
    pub(crate) read_broadcast: bool,
    /// Private channels: may read presence (public: always).
    pub(crate) read_presence: bool,
}

#[derive(Debug, Default)]
struct Topic {
    members: HashMap<ChanId, Member>,
    presence: Presence,
}

/// The registry.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    topics: Mutex<HashMap<TopicKey, Topic>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicKey, Topic>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a channel instance to `key`.
    pub(crate) fn join(&self, key: &TopicKey, chan: ChanId, member: Member) {
        self.lock().entry(key.clone()).or_default().members.insert(chan, member);
    }

    /// Updates a member's read permissions (after an `access_token`).
    pub(crate) fn set_reads(&self, key: &TopicKey, chan: ChanId, broadcast: bool, presence: bool) {
        if let Some(m) = self.lock().get_mut(key).and_then(|t| t.members.get_mut(&chan)) {
            m.read_broadcast = broadcast;
            m.read_presence = presence;
        }
    }

    /// Removes a channel instance; its presence leaves are fanned out to the others.
    pub(crate) fn leave(&self, key: &TopicKey, chan: ChanId) {
        let mut topics = self.lock();
        let Some(t) = topics.get_mut(key) else { return };
        t.members.remove(&chan);
        if let Some(diff) = t.presence.untrack(chan) {
            fan_diff(key, t, &diff);
        }
        if t.members.is_empty() && t.presence.is_empty() {
            topics.remove(key);
        }
    }

    /// Number of channel instances.
    pub(crate) fn channel_count(&self) -> usize {
        self.lock().values().map(|t| t.members.len()).sum()
    }

    /// Number of topics with at least one member.
    pub(crate) fn topic_count(&self) -> usize {
        self.lock().len()
    }

    /// Queues `msg` for every member of `key` that may read broadcasts, except `except`.
    /// Returns how many channel instances it was queued for.
    pub(crate) fn broadcast(&self, key: &TopicKey, except: Option<ChanId>, msg: Arc<FanMsg>) -> usize {
        let topics = self.lock();
        let Some(t) = topics.get(key) else { return 0 };
        let mut n = 0;
        for (chan, m) in &t.members {
            if Some(*chan) == except || (key.private && !m.read_broadcast) {
                continue;
            }
            m.socket.push(Outbound::Fan { chan: *chan, msg: msg.clone() });
            n += 1;
        }
        n
    }

    /// The `presence_state` body of `key`.
    pub(crate) fn presence_state(&self, key: &TopicKey) -> String {
        self.lock().get(key).map_or_else(|| "{}".to_owned(), |t| t.presence.state_json())
    }

    /// Tracks `chan`'s meta; the diff goes to every member that may read presence. False
    /// when the same meta was already tracked (nothing sent).
    pub(crate) fn track(&self, key: &TopicKey, chan: ChanId, pkey: &str, meta: Meta) -> bool {
        let mut topics = self.lock();
        let t = topics.entry(key.clone()).or_default();
        match t.presence.track(chan, pkey, meta) {
            Some(diff) => {
                fan_diff(key, t, &diff);
                true
            }
            None => false,
        }
    }

    /// True when `chan` has a presence meta on `key`.
    pub(crate) fn is_tracking(&self, key: &TopicKey, chan: ChanId) -> bool {
        self.lock().get(key).is_some_and(|t| t.presence.is_tracking(chan))
    }

    /// Removes `chan`'s metas; the leaves go to every member that may read presence.
    pub(crate) fn untrack(&self, key: &TopicKey, chan: ChanId) {
        let mut topics = self.lock();
        if let Some(t) = topics.get_mut(key) {
            if let Some(diff) = t.presence.untrack(chan) {
                fan_diff(key, t, &diff);
            }
        }
    }
}

fn fan_diff(key: &TopicKey, t: &Topic, diff: &Diff) {
    let msg = Arc::new(FanMsg::Json { event: "presence_diff", payload: diff.to_json(), id: None });
    for (chan, m) in &t.members {
        if key.private && !m.read_presence {
            continue;
        }
        m.socket.push(Outbound::Fan { chan: *chan, msg: msg.clone() });
    }
}
