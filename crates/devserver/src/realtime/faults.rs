//! Realtime faults: the `"realtime"` section of `POST /_dev/faults` (service role only).
//!
//! ```json
//! { "realtime": {
//!     "dropSockets":  { "userId": "…", "code": 1001, "reason": "bye" },
//!     "delayReplies": { "ms": 800, "count": 2, "event": "phx_join", "topic": "room1" },
//!     "socketLifetime": { "meanMs": 15000 },
//!     "dropReplies":  { "count": 1, "event": "heartbeat" },
//!     "refuseJoins":  { "reason": "Unauthorized: go away", "count": 1, "topic": "room1" },
//!     "expireTokens": { "userId": "…" },
//!     "sendFrames":   { "userId": "…", "frames": ["[null,null,\"realtime:room1\",\"system\",{}]"],
//!                       "binary": ["BA4GAAF…"], "repeat": 1 },
//!     "pauseChanges": true
//! } }
//! ```
//! Actions, applied once when posted (the answer says how many sockets they reached):
//! - `dropSockets`: ends every socket (or those whose connect or channel token has
//!   `sub` = `userId`); with `code` a close frame is sent, without it the TCP connection is
//!   dropped (a browser sees 1006).
//! - `expireTokens`: runs the token check now on every channel (or those of `userId`) as if
//!   the token had expired: `system` "Token has expired N seconds ago", then `phx_close`.
//! - `sendFrames`: sends each text frame verbatim (and each base64 `binary` frame) to every
//!   socket (or those of `userId`), `repeat` times (default 1, at most 1,000,000): the
//!   benchmarks' flood, one pre-encoded frame written back to back without per-frame work,
//!   so the server is never what limits the rate. Repeated frames are not recorded in
//!   `/_dev/events`.
//!
//! Standing faults, kept until cleared (a key set to `null`, or `DELETE /_dev/faults`):
//! - `delayReplies`: `phx_reply` frames answering `event` (any when absent) on sub-topic
//!   `topic` (any when absent; `phoenix` for heartbeats) wait `ms`, for the next `count`
//!   replies (absent: until cleared). The socket handles nothing else meanwhile.
//!   With `maxMs` each delay is drawn uniformly from `ms..=maxMs`; with `fraction` (0..=1)
//!   a matching reply is affected with that probability (one not affected uses no `count`).
//! - `dropReplies`: those replies are not sent at all (`fraction` as above).
//! - `socketLifetime`: each socket opened while it is set is dropped (TCP, no close frame: a
//!   browser sees 1006) after a random lifetime, exponentially distributed with mean `meanMs`.
//! - `refuseJoins`: the next `count` joins (absent: all) of `topic` (any when absent) are
//!   refused with `reason` (after the join-error delay).
//! - `pauseChanges`: `true` stops reading the change feed (changes wait in the slot and are
//!   delivered on `false`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Duration;

/// Which replies a rule applies to, and how many more times.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ReplyRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
}

/// `refuseJoins`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RefuseJoins {
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
}

/// `socketLifetime`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SocketLifetime {
    mean_ms: u64,
}

/// `dropSockets`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DropSockets {
    #[serde(default)]
    pub(crate) user_id: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<u16>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// `expireTokens`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExpireTokens {
    #[serde(default)]
    pub(crate) user_id: Option<String>,
}

/// `sendFrames`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SendFrames {
    #[serde(default)]
    pub(crate) user_id: Option<String>,
    #[serde(default)]
    pub(crate) frames: Vec<String>,
    #[serde(default)]
    pub(crate) binary: Vec<String>,
    /// How many times the frames are sent (default 1).
    #[serde(default)]
    pub(crate) repeat: Option<u32>,
}

/// The most `sendFrames.repeat` may ask for.
pub(crate) const MAX_REPEAT: u32 = 1_000_000;

/// What a reply fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyFault {
    Drop,
    Delay(Duration),
}

#[derive(Debug, Default)]
struct State {
    delay_replies: Option<ReplyRule>,
    drop_replies: Option<ReplyRule>,
    refuse_joins: Option<RefuseJoins>,
    socket_lifetime: Option<SocketLifetime>,
}

/// The standing realtime faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    state: Mutex<State>,
    paused: std::sync::atomic::AtomicBool,
}

/// The actions of one request, parsed.
#[derive(Debug, Default)]
pub(crate) struct Actions {
    pub(crate) drop_sockets: Option<DropSockets>,
    pub(crate) expire_tokens: Option<ExpireTokens>,
    pub(crate) send_frames: Option<SendFrames>,
}

fn matches(rule_event: &Option<String>, rule_topic: &Option<String>, event: &str, topic: &str) -> bool {
    let sub = topic.strip_prefix("realtime:").unwrap_or(topic);
    rule_event.as_deref().is_none_or(|e| e == event) && rule_topic.as_deref().is_none_or(|t| t == sub)
}

/// Consumes one use of a counted rule; returns whether it applied.
fn take(slot: &mut Option<ReplyRule>, event: &str, topic: &str) -> Option<ReplyRule> {
    let rule = slot.as_mut()?;
    if !matches(&rule.event, &rule.topic, event, topic) {
        return None;
    }
    if rule.fraction.is_some_and(|p| crate::dev_faults::uniform() >= p) {
        return None;
    }
    let out = rule.clone();
    if let Some(c) = rule.count.as_mut() {
        *c = c.saturating_sub(1);
        if *c == 0 {
            *slot = None;
        }
    }
    Some(out)
}

fn check_fraction(key: &str, rule: Option<&ReplyRule>) -> Result<(), String> {
    match rule.and_then(|r| r.fraction) {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(format!("realtime.{key}.fraction must be within 0..=1")),
        _ => Ok(()),
    }
}

fn parse_opt<T: serde::de::DeserializeOwned>(key: &str, v: &Value) -> Result<Option<T>, String> {
    if v.is_null() {
        return Ok(None);
    }
    serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("realtime.{key}: {e}"))
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault for a reply answering `event` on `topic`, if any (consumes one use).
    pub(crate) fn reply_fault(&self, event: &str, topic: &str) -> Option<ReplyFault> {
        let mut s = self.lock();
        if take(&mut s.drop_replies, event, topic).is_some() {
            return Some(ReplyFault::Drop);
        }
        take(&mut s.delay_replies, event, topic).map(|r| {
            let lo = r.ms.unwrap_or(0);
            let hi = r.max_ms.unwrap_or(lo).max(lo);
            let ms = lo + ((hi - lo + 1) as f64 * crate::dev_faults::uniform()) as u64;
            ReplyFault::Delay(Duration::from_millis(ms.min(hi)))
        })
    }

    /// How long a socket opening now may live (`socketLifetime`), if it is set.
    pub(crate) fn socket_lifetime(&self) -> Option<Duration> {
        let mean = self.lock().socket_lifetime.as_ref()?.mean_ms as f64;
        // Exponential: -mean · ln(1 - u), u in [0, 1).
        let ms = -mean * (1.0 - crate::dev_faults::uniform()).ln();
        Some(Duration::from_millis(ms.min(1e12) as u64))
    }

    /// The reason to refuse a join of `sub_topic`, if any (consumes one use).
    pub(crate) fn refused_join(&self, sub_topic: &str) -> Option<String> {
        let mut s = self.lock();
        let r = s.refuse_joins.as_mut()?;
        if r.topic.as_deref().is_some_and(|t| t != sub_topic) {
            return None;
        }
        let reason = r.reason.clone();
        if let Some(c) = r.count.as_mut() {
            *c = c.saturating_sub(1);
            if *c == 0 {
                s.refuse_joins = None;
            }
        }
        Some(reason)
    }

    /// True while the change feed is paused.
    pub(crate) fn changes_paused(&self) -> bool {
        self.paused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies a `"realtime"` section: standing faults are stored, actions returned.
    pub(crate) fn apply(&self, section: &Value) -> Result<Actions, String> {
        let Some(map) = section.as_object() else { return Err("`realtime` must be an object".into()) };
        let mut actions = Actions::default();
        // Parse everything before changing anything.
        let mut delay = None;
        let mut drop = None;
        let mut refuse = None;
        let mut pause = None;
        let mut lifetime = None;
        for (k, v) in map {
            match k.as_str() {
                "delayReplies" => {
                    let r: Option<ReplyRule> = parse_opt(k, v)?;
                    if r.as_ref().is_some_and(|r| r.ms.is_none()) {
                        return Err("realtime.delayReplies needs `ms`".into());
                    }
                    check_fraction(k, r.as_ref())?;
                    delay = Some(r);
                }
                "dropReplies" => {
                    let r: Option<ReplyRule> = parse_opt(k, v)?;
                    check_fraction(k, r.as_ref())?;
                    drop = Some(r);
                }
                "socketLifetime" => lifetime = Some(parse_opt::<SocketLifetime>(k, v)?),
                "refuseJoins" => refuse = Some(parse_opt::<RefuseJoins>(k, v)?),
                "pauseChanges" => match v {
                    Value::Bool(b) => pause = Some(*b),
                    Value::Null => pause = Some(false),
                    _ => return Err("realtime.pauseChanges must be true or false".into()),
                },
                "dropSockets" => actions.drop_sockets = parse_opt(k, v)?,
                "expireTokens" => actions.expire_tokens = parse_opt(k, v)?,
                "sendFrames" => actions.send_frames = parse_opt(k, v)?,
                other => {
                    return Err(format!(
                        "unknown realtime fault `{other}` (known: dropSockets, delayReplies, dropReplies, refuseJoins, \
                         socketLifetime, expireTokens, sendFrames, pauseChanges)"
                    ))
                }
            }
        }
        let mut s = self.lock();
        if let Some(d) = delay {
            s.delay_replies = d;
        }
        if let Some(d) = drop {
            s.drop_replies = d;
        }
        if let Some(r) = refuse {
            s.refuse_joins = r;
        }
        if let Some(l) = lifetime {
            s.socket_lifetime = l;
        }
        if let Some(p) = pause {
            self.paused.store(p, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(actions)
    }

    /// The standing faults as JSON.
    pub(crate) fn snapshot(&self) -> Value {
        let s = self.lock();
        json!({
            "delayReplies": s.delay_replies,
            "dropReplies": s.drop_replies,
            "refuseJoins": s.refuse_joins,
            "socketLifetime": s.socket_lifetime,
            "pauseChanges": self.changes_paused(),
        })
    }

    /// Clears every standing fault.
    pub(crate) fn clear(&self) {
        *self.lock() = State::default();
        self.paused.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaos_faults_are_random_within_their_bounds() {
        let f = Faults::default();
        f.apply(&json!({ "delayReplies": { "ms": 10, "maxMs": 3000, "fraction": 0.25 },
                         "socketLifetime": { "meanMs": 1000 } }))
            .unwrap();
        let delays: Vec<u64> = (0..4000)
            .filter_map(|_| match f.reply_fault("phx_join", "realtime:a") {
                Some(ReplyFault::Delay(d)) => Some(d.as_millis() as u64),
                _ => None,
            })
            .collect();
        // Binomial(4000, 0.25): 1000 ± 6 standard deviations (27).
        assert!((1000 - 165..=1000 + 165).contains(&delays.len()), "{} delayed", delays.len());
        assert!(delays.iter().all(|d| (10..=3000).contains(d)));
        assert!(delays.iter().any(|d| *d < 1000) && delays.iter().any(|d| *d > 2000));
        let lives: Vec<f64> = (0..4000).map(|_| f.socket_lifetime().unwrap().as_secs_f64()).collect();
        let mean = lives.iter().sum::<f64>() / lives.len() as f64;
        // The mean of 4000 exponentials of mean 1 s: 1 ± 6/√4000.
        assert!((0.9..=1.1).contains(&mean), "mean lifetime {mean}");
        assert!(f.apply(&json!({ "dropReplies": { "fraction": 1.5 } })).is_err());
        f.apply(&json!({ "socketLifetime": null })).unwrap();
        assert_eq!(f.socket_lifetime(), None);
    }

    #[test]
    fn standing_faults_count_down() {
        let f = Faults::default();
        f.apply(&json!({ "dropReplies": { "count": 1, "event": "heartbeat" },
                         "delayReplies": { "ms": 5, "topic": "room1" },
                         "refuseJoins": { "reason": "Unauthorized: no", "count": 2, "topic": "a" } }))
            .unwrap();
        assert_eq!(f.reply_fault("phx_join", "realtime:other"), None);
        assert_eq!(f.reply_fault("heartbeat", "phoenix"), Some(ReplyFault::Drop));
        assert_eq!(f.reply_fault("heartbeat", "phoenix"), None);
        assert_eq!(f.reply_fault("phx_join", "realtime:room1"), Some(ReplyFault::Delay(Duration::from_millis(5))));
        assert_eq!(f.refused_join("b"), None);
        assert_eq!(f.refused_join("a").as_deref(), Some("Unauthorized: no"));
        assert!(f.refused_join("a").is_some());
        assert_eq!(f.refused_join("a"), None);
        f.apply(&json!({ "pauseChanges": true })).unwrap();
        assert!(f.changes_paused());
        f.apply(&json!({ "delayReplies": null })).unwrap();
        assert_eq!(f.reply_fault("phx_join", "realtime:room1"), None);
        assert!(f.apply(&json!({ "nope": 1 })).is_err());
        assert!(f.apply(&json!({ "delayReplies": { "count": 1 } })).is_err());
        let a = f.apply(&json!({ "dropSockets": { "userId": "u" }, "sendFrames": { "frames": ["x"] } })).unwrap();
        assert_eq!(a.drop_sockets.unwrap().user_id.as_deref(), Some("u"));
        assert_eq!(a.send_frames.unwrap().frames, ["x"]);
        f.clear();
        assert!(!f.changes_paused());
    }
}
