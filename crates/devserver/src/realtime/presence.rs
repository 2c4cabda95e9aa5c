//! Presence state of one topic: key → metas, each meta tagged with the server's `phx_ref`
//! (protocol reference §7). Pure data; the hub fans the diffs out.
//!
//! Metas are held as serde_json maps because presence state is rendered the way the real
//! server renders its Elixir maps: keys sorted, a repeated key keeping its last value,
//! numbers re-encoded. A tracked payload arrives as the frame codec's
//! `authwire_wire::json::Value` and becomes a [`Meta`] here, once.

use authwire_wire::json::Value as WireValue;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ChanId;

/// serde_json's nesting limit (containers), which a tracked payload must respect to be kept.
const SERDE_MAX_NESTING: usize = 127;

/// A tracked meta (without `phx_ref`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta(Map<String, Value>);

impl Meta {
    /// The meta of a `track` payload object. The result is what serde_json reads from the
    /// payload's compact text: a number it cannot represent (beyond `f64`) or nesting past its
    /// limit makes the meta empty.
    pub(crate) fn from_wire(payload: &WireValue) -> Meta {
        match to_serde(payload, 0) {
            Some(Value::Object(m)) => Meta(m),
            _ => Meta::default(),
        }
    }

    /// The length of the meta's JSON text (what the payload size limit measures).
    pub(crate) fn encoded_len(&self) -> usize {
        serde_json::to_string(&self.0).map_or(0, |s| s.len())
    }
}

/// Converts a wire value, member by member: numbers through serde_json's own number reader,
/// objects into maps (the last of a repeated key wins, as when serde_json parses text).
fn to_serde(v: &WireValue, nesting: usize) -> Option<Value> {
    let inner = nesting + 1;
    Some(match v {
        WireValue::Null => Value::Null,
        WireValue::Bool(b) => Value::Bool(*b),
        WireValue::Num(text) => Value::Number(text.parse().ok()?),
        WireValue::Str(s) => Value::String(s.clone()),
        WireValue::Arr(items) if inner <= SERDE_MAX_NESTING => {
            Value::Array(items.iter().map(|i| to_serde(i, inner)).collect::<Option<_>>()?)
        }
        WireValue::Obj(members) if inner <= SERDE_MAX_NESTING => {
            let mut m = Map::new();
            for (k, v) in members {
                m.insert(k.clone(), to_serde(v, inner)?);
            }
            Value::Object(m)
        }
        WireValue::Arr(_) | WireValue::Obj(_) => return None,
    })
}

/// One tracked meta.
#[derive(Debug, Clone)]
struct Entry {
    chan: ChanId,
    phx_ref: String,
    phx_ref_prev: Option<String>,
    /// The tracked object, without `phx_ref`.
    meta: Meta,
}

impl Entry {
    fn to_json(&self, with_prev: bool) -> Value {
        let mut m = self.meta.0.clone();
        m.insert("phx_ref".into(), Value::String(self.phx_ref.clone()));
        if with_prev {
            if let Some(p) = &self.phx_ref_prev {
                m.insert("phx_ref_prev".into(), Value::String(p.clone()));
            }
        }
        Value::Object(m)
    }
}

/// A `presence_diff` body: `{"joins": {...}, "leaves": {...}}`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Diff {
    joins: Map<String, Value>,
    leaves: Map<String, Value>,
}

fn push_meta(side: &mut Map<String, Value>, key: &str, meta: Value) {
    let entry = side.entry(key.to_owned()).or_insert_with(|| serde_json::json!({ "metas": [] }));
    if let Some(Value::Array(a)) = entry.get_mut("metas") {
        a.push(meta);
    }
}

impl Diff {
    pub(crate) fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.leaves.is_empty()
    }
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({ "joins": self.joins, "leaves": self.leaves }).to_string()
    }
}

/// The presence state of a topic.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    /// Keys in first-track order, each with its metas in track order.
    keys: Vec<(String, Vec<Entry>)>,
}

static REF_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh opaque reference, shaped like Phoenix's (16 base64 characters).
pub(crate) fn new_ref() -> String {
    let n = REF_COUNTER.fetch_add(1, Ordering::Relaxed);
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&(t ^ n.rotate_left(40)).to_be_bytes());
    b[8..].copy_from_slice(&(n as u32).to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(b)
}

impl Presence {
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `presence_state` body.
    pub(crate) fn state_json(&self) -> String {
        let mut out = Map::new();
        for (key, entries) in &self.keys {
            let metas: Vec<Value> = entries.iter().map(|e| e.to_json(true)).collect();
            out.insert(key.clone(), serde_json::json!({ "metas": metas }));
        }
        Value::Object(out).to_string()
    }

    fn find(&self, chan: ChanId) -> Option<(usize, usize)> {
        self.keys.iter().enumerate().find_map(|(ki, (_, es))| es.iter().position(|e| e.chan == chan).map(|ei| (ki, ei)))
    }

    /// Tracks (or updates) `chan`'s meta under `key`. `None` when nothing changed (same meta
    /// tracked again).
    pub(crate) fn track(&mut self, chan: ChanId, key: &str, meta: Meta) -> Option<Diff> {
        let mut diff = Diff::default();
        let mut prev = None;
        if let Some((ki, ei)) = self.find(chan) {
            if self.keys[ki].0 == key && self.keys[ki].1[ei].meta == meta {
                return None;
            }
            let old = self.keys[ki].1.remove(ei);
            push_meta(&mut diff.leaves, &self.keys[ki].0, old.to_json(false));
            if self.keys[ki].1.is_empty() {
                self.keys.remove(ki);
            }
            prev = Some(old.phx_ref);
        }
        let entry = Entry { chan, phx_ref: new_ref(), phx_ref_prev: prev, meta };
        push_meta(&mut diff.joins, key, entry.to_json(true));
        match self.keys.iter_mut().find(|(k, _)| k == key) {
            Some((_, es)) => es.push(entry),
            None => self.keys.push((key.to_owned(), vec![entry])),
        }
        Some(diff)
    }

    /// Removes every meta of `chan`. `None` when it tracked nothing.
    pub(crate) fn untrack(&mut self, chan: ChanId) -> Option<Diff> {
        let mut diff = Diff::default();
        for (key, entries) in &mut self.keys {
            entries.retain(|e| {
                if e.chan == chan {
                    push_meta(&mut diff.leaves, key, e.to_json(false));
                    false
                } else {
                    true
                }
            });
        }
        self.keys.retain(|(_, es)| !es.is_empty());
        (!diff.is_empty()).then_some(diff)
    }

    /// True when `chan` has a meta.
    pub(crate) fn is_tracking(&self, chan: ChanId) -> bool {
        self.find(chan).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Meta {
        Meta::from_wire(&authwire_wire::json::parse(&v.to_string()).unwrap())
    }

    #[test]
    fn track_update_untrack() {
        let mut p = Presence::default();
        let d = p.track(1, "k", obj(json!({ "user": "alice" }))).unwrap();
        let d: Value = serde_json::from_str(&d.to_json()).unwrap();
        let r1 = d["joins"]["k"]["metas"][0]["phx_ref"].as_str().unwrap().to_owned();
        assert_eq!(d["joins"]["k"]["metas"][0]["user"], "alice");
        assert_eq!(d["leaves"], json!({}));
        assert!(p.track(1, "k", obj(json!({ "user": "alice" }))).is_none());

        let d = p.track(1, "k", obj(json!({ "user": "alice2" }))).unwrap();
        let d: Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(d["joins"]["k"]["metas"][0]["phx_ref_prev"], r1.as_str());
        assert_eq!(d["leaves"]["k"]["metas"][0]["phx_ref"], r1.as_str());
        assert_eq!(d["leaves"]["k"]["metas"][0]["user"], "alice");

        p.track(2, "k", obj(json!({ "user": "bob" })));
        let st: Value = serde_json::from_str(&p.state_json()).unwrap();
        assert_eq!(st["k"]["metas"].as_array().unwrap().len(), 2);

        let d: Value = serde_json::from_str(&p.untrack(1).unwrap().to_json()).unwrap();
        assert_eq!(d["leaves"]["k"]["metas"][0]["user"], "alice2");
        assert!(p.untrack(1).is_none());
        assert!(p.is_tracking(2));
        p.untrack(2);
        assert!(p.is_empty());
        assert_eq!(p.state_json(), "{}");
    }

    /// `Meta::from_wire` equals what the old path produced: the wire value written back to
    /// text and parsed by serde_json (an unparsable text gave an empty meta).
    #[test]
    fn meta_is_what_serde_json_reads_from_the_compact_text() {
        let deep = |n: usize| format!("{{\"d\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        let mut cases = vec![
            r#"{"b":1,"a":{"z":[1,2.50,-0,1e2,1E+21,12345678901234567890123],"y":null},"c":"\ud800x\u00e9"}"#
                .to_owned(),
            r#"{"k":1,"k":2,"k":{"x":true}}"#.to_owned(),
            r#"{"big":1e400}"#.to_owned(),
            r#"{"n":-12345678901234567890}"#.to_owned(),
            "{}".to_owned(),
        ];
        for n in [120, 125, 126, 127] {
            cases.push(deep(n));
        }
        for text in cases {
            let wire = authwire_wire::json::parse(&text).unwrap();
            let old = match serde_json::from_str::<Value>(&wire.to_json()) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            assert_eq!(Meta::from_wire(&wire).0, old, "{text}");
            assert_eq!(Meta::from_wire(&wire).encoded_len(), Value::Object(old).to_string().len(), "{text}");
        }
    }

    #[test]
    fn refs_are_unique() {
        let a = new_ref();
        let b = new_ref();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
    }
}
