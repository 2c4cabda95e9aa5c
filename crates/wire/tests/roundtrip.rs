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

fn opt_ref() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text(12))
}

fn json_payload() -> impl Strategy<Value = String> {
    value().prop_map(|v| v.to_json())
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
    fn integers_agree_with_rust(n in any::<i64>()) {
        prop_assert_eq!(json::int_of(&n.to_string()), Some(n));
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
