//! Property tests: what the encoders write, the decoders read back unchanged, for arbitrary
//! refs, topics, events and payloads (unicode, quotes, control characters, the 255-byte edge).

use authwire_wire::frame::{decode, encode, EncodeError, Frame, Payload, Side, UserBroadcast, UserData, Vsn, WireMsg};
use authwire_wire::json::{self, Value};
use authwire_wire::jwt::{b64url_decode, b64url_encode};
use proptest::prelude::*;

/// Any string up to `max` bytes, biased towards the characters that need escaping.
fn text(max: usize) -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        4 => any::<char>(),
        2 => prop::sample::select(vec!['"', '\\', '\n', '\u{0}', '\u{1f}', '/', '\u{7f}', 'é', '😀', '\u{2028}']),
        4 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(chars, 0..max).prop_map(move |cs| {
        let mut s: String = cs.into_iter().collect();
        while s.len() > max {
            s.pop();
        }
        s
    })
}

/// Any JSON value; numbers are written as decimal text (the module never makes floats).
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Num(n.to_string())),
        (any::<i32>(), 0u32..1000, -20i32..20).prop_map(|(i, f, e)| Value::Num(format!("{i}.{f}e{e}"))),
        text(24).prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Arr),
            prop::collection::vec((text(12), inner), 0..6).prop_map(Value::Obj),
        ]
    })
}

/// A string of exactly `len` bytes (escapable and multi-byte characters, padded with ASCII).
fn text_of_len(len: usize) -> impl Strategy<Value = String> {
    text(len).prop_map(move |mut s| {
        while s.len() < len {
            s.push('x');
        }
        s
    })
}

fn opt_ref() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text(12))
}

fn json_payload() -> impl Strategy<Value = String> {
    value().prop_map(|v| v.to_json())
}

/// The header fields of each binary layout: (kind, sender, field).
const EDGE_FIELDS: [(u8, Side, &str); 21] = [
    (0, Side::Client, "join_ref"),
    (0, Side::Client, "ref"),
    (0, Side::Client, "topic"),
    (0, Side::Client, "event"),
    (0, Side::Server, "join_ref"),
    (0, Side::Server, "topic"),
    (0, Side::Server, "event"),
    (1, Side::Server, "join_ref"),
    (1, Side::Server, "ref"),
    (1, Side::Server, "topic"),
    (1, Side::Server, "status"),
    (2, Side::Server, "topic"),
    (2, Side::Server, "event"),
    (3, Side::Client, "join_ref"),
    (3, Side::Client, "ref"),
    (3, Side::Client, "topic"),
    (3, Side::Client, "event"),
    (3, Side::Client, "metadata"),
    (4, Side::Server, "topic"),
    (4, Side::Server, "event"),
    (4, Side::Server, "metadata"),
];

/// A frame of binary `kind` from `side` with short fields except `field`, which holds `long`
/// (metadata, which must stay JSON, becomes a string literal of the same length).
fn edge_frame(kind: u8, side: Side, field: &str, long: String) -> Frame {
    let short = |s: &str| Some(s.to_string());
    let (join_ref, msg_ref, event, payload) = match (kind, side) {
        (0, Side::Client) => (short("1"), short("2"), "e", Payload::Binary(vec![7])),
        (0, Side::Server) => (short("1"), None, "e", Payload::Binary(vec![7])),
        (1, _) => (short("1"), short("2"), "phx_reply", Payload::BinaryReply { status: "ok".into(), data: vec![7] }),
        (2, _) => (None, None, "e", Payload::Binary(vec![7])),
        _ => {
            let ub = UserBroadcast { event: "e".into(), metadata: String::new(), data: UserData::Binary(vec![7]) };
            let refs = if side == Side::Client { (short("1"), short("2")) } else { (None, None) };
            (refs.0, refs.1, "broadcast", Payload::UserBroadcast(ub))
        }
    };
    let mut f = Frame { join_ref, msg_ref, topic: "realtime:t".into(), event: event.into(), payload };
    match (&mut f.payload, field) {
        (_, "join_ref") => f.join_ref = Some(long),
        (_, "ref") => f.msg_ref = Some(long),
        (_, "topic") => f.topic = long,
        (Payload::BinaryReply { status, .. }, "status") => *status = long,
        (Payload::UserBroadcast(ub), "event") => ub.event = long,
        (Payload::UserBroadcast(ub), "metadata") => ub.metadata = format!("\"{}\"", "m".repeat(long.len() - 2)),
        (_, "event") => f.event = long,
        _ => unreachable!("{field}"),
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn v2_text_frames_round_trip(join_ref in opt_ref(), msg_ref in opt_ref(), topic in text(300), event in text(300), payload in json_payload()) {
        let f = Frame { join_ref, msg_ref, topic, event, payload: Payload::Json(payload) };
        for side in [Side::Client, Side::Server] {
            let msg = encode(&f, Vsn::V2, side).unwrap();
            prop_assert_eq!(decode(&msg, Vsn::V2, side).unwrap(), f.clone());
        }
    }

    #[test]
    fn v1_frames_round_trip(join_ref in opt_ref(), msg_ref in opt_ref(), topic in text(64), event in text(64), payload in json_payload()) {
        let f = Frame { join_ref, msg_ref, topic, event, payload: Payload::Json(payload) };
        let client = encode(&f, Vsn::V1, Side::Client).unwrap();
        prop_assert_eq!(decode(&client, Vsn::V1, Side::Client).unwrap(), f.clone());
        // The V1 server serializer never sends join_ref.
        let server = encode(&f, Vsn::V1, Side::Server).unwrap();
        let back = decode(&server, Vsn::V1, Side::Server).unwrap();
        prop_assert_eq!(back, Frame { join_ref: None, ..f });
    }

    #[test]
    fn binary_user_broadcasts_round_trip(
        join_ref in opt_ref(), msg_ref in opt_ref(), topic in text(280), event in text(280),
        meta in prop::option::of(json_payload()), json in any::<bool>(), data in json_payload(), bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let meta = meta.filter(|m| m.starts_with('{')).unwrap_or_default();
        let user = if json { UserData::Json(data) } else { UserData::Binary(bytes) };
        let ub = UserBroadcast { event, metadata: meta, data: user };
        for side in [Side::Client, Side::Server] {
            // Refs exist only on the client's kind 3; the server's kind 4 has none.
            let (jr, mr) = if side == Side::Client { (join_ref.clone().filter(|s| !s.is_empty()), msg_ref.clone().filter(|s| !s.is_empty())) } else { (None, None) };
            let f = Frame { join_ref: jr, msg_ref: mr, topic: topic.clone(), event: "broadcast".into(), payload: Payload::UserBroadcast(ub.clone()) };
            match encode(&f, Vsn::V2, side) {
                Ok(msg) => prop_assert_eq!(decode(&msg, Vsn::V2, side).unwrap(), f),
                // Over 255 bytes is refused, never truncated.
                Err(EncodeError::FieldTooLong { len, .. }) => prop_assert!(len > 255),
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
    }

    #[test]
    fn binary_pushes_round_trip(join_ref in opt_ref(), msg_ref in opt_ref(), topic in text(100), event in text(100), data in prop::collection::vec(any::<u8>(), 0..64)) {
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        // Client kind 0 carries both refs; the server's kind 0 only a join_ref, kind 2 neither.
        let f = Frame { join_ref: nonempty(join_ref.clone()), msg_ref: nonempty(msg_ref), topic: topic.clone(), event: event.clone(), payload: Payload::Binary(data.clone()) };
        let msg = encode(&f, Vsn::V2, Side::Client).unwrap();
        prop_assert_eq!(decode(&msg, Vsn::V2, Side::Client).unwrap(), f);
        let f = Frame { join_ref: nonempty(join_ref), msg_ref: None, topic, event, payload: Payload::Binary(data) };
        let msg = encode(&f, Vsn::V2, Side::Server).unwrap();
        prop_assert_eq!(decode(&msg, Vsn::V2, Side::Server).unwrap(), f);
    }

    #[test]
    fn binary_replies_round_trip(join_ref in opt_ref(), msg_ref in opt_ref(), topic in text(100), status in text(20), data in prop::collection::vec(any::<u8>(), 0..64)) {
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        // Kind 1 flows from the server only, and its event is always phx_reply.
        let f = Frame { join_ref: nonempty(join_ref), msg_ref: nonempty(msg_ref), topic, event: "phx_reply".into(), payload: Payload::BinaryReply { status, data } };
        let msg = encode(&f, Vsn::V2, Side::Server).unwrap();
        prop_assert_eq!(decode(&msg, Vsn::V2, Side::Server).unwrap(), f.clone());
        prop_assert_eq!(encode(&f, Vsn::V2, Side::Client), Err(EncodeError::WrongDirection));
        prop_assert_eq!(encode(&f, Vsn::V1, Side::Server), Err(EncodeError::BinaryOnV1));
    }

    /// Every one-byte-length header field of kinds 0–4 at exactly 255 bytes round-trips, and at
    /// 256 bytes is refused with its name (never truncated).
    #[test]
    fn header_fields_at_the_255_byte_edge(which in 0..EDGE_FIELDS.len(), at_limit in text_of_len(255), over in text_of_len(256)) {
        let (kind, side, field) = EDGE_FIELDS[which];
        for (long, fits) in [(at_limit, true), (over, false)] {
            let n = long.len();
            let f = edge_frame(kind, side, field, long);
            match encode(&f, Vsn::V2, side) {
                Ok(msg) if fits => prop_assert_eq!(decode(&msg, Vsn::V2, side).unwrap(), f),
                r => prop_assert_eq!(r, Err(EncodeError::FieldTooLong { field, len: n }), "kind {} field {} len {}", kind, field, n),
            }
        }
    }

    #[test]
    fn strings_round_trip(s in text(200)) {
        let mut out = String::new();
        json::write_str(&mut out, &s);
        prop_assert_eq!(json::parse(&out).unwrap(), Value::Str(s));
    }

    #[test]
    fn values_round_trip_and_agree_with_validate(v in value()) {
        let text = v.to_json();
        prop_assert_eq!(json::parse(&text).unwrap(), v);
        prop_assert!(json::validate(&text).is_ok());
    }

    #[test]
    fn parse_and_validate_agree_on_any_input(s in "\\PC{0,40}") {
        prop_assert_eq!(json::parse(&s).is_ok(), json::validate(&s).is_ok());
    }

    #[test]
    fn integers_agree_with_rust(n in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -1000i64..1000], frac in "[0-9]{1,30}") {
        prop_assert_eq!(json::int_of(&n.to_string()), Some(n));
        // The integer part of a decimal or an exponent form is the integer (truncated).
        prop_assert_eq!(json::int_of(&format!("{n}.{frac}")), Some(n));
        prop_assert_eq!(json::int_of(&format!("{n}.{frac}e0")), Some(n));
        prop_assert_eq!(json::int_of(&format!("{n}{frac}e-{}", frac.len())), Some(n));
    }

    #[test]
    fn integer_text_agrees_with_rust(s in "-?[0-9]{1,22}") {
        prop_assert_eq!(json::int_of(&s), s.parse::<i64>().ok());
    }

    #[test]
    fn base64url_round_trips(data in prop::collection::vec(any::<u8>(), 0..100)) {
        prop_assert_eq!(b64url_decode(&b64url_encode(&data)).unwrap(), data);
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), s in "\\PC{0,64}") {
        for side in [Side::Client, Side::Server] {
            let _ = decode(&WireMsg::Binary(bytes.clone()), Vsn::V2, side);
        }
        for vsn in [Vsn::V1, Vsn::V2] {
            let _ = decode(&WireMsg::Text(s.clone()), vsn, Side::Server);
        }
    }
}
