//! The nothing-lost checkers (issue 14), fed from the same outputs as the G1–G8 checkers:
//!
//! - **duplicate** — one database broadcast (`meta.id`) delivered twice to one app channel
//!   (a replayed message and its live copy, or two replays).
//! - **unreported** — a database broadcast committed while an app channel of its topic was
//!   wanted (from the channel's first `SUBSCRIBED` until the app saw it `CLOSED`) that never
//!   reached the channel, and lies inside no gap the channel reported. Judged at the end of
//!   the schedule, after the quiet period. A channel not `SUBSCRIBED` then (its socket cannot
//!   connect: no usable token) has reported nothing of its last loss yet: what was committed
//!   after its last `SUBSCRIBED` is not judged.
//!
//! Gap windows are in the tab's clock; they are mapped onto the servers' clock with the
//! smallest and largest offset between the two seen on that tab's page (a clock jump
//! widens the window, never narrows it).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_core::client::Client;
use authwire_core::io::{AppEvent, ChannelId, SubscribeStatus};
use authwire_core::time::Now;
use authwire_wire::json;

use crate::rt_server::ClientIdx;

#[derive(Debug, Default)]
struct Chan {
    topic: String,
    /// Servers' wall clock (ms) at the first `SUBSCRIBED`.
    since: Option<u64>,
    /// … and when the app saw `CLOSED`.
    closed: Option<u64>,
    /// The last status the app saw, and when it last saw `SUBSCRIBED`.
    last: Option<SubscribeStatus>,
    last_subscribed: u64,
    got: BTreeSet<String>,
    /// Reported gaps, in the tab's clock (ms).
    gaps: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Offsets {
    min: i64,
    max: i64,
}

/// The ledger of database broadcasts and what each app channel got.
#[derive(Debug, Default)]
pub struct Ledger {
    /// (full topic, id, committed at: servers' wall clock ms).
    commits: Vec<(String, String, u64)>,
    chans: BTreeMap<(ClientIdx, ChannelId), Chan>,
    offsets: BTreeMap<ClientIdx, Offsets>,
    /// Broadcasts delivered twice to one channel.
    pub duplicates: u32,
    /// Broadcasts lost without a gap (counted by [`Ledger::finish`]).
    pub unreported: u32,
    /// The first few findings, described.
    pub messages: Vec<String>,
}

impl Ledger {
    /// The server stored and sent database broadcast `id` on `topic` at `at` (its clock).
    pub fn commit(&mut self, topic: &str, id: &str, at: Now) {
        self.commits.push((String::from(topic), String::from(id), at.wall.as_millis()));
    }

    /// A tab's page went away: its channels with it.
    pub fn reset_tab(&mut self, tab: ClientIdx) {
        self.chans.retain(|(t, _), _| *t != tab);
        self.offsets.remove(&tab);
    }

    fn note(&mut self, msg: String) {
        if self.messages.len() < 4 {
            self.messages.push(msg);
        }
    }

    /// An app event on `tab` (`local`: its clock, `server`: the servers').
    pub fn on_event(&mut self, tab: ClientIdx, c: &Client, local: Now, server: Now, e: &AppEvent) {
        let off = server.wall.as_millis() as i64 - local.wall.as_millis() as i64;
        let o = self.offsets.entry(tab).or_insert(Offsets { min: off, max: off });
        o.min = o.min.min(off);
        o.max = o.max.max(off);
        let at = server.wall.as_millis();
        match e {
            AppEvent::ChannelStatus { channel, status, .. } => {
                let ch = self.chans.entry((tab, *channel)).or_default();
                if ch.topic.is_empty() {
                    ch.topic = c.channel_info(*channel).map(|i| i.topic).unwrap_or_default();
                }
                match status {
                    SubscribeStatus::Subscribed if ch.since.is_none() && ch.closed.is_none() => ch.since = Some(at),
                    SubscribeStatus::Closed if ch.closed.is_none() => ch.closed = Some(at),
                    _ => {}
                }
                if *status == SubscribeStatus::Subscribed {
                    ch.last_subscribed = at;
                }
                ch.last = Some(*status);
            }
            AppEvent::Broadcast { channel, event, payload, .. } if event == "db" => {
                let id = json::field(payload, "meta")
                    .ok()
                    .flatten()
                    .and_then(|m| json::field(m, "id").ok().flatten())
                    .and_then(json::str_of);
                let Some(id) = id else { return };
                let ch = self.chans.entry((tab, *channel)).or_default();
                if !ch.got.insert(id.clone()) {
                    let topic = ch.topic.clone();
                    self.duplicates += 1;
                    self.note(format!("tab {tab}: database broadcast {id} delivered twice on {topic}"));
                }
            }
            AppEvent::System { channel, payload, code: Some("gap") } => {
                let num = |k: &str| json::field(payload, k).ok().flatten().and_then(|v| v.parse::<u64>().ok());
                if let (Some(from), Some(to)) = (num("from"), num("to")) {
                    self.chans.entry((tab, *channel)).or_default().gaps.push((from, to));
                }
            }
            _ => {}
        }
    }

    /// The end of the schedule: every commit due to a channel reached it or lies in a gap.
    pub fn finish(&mut self) {
        let mut found = Vec::new();
        for ((tab, _), ch) in &self.chans {
            let Some(since) = ch.since else { continue };
            let o = self.offsets.get(tab).copied().unwrap_or(Offsets { min: 0, max: 0 });
            let covered = |at: u64| {
                ch.gaps.iter().any(|&(from, to)| {
                    let (from, to) = (from as i64 + o.min, to as i64 + o.max);
                    (from..=to).contains(&(at as i64))
                })
            };
            for (topic, id, at) in &self.commits {
                let back = ch.last == Some(SubscribeStatus::Subscribed) || *at < ch.last_subscribed;
                let due = *topic == ch.topic && *at >= since && ch.closed.is_none_or(|c| *at < c) && back;
                if due && !ch.got.contains(id) && !covered(*at) {
                    found.push(format!(
                        "tab {tab}: database broadcast {id} on {topic} (committed at {at}) never arrived and no gap covers it \
                         (the channel: SUBSCRIBED first at {since}, closed {:?}, {} delivered, gaps {:?})",
                        ch.closed,
                        ch.got.len(),
                        ch.gaps
                    ));
                }
            }
        }
        self.unreported += found.len() as u32;
        for f in found {
            self.note(f);
        }
    }
}
