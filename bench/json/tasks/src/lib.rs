//! The SDK's job on one inbound V2 text frame, written once per JSON strategy. Every `run`
//! does the same work and returns a checksum of what it read:
//!
//! * `phx_reply`: the reply `status`;
//! * `postgres_changes`: the binding `ids`, `data.type` and the JSON text of `data.record` (the
//!   text is what crosses to JavaScript);
//! * `presence_state`: every key, and each meta's `phx_ref` and JSON text.
//!
//! 0 means the frame was refused.
#![no_std]
extern crate alloc;

#[cfg(feature = "ours")]
pub mod ours {
    use authwire_wire::frame::{decode_text, Payload, Vsn};
    use authwire_wire::realtime::{parse_postgres_changes, parse_presence_state, parse_reply};

    pub fn run(frame: &str) -> usize {
        let Ok(f) = decode_text(frame, Vsn::V2) else { return 0 };
        let Payload::Json(p) = f.payload else { return 0 };
        match f.event.as_str() {
            "phx_reply" => parse_reply(&p).map_or(0, |r| r.status.len()),
            "postgres_changes" => parse_postgres_changes(&p)
                .map_or(0, |ev| ev.ids.len() + ev.change.as_str().len() + ev.data_field("record").map_or(0, str::len)),
            "presence_state" => parse_presence_state(&p).map_or(0, |entries| {
                entries
                    .iter()
                    .map(|(k, metas)| k.len() + metas.iter().map(|m| m.phx_ref.len() + m.raw.len()).sum::<usize>())
                    .sum()
            }),
            _ => 0,
        }
    }
}

#[cfg(feature = "serde-value")]
pub mod serde_value {
    use serde_json::Value;

    pub fn run(frame: &str) -> usize {
        let Ok(v) = serde_json::from_str::<Value>(frame) else { return 0 };
        let Some([_, _, Value::String(_), Value::String(event), p, ..]) = v.as_array().map(|a| a.as_slice()) else {
            return 0;
        };
        match event.as_str() {
            "phx_reply" => p["status"].as_str().map_or(0, str::len),
            "postgres_changes" => {
                let data = &p["data"];
                let ids = p["ids"].as_array().map_or(0, |a| a.iter().filter_map(Value::as_i64).count());
                let record = serde_json::to_string(&data["record"]).map_or(0, |s| s.len());
                ids + data["type"].as_str().map_or(0, str::len) + record
            }
            "presence_state" => p.as_object().map_or(0, |entries| {
                let mut n = 0;
                for (k, e) in entries {
                    n += k.len();
                    for m in e["metas"].as_array().into_iter().flatten() {
                        n += m["phx_ref"].as_str().map_or(0, str::len);
                        n += serde_json::to_string(m).map_or(0, |s| s.len());
                    }
                }
                n
            }),
            _ => 0,
        }
    }
}

#[cfg(feature = "serde-typed")]
pub mod serde_typed {
    use alloc::borrow::Cow;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    use serde::Deserialize;
    use serde_json::value::RawValue;

    /// Refs and topic are read (as every option reads them) though the job checks only the event.
    #[allow(dead_code)]
    #[derive(Deserialize)]
    struct Frame<'a>(
        #[serde(borrow)] Option<Cow<'a, str>>,
        #[serde(borrow)] Option<Cow<'a, str>>,
        #[serde(borrow)] Cow<'a, str>,
        #[serde(borrow)] Cow<'a, str>,
        #[serde(borrow)] &'a RawValue,
    );
    #[derive(Deserialize)]
    struct Reply<'a> {
        #[serde(borrow)]
        status: Cow<'a, str>,
    }
    #[derive(Deserialize)]
    struct Change<'a> {
        ids: Vec<i64>,
        #[serde(borrow)]
        data: Data<'a>,
    }
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(borrow, rename = "type")]
        kind: Cow<'a, str>,
        #[serde(borrow)]
        record: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Entry<'a> {
        #[serde(borrow)]
        metas: Vec<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct Meta<'a> {
        #[serde(borrow)]
        phx_ref: Cow<'a, str>,
    }

    pub fn run(frame: &str) -> usize {
        let Ok(Frame(_, _, _, event, p)) = serde_json::from_str::<Frame<'_>>(frame) else { return 0 };
        let p = p.get();
        match &*event {
            "phx_reply" => serde_json::from_str::<Reply<'_>>(p).map_or(0, |r| r.status.len()),
            "postgres_changes" => serde_json::from_str::<Change<'_>>(p)
                .map_or(0, |c| c.ids.len() + c.data.kind.len() + c.data.record.map_or(0, |r| r.get().len())),
            "presence_state" => serde_json::from_str::<BTreeMap<Cow<'_, str>, Entry<'_>>>(p).map_or(0, |entries| {
                let mut n = 0;
                for (k, e) in &entries {
                    n += k.len();
                    for m in &e.metas {
                        n += serde_json::from_str::<Meta<'_>>(m.get()).map_or(0, |m| m.phx_ref.len()) + m.get().len();
                    }
                }
                n
            }),
            _ => 0,
        }
    }
}

#[cfg(feature = "miniserde")]
pub mod miniserde {
    use miniserde::json::{self, Value};

    pub fn run(frame: &str) -> usize {
        let Ok(Value::Array(a)) = json::from_str::<Value>(frame) else { return 0 };
        let (Some(Value::String(event)), Some(Value::Object(p))) = (a.get(3), a.get(4)) else { return 0 };
        let str_len = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.len(),
            _ => 0,
        };
        match event.as_str() {
            "phx_reply" => str_len(p.get("status")),
            "postgres_changes" => {
                let Some(Value::Object(data)) = p.get("data") else { return 0 };
                let ids = match p.get("ids") {
                    Some(Value::Array(ids)) => ids.len(),
                    _ => 0,
                };
                ids + str_len(data.get("type")) + data.get("record").map_or(0, |r| json::to_string(r).len())
            }
            "presence_state" => {
                let mut n = 0;
                for (k, e) in p.iter() {
                    n += k.len();
                    let Value::Object(e) = e else { continue };
                    let Some(Value::Array(metas)) = e.get("metas") else { continue };
                    for m in metas.iter() {
                        let Value::Object(mo) = m else { continue };
                        n += str_len(mo.get("phx_ref")) + json::to_string(m).len();
                    }
                }
                n
            }
            _ => 0,
        }
    }
}
