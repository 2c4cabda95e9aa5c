//! Checks shared by the fuzz targets.

use arbitrary::Arbitrary;
use authwire_wire::frame::{decode_text, encode, Frame, Payload, Side, Vsn, WireMsg};
use authwire_wire::json::{self, Value};

/// Re-encodes a frame as text with `vsn` from `side` and decodes it again.
fn text_round_trip(frame: &Frame, vsn: Vsn, side: Side) -> Frame {
    let Ok(WireMsg::Text(text)) = encode(frame, vsn, side) else {
        panic!("a JSON frame encodes as text: {frame:?}");
    };
    decode_text(&text, vsn).unwrap_or_else(|e| panic!("{text:?} written by encode does not decode: {e:?}"))
}

/// A text frame of `vsn`: decoding never panics, and whatever decodes has a valid JSON payload
/// and survives re-encoding in either serializer from either side (V1's server frames drop
/// `join_ref`).
pub fn check_text_frame(data: &[u8], vsn: Vsn) {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let Ok(frame) = decode_text(text, vsn) else { return };
    let Payload::Json(payload) = &frame.payload else { panic!("a text frame has a JSON payload") };
    assert!(json::validate(payload).is_ok(), "payload {payload:?} is not JSON");
    for v in [Vsn::V1, Vsn::V2] {
        assert_eq!(text_round_trip(&frame, v, Side::Client), frame);
    }
    assert_eq!(text_round_trip(&frame, Vsn::V2, Side::Server), frame);
    assert_eq!(text_round_trip(&frame, Vsn::V1, Side::Server), Frame { join_ref: None, ..frame.clone() });
}

/// An arbitrary JSON document (numbers as integer or decimal-exponent text).
#[derive(Arbitrary, Debug)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// `<int>.<frac>e<exp>`
    Dec(i32, u16, i8),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object (duplicate keys allowed).
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The value this stands for.
    pub fn value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => Value::Num(n.to_string()),
            Json::Dec(i, f, e) => Value::Num(format!("{i}.{f}e{e}")),
            Json::Str(s) => Value::Str(s.clone()),
            Json::Arr(a) => Value::Arr(a.iter().map(Json::value).collect()),
            Json::Obj(m) => Value::Obj(m.iter().map(|(k, v)| (k.clone(), v.value())).collect()),
        }
    }
    /// How many arrays and objects deep it nests (the readers refuse more than
    /// [`json::MAX_DEPTH`]).
    pub fn depth(&self) -> usize {
        match self {
            Json::Arr(a) => 1 + a.iter().map(Json::depth).max().unwrap_or(0),
            Json::Obj(m) => 1 + m.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
    /// Its compact JSON text.
    pub fn text(&self) -> String {
        self.value().to_json()
    }
}
